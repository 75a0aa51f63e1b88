/* test_monitor_doc.c — the monitor's pure parts: NIP-66 and TLS documents from check outcomes, reasons, prefixes, due bound, the write-test event. */
#include <check.h>
#include <openssl/sha.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "nostr/message.h"
#include "nostr/pow.h"
#include "nostr/verify.h"
#include "services/monitor_doc.h"
#include "services/monitor_signer.h"

static const char *doc_of(const struct monitor_outcome *o, unsigned char id[32])
{
	static struct buf b;
	buf_free(&b);
	buf_init(&b);
	ck_assert_int_eq(monitor_doc_build(o, &b, id), 0);
	return b.data;
}

START_TEST(doc_success_has_the_nip66_keys_only)
{
	struct monitor_outcome o;
	unsigned char id[32], want[32];
	monitor_outcome_init(&o);
	o.r.openable = o.r.readable = o.r.writable = 1;
	o.r.rtt_open = 87;
	o.r.rtt_read = 120;
	o.r.rtt_write = 9;
	const char *json = doc_of(&o, id);
	ck_assert_str_eq(json, "{\"openable\":true,\"readable\":true,\"rtt_open\":87,\"rtt_read\":120,\"rtt_write\":9,"
			       "\"writable\":true}");
	SHA256((const unsigned char *)json, strlen(json), want);
	ck_assert_mem_eq(id, want, 32); /* the id is the hash of exactly the stored bytes */
}
END_TEST

START_TEST(doc_failure_keeps_reasons_sorted)
{
	struct monitor_outcome o;
	unsigned char id[32];
	monitor_outcome_init(&o);
	o.r.openable = 0;
	monitor_fail_set(&o.open, "socks", "SOCKS: connection refused (0x05)");
	monitor_fail_set(&o.nip11, "timeout", "timeout: \"slow\"");
	ck_assert_str_eq(doc_of(&o, id), "{\"nip11_error\":\"timeout\",\"nip11_reason\":\"timeout: \\\"slow\\\"\","
					 "\"open_error\":\"socks\",\"open_reason\":\"SOCKS: connection refused (0x05)\","
					 "\"openable\":false}");
}
END_TEST

START_TEST(doc_partial_results_and_extras)
{
	struct monitor_outcome o;
	unsigned char id[32];
	monitor_outcome_init(&o);
	o.r.openable = 1;
	o.r.rtt_open = 3;
	o.r.readable = 0;
	snprintf(o.auth, sizeof(o.auth), "no-key");
	o.auth_required = 1;
	o.pow = 12;
	monitor_fail_set(&o.read, "auth-required", "CLOSED: auth-required: log in");
	monitor_fail_set(&o.write, "pow", "above max_pow");
	ck_assert_str_eq(doc_of(&o, id), "{\"auth\":\"no-key\",\"auth_required\":true,\"openable\":true,\"pow\":12,\"read_error\":\"auth-required\","
					 "\"read_reason\":\"CLOSED: auth-required: log in\",\"readable\":false,"
					 "\"rtt_open\":3,\"write_error\":\"pow\",\"write_reason\":\"above max_pow\"}");
}
END_TEST

START_TEST(doc_equal_outcomes_share_an_id)
{
	struct monitor_outcome a, b;
	unsigned char ida[32], idb[32];
	monitor_outcome_init(&a);
	monitor_outcome_init(&b);
	a.r.openable = b.r.openable = 0;
	monitor_fail_set(&a.open, "timeout", "timeout: no websocket upgrade within 10s");
	monitor_fail_set(&b.open, "timeout", "timeout: no websocket upgrade within 10s");
	doc_of(&a, ida);
	doc_of(&b, idb);
	ck_assert_mem_eq(ida, idb, 32);
	monitor_fail_set(&b.open, "timeout", "timeout: no websocket upgrade within 15s");
	doc_of(&b, idb);
	ck_assert_int_ne(memcmp(ida, idb, 32), 0);
	a.r.openable = 2; /* out of range: refused, nothing appended */
	struct buf out;
	buf_init(&out);
	ck_assert_int_eq(monitor_doc_build(&a, &out, ida), -1);
	buf_free(&out);
}
END_TEST

START_TEST(tls_doc_is_canonical_and_escaped)
{
	static struct net_tls_facts f; /* 9 KiB: not on the stack */
	memset(&f, 0, sizeof(f));
	snprintf(f.version, sizeof(f.version), "TLSv1.3");
	snprintf(f.cipher, sizeof(f.cipher), "TLS_AES_128_GCM_SHA256");
	snprintf(f.subject, sizeof(f.subject), "CN=relay \\\"q\\\"");
	snprintf(f.issuer, sizeof(f.issuer), "CN=ca");
	snprintf(f.sans[0], sizeof(f.sans[0]), "DNS:relay.example");
	snprintf(f.sans[1], sizeof(f.sans[1]), "IP:::1");
	f.n_sans = 2;
	f.not_before = 1700000000;
	f.not_after = 1800000000;
	snprintf(f.sha256, sizeof(f.sha256), "AB:CD");
	f.verified = 1;
	unsigned char id[32], want[32], id2[32];
	struct buf b;
	buf_init(&b);
	ck_assert_int_eq(monitor_tls_doc_build(&f, &b, id), 0);
	ck_assert_str_eq(b.data, "{\"cipher\":\"TLS_AES_128_GCM_SHA256\",\"issuer\":\"CN=ca\",\"not_after\":1800000000,"
				 "\"not_before\":1700000000,\"sans\":[\"DNS:relay.example\",\"IP:::1\"],\"sha256\":\"AB:CD\","
				 "\"subject\":\"CN=relay \\\\\\\"q\\\\\\\"\",\"verified\":true,\"version\":\"TLSv1.3\"}");
	SHA256((const unsigned char *)b.data, b.len, want);
	ck_assert_mem_eq(id, want, 32);
	f.verified = 0; /* another verdict, another document */
	snprintf(f.verify_error, sizeof(f.verify_error), "certificate has expired (depth 0)");
	f.sans_omitted = 3;
	buf_free(&b);
	buf_init(&b);
	ck_assert_int_eq(monitor_tls_doc_build(&f, &b, id2), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "\"sans_omitted\":3,\"sha256\""));
	ck_assert_ptr_nonnull(strstr(b.data, "\"verified\":false,\"verify_error\":\"certificate has expired (depth 0)\""));
	ck_assert_int_ne(memcmp(id, id2, 32), 0);
	buf_free(&b);
	/* days left: whole days, rounded down, negative once expired */
	ck_assert_int_eq(monitor_tls_days_left(&f, 1800000000 - 86400), 1);
	ck_assert_int_eq(monitor_tls_days_left(&f, 1800000000 - 86399), 0);
	ck_assert_int_eq(monitor_tls_days_left(&f, 1800000000), 0);
	ck_assert_int_eq(monitor_tls_days_left(&f, 1800000001), -1);
	ck_assert_int_eq(monitor_tls_days_left(&f, 1800000000 + 86400), -1);
	ck_assert_int_eq(monitor_tls_days_left(&f, 1800000000 + 86401), -2);
}
END_TEST

/* The facts published for a relay: only what the check observed. */
START_TEST(published_facts_are_observed_ones)
{
	struct monitor_outcome o;
	struct pub_relay_facts f;
	static const char doc[] = "{\"name\":\"r\",\"supported_nips\":[1,9,40],\"tags\":[\"music\"]}";
	monitor_outcome_init(&o);
	o.r.openable = o.r.readable = o.r.writable = 1;
	o.r.rtt_open = 10, o.r.rtt_read = 20, o.r.rtt_write = 30;
	snprintf(o.auth, sizeof(o.auth), "not-asked");
	o.nip77 = 1;
	o.pow = 8;
	pub_relay_facts_init(&f, "ws://r.example", "clearnet");
	monitor_pub_facts(&o, -1, doc, strlen(doc), 20166, &f);
	ck_assert_uint_eq(f.n_nips, 2); /* 11 served, 77 answered; the document's claims (1, 9, 40) are not ours */
	ck_assert_int_eq(f.nips[0], 11);
	ck_assert_int_eq(f.nips[1], 77);
	ck_assert_uint_eq(f.n_reqs, 4);
	ck_assert_str_eq(f.reqs[0], "!auth");
	ck_assert_str_eq(f.reqs[1], "!payment");
	ck_assert_str_eq(f.reqs[2], "!writes");
	ck_assert_str_eq(f.reqs[3], "pow");
	ck_assert_int_eq(f.kind_accepted, 20166);
	ck_assert_uint_eq(f.n_topics, 1);
	ck_assert_int_eq(f.rtt_write, 30);
	ck_assert_ptr_eq(f.content, doc);

	monitor_outcome_init(&o); /* auth required and accepted, the write refused for payment */
	o.r.openable = o.r.readable = 1, o.r.writable = 0;
	snprintf(o.auth, sizeof(o.auth), "accepted");
	o.auth_required = 1;
	monitor_fail_set(&o.write, "restricted", "OK false: restricted: pay the relay first");
	pub_relay_facts_init(&f, "ws://r.example", "clearnet");
	monitor_pub_facts(&o, 1, NULL, 0, 20166, &f);
	ck_assert_uint_eq(f.n_nips, 2); /* and the synchronizer's COUNT was answered */
	ck_assert_int_eq(f.nips[0], 42);
	ck_assert_int_eq(f.nips[1], 45);
	ck_assert_uint_eq(f.n_reqs, 3);
	ck_assert_str_eq(f.reqs[0], "auth");
	ck_assert_str_eq(f.reqs[1], "writes");
	ck_assert_str_eq(f.reqs[2], "payment");
	ck_assert_int_eq(f.kind_accepted, -1);
	ck_assert_int_eq(f.rtt_write, -1);
	ck_assert_ptr_null(f.content);

	monitor_outcome_init(&o); /* opened, nothing answered: no requirement is known */
	o.r.openable = 1, o.r.readable = 0;
	pub_relay_facts_init(&f, "ws://r.example", "clearnet");
	monitor_pub_facts(&o, 0, NULL, 0, 20166, &f);
	ck_assert_uint_eq(f.n_nips + f.n_reqs, 0);
}
END_TEST

START_TEST(text_is_made_storable)
{
	char out[16];
	monitor_text(out, sizeof(out), "ok\x01\n\x7f" "end", 8);
	ck_assert_str_eq(out, "ok???end");
	monitor_text(out, sizeof(out), "a\0b", 3); /* U+0000: PostgreSQL cannot store it */
	ck_assert_str_eq(out, "a?b");
	monitor_text(out, sizeof(out), "bad \xff\xfe utf8", 11);
	ck_assert_str_eq(out, "bad ?? utf8");
	monitor_text(out, 8, "abcde\xc3\xa9\xc3\xa9", 9); /* cut before a character that does not fit */
	ck_assert_str_eq(out, "abcde\xc3\xa9");
	monitor_text(out, 7, "abcde\xc3\xa9", 7);
	ck_assert_str_eq(out, "abcde");
	struct monitor_fail f;
	char longer[400];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	monitor_fail_set(&f, "closed", longer);
	ck_assert_uint_eq(strlen(f.reason), MONITOR_REASON_MAX);
}
END_TEST

START_TEST(prefixes_of_ok_and_closed)
{
	ck_assert_str_eq(monitor_msg_prefix("auth-required: log in", 21, "refused"), "auth-required");
	ck_assert_str_eq(monitor_msg_prefix("blocked:spam", 12, "rejected"), "blocked");
	ck_assert_str_eq(monitor_msg_prefix("rate-limited: slow down", 23, "rejected"), "rate-limited");
	ck_assert_str_eq(monitor_msg_prefix("pow: 20 bits", 12, "rejected"), "pow");
	ck_assert_str_eq(monitor_msg_prefix("pow", 3, "rejected"), "rejected");
	ck_assert_str_eq(monitor_msg_prefix("powerful: x", 11, "rejected"), "rejected");
	ck_assert_str_eq(monitor_msg_prefix("", 0, "refused"), "refused");
}
END_TEST

START_TEST(due_bound)
{
	long long hour = 3600000;
	/* start 10000.5 s, interval 1 h: due when generated at or before 10000.5 - 3240 = 6760.5 s */
	ck_assert_int_eq(monitor_checked_before(10000500, hour), 6761);
	/* --loop: the next pass starts one interval after this one; every snapshot of this one is due */
	int64_t start = 1795477813123LL, next = start + hour;
	ck_assert_int_lt(start / 1000, monitor_checked_before(next, hour));
	/* a timer that fires a few minutes early still finds them */
	ck_assert_int_lt(start / 1000, monitor_checked_before(next - 300000, hour));
	/* but a pass a quarter of an interval later does not */
	ck_assert_int_ge(start / 1000, monitor_checked_before(start + hour / 4, hour));
}
END_TEST

static struct nostr_ctx *nctx;
static struct nostr_key key;

static void setup(void)
{
	struct nostr_err err = { 0 };
	nctx = nostr_ctx_new();
	ck_assert_ptr_nonnull(nctx);
	ck_assert_int_eq(nostr_key_generate(nctx, &key, &err), 0);
}

static void teardown(void)
{
	nostr_key_wipe(&key);
	nostr_ctx_free(nctx);
}

/* Parses ["EVENT",{...}] back into ev and verifies it. */
static void parse_event_msg(const struct buf *msg, struct nostr_event *ev)
{
	struct json_doc d;
	struct nostr_err err = { 0 };
	json_doc_init(&d);
	ck_assert_int_eq(json_parse(&d, msg->data, msg->len, &err), 0);
	ck_assert_int_eq(d.tok[0].type, JSON_ARRAY);
	ck_assert(json_str_is(&d, &d.tok[1], "EVENT"));
	ck_assert_int_eq(nostr_event_from_json(ev, &d, d.tok[1].next, &err), 0);
	ck_assert_int_eq(nostr_event_verify(nctx, ev, &err), 0);
	json_doc_free(&d);
}

START_TEST(write_event_plain_and_mined)
{
	struct buf msg;
	unsigned char id[32];
	char err[128];
	struct nostr_event ev;
	nostr_event_init(&ev);
	buf_init(&msg);
	ck_assert_int_eq(monitor_write_event(nctx, &key, 20166, 1700000000, 0, NULL, &msg, id, err, sizeof(err)), 0);
	parse_event_msg(&msg, &ev);
	ck_assert_uint_eq(ev.kind, 20166);
	ck_assert_int_eq(ev.created_at, 1700000000);
	ck_assert_uint_eq(ev.n_tags, 0);
	ck_assert_mem_eq(ev.id, id, 32);
	ck_assert_mem_eq(ev.pubkey, key.pubkey, 32);
	ck_assert(strncmp(ev.content.s, "brotr monitor write test ", 25) == 0);
	buf_reset(&msg);
	ck_assert_int_eq(monitor_write_event(nctx, &key, 20166, 1700000000, 12, NULL, &msg, id, err, sizeof(err)), 0);
	parse_event_msg(&msg, &ev);
	ck_assert_uint_ge(nostr_pow_difficulty(ev.id), 12);
	ck_assert_mem_eq(ev.id, id, 32);
	ck_assert_int_ge(nostr_event_find_tag(&ev, "nonce"), 0);
	buf_reset(&msg);
	atomic_int cancel = 1;
	ck_assert_int_eq(monitor_write_event(nctx, &key, 20166, 1700000000, 30, &cancel, &msg, id, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "cancelled");
	nostr_event_free(&ev);
	buf_free(&msg);
}
END_TEST

START_TEST(signer_thread_hands_results_back)
{
	struct monitor_signer *s = monitor_signer_new(nctx, &key, 20166);
	int tokens[3];
	int seen[3] = { 0 };
	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(monitor_signer_submit(s, &tokens[i], (unsigned)(i * 4)), 0);
	for (int got = 0; got < 3;) {
		struct monitor_signed r;
		if (!monitor_signer_take(s, &r)) {
			monitor_signer_wait(s, 1000);
			continue;
		}
		int i = (int)((int *)r.token - tokens);
		ck_assert(r.ok);
		ck_assert_uint_eq(r.difficulty, (unsigned)(i * 4));
		ck_assert_uint_ge(nostr_pow_difficulty(r.id), r.difficulty);
		ck_assert_ptr_nonnull(strstr(r.msg, "\"kind\":20166"));
		seen[i]++;
		got++;
		free(r.msg);
	}
	ck_assert_int_eq(seen[0] + seen[1] + seen[2], 3);
	ck_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
	ck_assert_int_eq(monitor_signer_submit(s, &tokens[0], 40), 0); /* far too hard: cancelled at free */
	monitor_signer_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("monitor_doc");
	TCase *tc = tcase_create("doc");
	tcase_add_test(tc, doc_success_has_the_nip66_keys_only);
	tcase_add_test(tc, doc_failure_keeps_reasons_sorted);
	tcase_add_test(tc, doc_partial_results_and_extras);
	tcase_add_test(tc, doc_equal_outcomes_share_an_id);
	tcase_add_test(tc, tls_doc_is_canonical_and_escaped);
	tcase_add_test(tc, published_facts_are_observed_ones);
	tcase_add_test(tc, text_is_made_storable);
	tcase_add_test(tc, prefixes_of_ok_and_closed);
	tcase_add_test(tc, due_bound);
	suite_add_tcase(s, tc);
	tc = tcase_create("write");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, write_event_plain_and_mined);
	tcase_add_test(tc, signer_thread_hands_results_back);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
