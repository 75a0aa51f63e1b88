/* test_nostr_message.c — relay messages (parse, every truncated prefix), client messages, filters. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/keys.h"
#include "nostr/message.h"
#include "nostr/verify.h"
#include "nostr_fixtures.h"

#define ID "d8e6b935358445dddbf282aa2758f847f4280b25813e6c6347e9f68935d8b0eb"
#define PK "17162c921dc4d2518f9a101db33695df1afb56ab82f5ff3e5da6eec3ca5cd917"

static struct json_doc doc;
static struct nostr_msg msg;
static struct nostr_event ev;
static char first_event[4096];

static void setup(void)
{
	json_doc_init(&doc);
	nostr_msg_init(&msg);
	nostr_event_init(&ev);
	struct lines l;
	lines_read(&l, "tests/fixtures/nostr/events.jsonl"); /* line 1: the "basic" valid event */
	ck_assert_uint_lt(l.len[0], sizeof(first_event));
	memcpy(first_event, l.line[0], l.len[0] + 1);
	lines_free(&l);
}

static void teardown(void)
{
	json_doc_free(&doc);
	nostr_msg_free(&msg);
	nostr_event_free(&ev);
}

static int parse(const char *s, struct nostr_err *err)
{
	return nostr_msg_parse(&msg, &doc, &ev, s, strlen(s), err);
}

START_TEST(test_parse_each_type)
{
	struct nostr_err err = { 0 };
	char text[5000];
	snprintf(text, sizeof(text), "[\"EVENT\",\"sub-1\",%s]", first_event);
	ck_assert_int_eq(parse(text, &err), 0);
	ck_assert_int_eq(msg.type, NOSTR_MSG_EVENT);
	ck_assert_str_eq(msg.sub_id.s, "sub-1");
	ck_assert_str_eq(ev.content.s, "hello world");
	ck_assert_int_eq(parse(" [ \"EOSE\" , \"s\\u00e9\" ] ", &err), 0);
	ck_assert_int_eq(msg.type, NOSTR_MSG_EOSE);
	ck_assert_str_eq(msg.sub_id.s, "s\xc3\xa9");
	ck_assert_int_eq(parse("[\"OK\",\"" ID "\",true,\"\"]", &err), 0);
	ck_assert_int_eq(msg.type, NOSTR_MSG_OK);
	ck_assert_int_eq(msg.accepted, 1);
	ck_assert_uint_eq(msg.message.len, 0);
	ck_assert_int_eq(msg.event_id[0], 0xd8);
	ck_assert_int_eq(parse("[\"OK\",\"" ID "\",false,\"blocked: no \\\"spam\\\"\"]", &err), 0);
	ck_assert_int_eq(msg.accepted, 0);
	ck_assert_str_eq(msg.message.s, "blocked: no \"spam\"");
	ck_assert_int_eq(parse("[\"NOTICE\",\"slow down\"]", &err), 0);
	ck_assert_int_eq(msg.type, NOSTR_MSG_NOTICE);
	ck_assert_str_eq(msg.message.s, "slow down");
	ck_assert_int_eq(parse("[\"CLOSED\",\"sub-1\",\"auth-required: sign in\"]", &err), 0);
	ck_assert_int_eq(msg.type, NOSTR_MSG_CLOSED);
	ck_assert_str_eq(msg.sub_id.s, "sub-1");
	ck_assert_str_eq(msg.message.s, "auth-required: sign in");
	ck_assert_int_eq(parse("[\"AUTH\",\"challenge-\\u0000-x\"]", &err), 0);
	ck_assert_int_eq(msg.type, NOSTR_MSG_AUTH);
	ck_assert_uint_eq(msg.challenge.len, 13);
	ck_assert_int_eq(parse("[\"COUNT\",\"c\",{\"count\":238}]", &err), 0);
	ck_assert_int_eq(msg.type, NOSTR_MSG_COUNT);
	ck_assert_uint_eq(msg.count, 238);
	ck_assert_int_eq(msg.approximate, 0);
	ck_assert_int_eq(parse("[\"COUNT\",\"c\",{\"approximate\":true,\"count\":5,\"hll\":\"ab\"}]", &err), 0);
	ck_assert_int_eq(msg.approximate, 1);
	ck_assert_uint_eq(msg.count, 5);
	ck_assert_int_eq(parse("[\"NEG-MSG\",\"n-1\",\"6100000200\"]", &err), 0);
	ck_assert_int_eq(msg.type, NOSTR_MSG_NEG_MSG);
	ck_assert_str_eq(msg.sub_id.s, "n-1");
	ck_assert_str_eq(msg.message.s, "6100000200");
	ck_assert_int_eq(parse("[\"NEG-ERR\",\"n-1\",\"blocked: too big\"]", &err), 0);
	ck_assert_int_eq(msg.type, NOSTR_MSG_NEG_ERR);
	ck_assert_str_eq(msg.message.s, "blocked: too big");
}
END_TEST

START_TEST(test_parse_rejects)
{
	static const struct {
		const char *text;
		enum nostr_errc code;
	} bad[] = {
		{ "", NOSTR_E_NOT_JSON },
		{ "[\"EOSE\",\"s\"", NOSTR_E_NOT_JSON },
		{ "{\"EOSE\":\"s\"}", NOSTR_E_TYPE },
		{ "[]", NOSTR_E_TYPE },
		{ "[1,\"s\"]", NOSTR_E_TYPE },
		{ "[\"NEG-STATUS\",\"s\",\"00\"]", NOSTR_E_MESSAGE },
		{ "[\"NEG-MSG\",\"s\"]", NOSTR_E_MESSAGE },
		{ "[\"NEG-MSG\",\"s\",61]", NOSTR_E_MESSAGE },
		{ "[\"NEG-ERR\",\"\",\"blocked\"]", NOSTR_E_MESSAGE },
		{ "[\"eose\",\"s\"]", NOSTR_E_MESSAGE },
		{ "[\"EOSE\"]", NOSTR_E_MESSAGE },
		{ "[\"EOSE\",\"s\",\"extra\"]", NOSTR_E_MESSAGE },
		{ "[\"EOSE\",\"\"]", NOSTR_E_MESSAGE },
		{ "[\"EOSE\",1]", NOSTR_E_MESSAGE },
		{ "[\"EOSE\",\"12345678901234567890123456789012345678901234567890123456789012345\"]", NOSTR_E_MESSAGE },
		{ "[\"OK\",\"" ID "\",true]", NOSTR_E_MESSAGE },
		{ "[\"OK\",\"" ID "\",\"true\",\"\"]", NOSTR_E_MESSAGE },
		{ "[\"OK\",\"" ID "\",[true],\"\"]", NOSTR_E_MESSAGE },
		{ "[\"OK\",\"D8E6B935358445DDDBF282AA2758F847F4280B25813E6C6347E9F68935D8B0EB\",true,\"\"]", NOSTR_E_MESSAGE },
		{ "[\"OK\",\"" ID "\",true,null]", NOSTR_E_MESSAGE },
		{ "[\"NOTICE\",{}]", NOSTR_E_MESSAGE },
		{ "[\"CLOSED\",\"s\"]", NOSTR_E_MESSAGE },
		{ "[\"AUTH\",{\"kind\":22242}]", NOSTR_E_MESSAGE },
		{ "[\"COUNT\",\"c\",{\"count\":-1}]", NOSTR_E_MESSAGE },
		{ "[\"COUNT\",\"c\",{\"count\":1.5}]", NOSTR_E_MESSAGE },
		{ "[\"COUNT\",\"c\",{}]", NOSTR_E_MESSAGE },
		{ "[\"COUNT\",\"c\",[5]]", NOSTR_E_MESSAGE },
		{ "[\"COUNT\",\"c\",{\"count\":1,\"approximate\":1}]", NOSTR_E_MESSAGE },
		{ "[\"EVENT\",\"s\",{}]", NOSTR_E_MISSING },
		{ "[\"EVENT\",\"s\",[]]", NOSTR_E_TYPE },
		{ "[\"EVENT\",{},\"s\"]", NOSTR_E_MESSAGE },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nostr_err err = { 0 };
		char why[200];
		ck_assert_msg(parse(bad[i].text, &err) == -1, "accepted %s", bad[i].text);
		ck_assert_msg(err.code == bad[i].code, "%s: got %s", bad[i].text, nostr_err_str(&err, why, sizeof(why)));
	}
	struct nostr_err err = { 0 };
	ck_assert_int_eq(parse("[\"EVENT\",\"sub-9\",{\"id\":1}]", &err), -1);
	ck_assert_int_eq(msg.type, NOSTR_MSG_EVENT); /* attributable */
	ck_assert_str_eq(msg.sub_id.s, "sub-9");
	ck_assert_int_eq(parse("[\"NEG-STATUS\",\"s\",\"00\"]", &err), -1);
	ck_assert_int_eq(msg.type, NOSTR_MSG_UNKNOWN);
	ck_assert_str_eq(msg.message.s, "NEG-STATUS");
	/* 64 characters of 2 bytes each is a valid sub id */
	char text[400] = "[\"EOSE\",\"";
	for (int i = 0; i < 64; i++)
		strcat(text, "\xc3\xa9");
	strcat(text, "\"]");
	ck_assert_int_eq(parse(text, &err), 0);
	ck_assert_uint_eq(msg.sub_id.len, 128);
}
END_TEST

/* Every proper prefix of every valid message fails as not JSON (and never crashes or reads beyond). */
START_TEST(test_truncated_prefixes)
{
	char event_msg[5000];
	snprintf(event_msg, sizeof(event_msg), "[\"EVENT\",\"sub-1\",%s]", first_event);
	const char *valid[] = {
		event_msg, "[\"EOSE\",\"s\"]", "[\"OK\",\"" ID "\",true,\"duplicate: have it\"]", "[\"NOTICE\",\"n\"]",
		"[\"CLOSED\",\"s\",\"error: x\"]", "[\"AUTH\",\"c\"]", "[\"COUNT\",\"c\",{\"count\":12,\"approximate\":false}]",
		"[\"NEG-MSG\",\"n\",\"61\"]", "[\"NEG-ERR\",\"n\",\"closed: x\"]",
	};
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		size_t n = strlen(valid[i]);
		struct nostr_err err = { 0 };
		ck_assert_int_eq(nostr_msg_parse(&msg, &doc, &ev, valid[i], n, &err), 0);
		for (size_t k = 0; k < n; k++) {
			char *copy = malloc(k ? k : 1);
			memcpy(copy, valid[i], k);
			ck_assert_int_eq(nostr_msg_parse(&msg, &doc, &ev, copy, k, &err), -1);
			ck_assert_msg(err.code == NOSTR_E_NOT_JSON, "%s prefix %zu: code %d", valid[i], k, err.code);
			free(copy);
		}
	}
}
END_TEST

static void filter_sample(struct nostr_filter *f)
{
	struct nostr_err err = { 0 };
	unsigned char id[32], pk[32];
	nostr_filter_init(f);
	ck_assert_int_eq(hex_decode(ID, id, 32), 0);
	ck_assert_int_eq(hex_decode(PK, pk, 32), 0);
	ck_assert_int_eq(nostr_filter_add_id(f, id, &err), 0);
	ck_assert_int_eq(nostr_filter_add_author(f, pk, &err), 0);
	ck_assert_int_eq(nostr_filter_add_kind(f, 1, &err), 0);
	ck_assert_int_eq(nostr_filter_add_kind(f, 30023, &err), 0);
	ck_assert_int_eq(nostr_filter_add_tag(f, 'p', "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9",
					      64, &err), 0);
	ck_assert_int_eq(nostr_filter_add_tag(f, 'e', "5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36",
					      64, &err), 0);
	ck_assert_int_eq(nostr_filter_add_tag(f, 't', "a\"b", 3, &err), 0);
	f->since = 1600000000;
	f->has_since = 1;
	f->until = 1700000000;
	f->has_until = 1;
	f->limit = 500;
	f->has_limit = 1;
}

START_TEST(test_filter_json_roundtrip)
{
	struct nostr_filter f, g;
	struct buf a, b;
	struct nostr_err err = { 0 };
	buf_init(&a);
	buf_init(&b);
	filter_sample(&f);
	nostr_filter_json(&f, &a);
	ck_assert_str_eq(a.data, "{\"ids\":[\"" ID "\"],\"authors\":[\"" PK "\"],\"kinds\":[1,30023],"
				 "\"#p\":[\"f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9\"],"
				 "\"#e\":[\"5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36\"],"
				 "\"#t\":[\"a\\\"b\"],\"since\":1600000000,\"until\":1700000000,\"limit\":500}");
	ck_assert_int_eq(json_parse(&doc, a.data, a.len, &err), 0);
	nostr_filter_init(&g);
	ck_assert_int_eq(nostr_filter_from_json(&g, &doc, 0, &err), 0);
	nostr_filter_json(&g, &b);
	ck_assert_str_eq(a.data, b.data);
	nostr_filter_free(&g);
	buf_reset(&a);
	nostr_filter_json(&g, &a);
	ck_assert_str_eq(a.data, "{}");
	static const char *bad[] = {
		"{\"ids\":[\"" ID "0\"]}", "{\"ids\":\"" ID "\"}", "{\"kinds\":[65536]}", "{\"kinds\":[\"1\"]}",
		"{\"since\":-1}", "{\"limit\":1.5}", "{\"#ab\":[\"x\"]}", "{\"#1\":[\"x\"]}", "{\"#e\":[1]}",
		"{\"search\":\"x\"}", "{\"kinds\":[1],\"kinds\":[2]}", "{\"#e\":[],\"#e\":[]}", "[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(json_parse(&doc, bad[i], strlen(bad[i]), &err), 0);
		nostr_filter_init(&g);
		ck_assert_msg(nostr_filter_from_json(&g, &doc, 0, &err) == -1, "accepted %s", bad[i]);
		nostr_filter_free(&g);
	}
	ck_assert_int_eq(nostr_filter_add_tag(&g, '#', "x", 1, &err), -1);
	ck_assert_int_eq(nostr_filter_add_tag(&g, 'x', "\xff", 1, &err), -1);
	ck_assert_int_eq(nostr_filter_add_kind(&g, 70000, &err), -1);
	nostr_filter_free(&g);
	nostr_filter_free(&f);
	buf_free(&a);
	buf_free(&b);
}
END_TEST

START_TEST(test_filter_match)
{
	struct nostr_filter f, none;
	struct nostr_err err = { 0 };
	ck_assert_int_eq(nostr_event_parse(&ev, &doc, first_event, strlen(first_event), &err), 0);
	filter_sample(&f);
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 0); /* the #t tag is absent from the event */
	free((char *)f.tags[2].values[0].s);
	free(f.tags[2].values);
	f.n_tags = 2;
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 1);
	f.until = ev.created_at;
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 1); /* inclusive */
	f.until = ev.created_at - 1;
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 0);
	f.has_until = 0;
	f.since = ev.created_at + 1;
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 0);
	f.since = ev.created_at;
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 1);
	f.kinds[0] = 7;
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 0);
	f.kinds[1] = 1;
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 1);
	f.authors[0][0] ^= 1;
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 0);
	f.authors[0][0] ^= 1;
	f.ids[0][31] ^= 1;
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 0);
	f.ids[0][31] ^= 1;
	f.tags[0].letter = 'q';
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 0);
	f.tags[0].letter = 'p';
	ck_assert_int_eq(nostr_filter_match(&f, &ev), 1);
	/* an empty filter matches everything; an empty list matches nothing */
	nostr_filter_init(&none);
	ck_assert_int_eq(nostr_filter_match(&none, &ev), 1);
	none.has_kinds = 1;
	ck_assert_int_eq(nostr_filter_match(&none, &ev), 0);
	struct nostr_filter two[2] = { none, f };
	ck_assert_int_eq(nostr_filters_match(two, 2, &ev), 1);
	ck_assert_int_eq(nostr_filters_match(two, 1, &ev), 0);
	nostr_filter_free(&f);
}
END_TEST

START_TEST(test_build)
{
	struct buf b;
	struct nostr_err err = { 0 };
	struct nostr_filter f;
	buf_init(&b);
	nostr_filter_init(&f);
	ck_assert_int_eq(nostr_filter_add_kind(&f, 1, &err), 0);
	f.limit = 10;
	f.has_limit = 1;
	ck_assert_int_eq(nostr_build_req(&b, "sub\"1", &f, 1, &err), 0);
	ck_assert_str_eq(b.data, "[\"REQ\",\"sub\\\"1\",{\"kinds\":[1],\"limit\":10}]");
	buf_reset(&b);
	struct nostr_filter fs[2] = { f, f };
	ck_assert_int_eq(nostr_build_count(&b, "c", fs, 2, &err), 0);
	ck_assert_str_eq(b.data, "[\"COUNT\",\"c\",{\"kinds\":[1],\"limit\":10},{\"kinds\":[1],\"limit\":10}]");
	buf_reset(&b);
	ck_assert_int_eq(nostr_build_close(&b, "sub-1", &err), 0);
	ck_assert_str_eq(b.data, "[\"CLOSE\",\"sub-1\"]");
	ck_assert_int_eq(nostr_build_req(&b, "", &f, 1, &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_ARG);
	ck_assert_int_eq(nostr_build_req(&b, "s", &f, 0, &err), -1);
	ck_assert_int_eq(nostr_build_close(&b, "12345678901234567890123456789012345678901234567890123456789012345", &err),
			 -1);
	buf_reset(&b);
	ck_assert_int_eq(nostr_event_parse(&ev, &doc, first_event, strlen(first_event), &err), 0);
	ck_assert_int_eq(nostr_build_event(&b, &ev, &err), 0);
	/* nostr-tools wrote the fixture with the same key order as nostr_event_to_json */
	ck_assert_uint_eq(b.len, strlen(first_event) + 10);
	ck_assert_mem_eq(b.data, "[\"EVENT\",", 9);
	ck_assert_mem_eq(b.data + 9, first_event, strlen(first_event));
	buf_reset(&b);
	ck_assert_int_eq(nostr_build_auth(&b, &ev, &err), 0);
	ck_assert_mem_eq(b.data, "[\"AUTH\",{", 9);
	buf_reset(&b);
	ck_assert_int_eq(nostr_build_neg_open(&b, "n-1", &f, NOSTR_NEG_EMPTY_SET, &err), 0);
	ck_assert_str_eq(b.data, "[\"NEG-OPEN\",\"n-1\",{\"kinds\":[1],\"limit\":10},\"6100000200\"]");
	buf_reset(&b);
	ck_assert_int_eq(nostr_build_neg_close(&b, "n-1", &err), 0);
	ck_assert_str_eq(b.data, "[\"NEG-CLOSE\",\"n-1\"]");
	ck_assert_int_eq(nostr_build_neg_close(&b, "", &err), -1);
	nostr_filter_free(&f);
	buf_free(&b);
}
END_TEST

/* NIP-77 v1: the empty-set message is the version byte, then bound infinity (0, 0), IdList (2), 0 ids. */
START_TEST(test_neg_empty_set)
{
	static const unsigned char want[] = { NOSTR_NEG_V1, 0x00, 0x00, 0x02, 0x00 };
	char hex[2 * sizeof(want) + 1];
	hex_encode(want, sizeof(want), hex);
	ck_assert_str_eq(NOSTR_NEG_EMPTY_SET, hex);
}
END_TEST

/* The AUTH answer: kind 22242, the relay and challenge tags, verifiable, refused for a bad challenge. */
START_TEST(test_auth_event)
{
	struct nostr_ctx *ctx = nostr_ctx_new();
	struct nostr_key key;
	struct nostr_event a;
	struct nostr_err err = { 0 };
	nostr_event_init(&a);
	ck_assert_int_eq(nostr_key_generate(ctx, &key, &err), 0);
	ck_assert_int_eq(nostr_auth_event(ctx, &a, &key, "wss://relay.example/", "ch\"1", 4, 1700000000, &err), 0);
	ck_assert_uint_eq(a.kind, NOSTR_KIND_AUTH);
	ck_assert_int_eq(a.created_at, 1700000000);
	ck_assert_uint_eq(a.n_tags, 2);
	ck_assert_str_eq(nostr_event_tag_item(&a, (size_t)nostr_event_find_tag(&a, "relay"), 1)->s, "wss://relay.example/");
	ck_assert_str_eq(nostr_event_tag_item(&a, (size_t)nostr_event_find_tag(&a, "challenge"), 1)->s, "ch\"1");
	ck_assert_mem_eq(a.pubkey, key.pubkey, 32);
	ck_assert_int_eq(nostr_event_verify(ctx, &a, &err), 0);
	ck_assert_int_eq(nostr_auth_event(ctx, &a, &key, "wss://r/", "\xff", 1, 1700000000, &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_ARG);
	nostr_key_wipe(&key);
	nostr_event_free(&a);
	nostr_ctx_free(ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nostr_message");
	TCase *tc = tcase_create("message");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_parse_each_type);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_truncated_prefixes);
	tcase_add_test(tc, test_filter_json_roundtrip);
	tcase_add_test(tc, test_filter_match);
	tcase_add_test(tc, test_build);
	tcase_add_test(tc, test_neg_empty_set);
	tcase_add_test(tc, test_auth_event);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
