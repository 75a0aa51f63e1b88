/* test_publisher_event.c — NIP-66 events from observed facts: the 30166 tags, what the republishing hash covers, topics from NIP-11, the monitor's own events. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/publisher_event.h"

/* The event's tags as "name=value[,value]" joined by spaces. */
static const char *tags_of(const struct nostr_event *ev)
{
	static char out[4096];
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < ev->n_tags; i++) {
		const struct nostr_tag *t = &ev->tags[i];
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s=", i ? " " : "", (int)t->items[0].len, t->items[0].s);
		for (size_t j = 1; j < t->n; j++)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s", j > 1 ? "," : "", (int)t->items[j].len,
					      t->items[j].s);
	}
	return out;
}

static void facts(struct pub_relay_facts *f)
{
	pub_relay_facts_init(f, "wss://relay.example", "clearnet");
	f->rtt_open = 87, f->rtt_read = 120;
	f->nips[f->n_nips++] = 11, f->nips[f->n_nips++] = 77;
	f->reqs[f->n_reqs++] = "!auth";
	f->kind_accepted = 20166;
	f->content = "{\"name\":\"r\"}";
	f->content_len = strlen(f->content);
}

START_TEST(relay_event_tags_and_content)
{
	struct pub_relay_facts f;
	struct nostr_event ev;
	struct nostr_err e = { 0 };
	unsigned char h[32];
	facts(&f);
	snprintf(f.topics[f.n_topics++], sizeof(f.topics[0]), "cats");
	nostr_event_init(&ev);
	ck_assert_int_eq(pub_event_relay(&ev, &f, 1700000000, 1700010800, h, &e), 0);
	ck_assert_uint_eq(ev.kind, 30166);
	ck_assert_int_eq(ev.created_at, 1700000000);
	ck_assert_str_eq(tags_of(&ev), "d=wss://relay.example n=clearnet rtt-open=87 rtt-read=120 N=11 N=77 R=!auth "
				       "t=cats k=20166 expiration=1700010800");
	ck_assert_int_eq(ev.content.len, strlen(f.content));
	ck_assert_int_eq(memcmp(ev.content.s, f.content, ev.content.len), 0);
	nostr_event_free(&ev);
}
END_TEST

START_TEST(hash_leaves_out_rtts_and_expiration)
{
	struct pub_relay_facts a, b;
	struct nostr_event ev;
	struct nostr_err e = { 0 };
	unsigned char ha[32], hb[32];
	facts(&a);
	facts(&b);
	b.rtt_open = 300, b.rtt_write = 5;
	nostr_event_init(&ev);
	ck_assert_int_eq(pub_event_relay(&ev, &a, 1, 100, ha, &e), 0);
	ck_assert_int_eq(pub_event_relay(&ev, &b, 2, 200, hb, &e), 0);
	ck_assert_mem_eq(ha, hb, 32); /* times and timings alone: nothing to publish */
	b.reqs[b.n_reqs++] = "writes";
	ck_assert_int_eq(pub_event_relay(&ev, &b, 2, 200, hb, &e), 0);
	ck_assert_int_ne(memcmp(ha, hb, 32), 0);
	facts(&b);
	b.content = "{\"name\":\"s\"}";
	ck_assert_int_eq(pub_event_relay(&ev, &b, 2, 200, hb, &e), 0);
	ck_assert_int_ne(memcmp(ha, hb, 32), 0); /* a new NIP-11 document is news */
	nostr_event_free(&ev);
}
END_TEST

START_TEST(large_document_is_left_out)
{
	struct pub_relay_facts f;
	struct nostr_event ev;
	struct nostr_err e = { 0 };
	char *big = malloc(PUB_CONTENT_MAX + 16);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', PUB_CONTENT_MAX + 15);
	big[0] = '"', big[PUB_CONTENT_MAX + 14] = '"', big[PUB_CONTENT_MAX + 15] = '\0';
	facts(&f);
	f.content = big;
	f.content_len = strlen(big);
	nostr_event_init(&ev);
	ck_assert_int_eq(pub_event_relay(&ev, &f, 1, 100, NULL, &e), 0);
	ck_assert_uint_eq(ev.content.len, 0);
	nostr_event_free(&ev);
	free(big);
}
END_TEST

START_TEST(topics_from_nip11)
{
	struct pub_relay_facts f;
	char doc[600];
	char long_topic[PUB_TOPIC_MAX + 2];
	memset(long_topic, 'x', sizeof(long_topic) - 1);
	long_topic[sizeof(long_topic) - 1] = '\0';
	snprintf(doc, sizeof(doc), "{\"name\":\"n\",\"tags\":[\"music\",7,\"%s\",\"a\\nb\",\"\",\"caf\\u00e9\",[\"x\"]]}",
		 long_topic);
	pub_relay_facts_init(&f, "ws://r.example", "clearnet");
	pub_relay_facts_topics(&f, doc, strlen(doc));
	ck_assert_uint_eq(f.n_topics, 2); /* not a number, a 65-byte topic, a control character, "" or an array */
	ck_assert_str_eq(f.topics[0], "music");
	ck_assert_str_eq(f.topics[1], "caf\xc3\xa9");
	pub_relay_facts_topics(&f, "[1]", 3);
	ck_assert_uint_eq(f.n_topics, 0);
	pub_relay_facts_topics(&f, "{\"tags\":\"music\"}", 16);
	ck_assert_uint_eq(f.n_topics, 0);
}
END_TEST

START_TEST(monitor_events)
{
	struct pub_monitor_facts m = { .frequency_s = 3600, .n_timeouts = 2, .n_checks = 2, .n_networks = 2 };
	m.timeout_checks[0] = "open", m.timeout_ms[0] = 17000, m.timeout_checks[1] = "read", m.timeout_ms[1] = 15000;
	m.checks[0] = "open", m.checks[1] = "ssl";
	m.networks[0] = "clearnet", m.networks[1] = "tor";
	struct nostr_event ev;
	struct nostr_err e = { 0 };
	unsigned char h1[32], h2[32];
	nostr_event_init(&ev);
	ck_assert_int_eq(pub_event_monitor(&ev, &m, 5, h1, &e), 0);
	ck_assert_uint_eq(ev.kind, 10166);
	ck_assert_str_eq(tags_of(&ev), "frequency=3600 timeout=open,17000 timeout=read,15000 c=open c=ssl n=clearnet n=tor");
	m.frequency_s = 7200;
	ck_assert_int_eq(pub_event_monitor(&ev, &m, 5, h2, &e), 0);
	ck_assert_int_ne(memcmp(h1, h2, 32), 0);
	ck_assert_int_eq(pub_event_profile(&ev, "{\"name\":\"m\"}", 5, h1, &e), 0);
	ck_assert_uint_eq(ev.kind, 0);
	ck_assert_uint_eq(ev.n_tags, 0);
	const char *relays[] = { "wss://a.example", "ws://b.example" };
	ck_assert_int_eq(pub_event_relay_list(&ev, relays, 2, 5, h2, &e), 0);
	ck_assert_uint_eq(ev.kind, 10002);
	ck_assert_str_eq(tags_of(&ev), "r=wss://a.example r=ws://b.example");
	nostr_event_free(&ev);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("publisher_event");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, relay_event_tags_and_content);
	tcase_add_test(tc, hash_leaves_out_rtts_and_expiration);
	tcase_add_test(tc, large_document_is_left_out);
	tcase_add_test(tc, topics_from_nip11);
	tcase_add_test(tc, monitor_events);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
