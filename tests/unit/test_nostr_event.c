/* test_nostr_event.c — events: the nostr-tools fixtures, truncated prefixes, canonical serialisation, API. */
#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/event.h"
#include "nostr/verify.h"
#include "nostr_fixtures.h"

#define EVENTS "tests/fixtures/nostr/events.jsonl"
#define EXPECT "tests/fixtures/nostr/events.expect"

static struct nostr_ctx *ctx;
static struct nostr_verifier *ver;

static void setup(void)
{
	ctx = nostr_ctx_new();
	ck_assert_ptr_nonnull(ctx);
	ver = nostr_verifier_new(ctx);
	ck_assert_ptr_nonnull(ver);
}

static void teardown(void)
{
	nostr_verifier_free(ver);
	nostr_ctx_free(ctx);
}

/* Every fixture line gets the verdict, the id and the reason (prefix) nostr-tools' generator expects. */
START_TEST(test_fixtures)
{
	struct lines ev, ex;
	lines_read(&ev, EVENTS);
	lines_read(&ex, EXPECT);
	ck_assert_uint_eq(ev.n, ex.n);
	ck_assert_uint_ge(ev.n, 150);
	size_t n_valid = 0;
	for (size_t i = 0; i < ev.n; i++) {
		char *f[4];
		ck_assert_int_eq(split_tabs(ex.line[i], f, 4), 4);
		struct nostr_err err = { 0 };
		char why[256], id[65] = "-";
		int rc = nostr_verifier_text(ver, ev.line[i], ev.len[i], &err);
		const struct nostr_event *e = nostr_verifier_event(ver);
		if (e->have_id)
			hex_encode(e->id, 32, id);
		nostr_err_str(&err, why, sizeof(why));
		ck_assert_msg(strcmp(f[0], rc == 0 ? "valid" : "invalid") == 0, "%s: want %s, got %s (%s)", f[3], f[0],
			      rc == 0 ? "valid" : "invalid", rc == 0 ? "" : why);
		ck_assert_msg(strcmp(f[1], id) == 0, "%s: want id %s, got %s", f[3], f[1], id);
		if (rc < 0)
			ck_assert_msg(strncmp(why, f[2], strlen(f[2])) == 0, "%s: want reason '%s...', got '%s'", f[3], f[2],
				      why);
		n_valid += rc == 0;
	}
	ck_assert_uint_ge(n_valid, 60);
	lines_free(&ev);
	lines_free(&ex);
}
END_TEST

/* Every prefix of a valid event that stops before its closing brace is rejected as not JSON. */
START_TEST(test_truncated_prefixes)
{
	struct lines ev, ex;
	struct json_doc doc;
	struct nostr_event e;
	json_doc_init(&doc);
	nostr_event_init(&e);
	lines_read(&ev, EVENTS);
	lines_read(&ex, EXPECT);
	size_t checked = 0;
	for (size_t i = 0; i < ev.n; i++) {
		if (strncmp(ex.line[i], "valid\t", 6) != 0)
			continue;
		const char *close = memrchr(ev.line[i], '}', ev.len[i]);
		ck_assert_ptr_nonnull(close);
		size_t full = (size_t)(close - ev.line[i]) + 1;
		/* big lines: every 61st prefix plus the last 300, to keep this quadratic walk short */
		for (size_t n = 0; n < full; n += (full > 8192 && n + 300 < full) ? 61 : 1) {
			char *copy = malloc(n ? n : 1); /* exactly n bytes, so ASan sees any over-read */
			memcpy(copy, ev.line[i], n);
			struct nostr_err err = { 0 };
			ck_assert_int_eq(nostr_event_parse(&e, &doc, copy, n, &err), -1);
			ck_assert_msg(err.code == NOSTR_E_NOT_JSON, "line %zu prefix %zu: code %d", i + 1, n, err.code);
			ck_assert_int_eq(nostr_verifier_text(ver, copy, n, &err), -1);
			free(copy);
			checked++;
		}
		struct nostr_err err = { 0 };
		ck_assert_int_eq(nostr_event_parse(&e, &doc, ev.line[i], full, &err), 0);
	}
	ck_assert_uint_gt(checked, 20000);
	json_doc_free(&doc);
	nostr_event_free(&e);
	lines_free(&ev);
	lines_free(&ex);
}
END_TEST

static void parse_ok(struct nostr_event *e, struct json_doc *doc, const char *text)
{
	struct nostr_err err = { 0 };
	char why[200];
	ck_assert_msg(nostr_event_parse(e, doc, text, strlen(text), &err) == 0, "%s: %s", text,
		      nostr_err_str(&err, why, sizeof(why)));
}

#define PK "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define ID "0000000000000000000000000000000000000000000000000000000000000001"
#define SIG ID ID

/* The canonical form: NIP-01's escapes, \u00xx for the other control characters, everything else raw. */
START_TEST(test_canonical_serialisation)
{
	struct json_doc doc;
	struct nostr_event e;
	struct buf b;
	json_doc_init(&doc);
	nostr_event_init(&e);
	buf_init(&b);
	parse_ok(&e, &doc,
		 "{\"content\":\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \\\"\\\\\\/\\u007f\\u2028\\u2029\\u00e9\\ud83c\\udf89\","
		 "\"tags\":[[\"e\",\"\\u0000x\"],[]],\"kind\":7,\"created_at\":0,\"id\":\"" ID "\",\"pubkey\":\"" PK
		 "\",\"sig\":\"" SIG "\",\"extra\":[1,{\"a\":null}]}");
	ck_assert_uint_eq(e.content.len, 14 + 12);
	ck_assert_int_eq(e.content.s[0], 0); /* U+0000 kept, length explicit */
	nostr_event_serialize(&e, &b);
	const char want[] = "[0,\"" PK "\",0,7,[[\"e\",\"\\u0000x\"],[]],"
			    "\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \\\"\\\\/\x7f\xe2\x80\xa8\xe2\x80\xa9\xc3\xa9\xf0\x9f\x8e\x89\"]";
	ck_assert_uint_eq(b.len, sizeof(want) - 1);
	ck_assert_mem_eq(b.data, want, b.len);
	buf_reset(&b);
	nostr_event_tags_json(&e, &b);
	ck_assert_str_eq(b.data, "[[\"e\",\"\\u0000x\"],[]]");
	ck_assert_uint_eq(e.n_tags, 2);
	ck_assert_uint_eq(e.tags[0].items[1].len, 2);
	ck_assert_uint_eq(e.tags[1].n, 0);
	ck_assert_int_eq(nostr_event_find_tag(&e, "e"), 0);
	ck_assert_int_eq(nostr_event_find_tag(&e, "p"), -1);
	ck_assert_ptr_null(nostr_event_tag_item(&e, 1, 0));
	ck_assert_uint_eq(nostr_event_tag_item(&e, 0, 0)->len, 1);
	buf_free(&b);
	json_doc_free(&doc);
	nostr_event_free(&e);
}
END_TEST

/* to_json then parse gives the same event; copy is deep. */
START_TEST(test_roundtrip_and_copy)
{
	struct lines ev;
	struct json_doc doc;
	struct nostr_event a, b, c;
	struct buf out;
	json_doc_init(&doc);
	nostr_event_init(&a);
	nostr_event_init(&b);
	nostr_event_init(&c);
	buf_init(&out);
	lines_read(&ev, EVENTS);
	size_t done = 0;
	for (size_t i = 0; i < ev.n; i++) {
		struct nostr_err err;
		if (nostr_verifier_text(ver, ev.line[i], ev.len[i], &err) < 0)
			continue;
		ck_assert_int_eq(nostr_event_copy(&a, nostr_verifier_event(ver)), 0);
		buf_reset(&out);
		nostr_event_to_json(&a, &out);
		ck_assert_int_eq(nostr_event_parse(&b, &doc, out.data, out.len, &err), 0);
		ck_assert_int_eq(nostr_verifier_check(ver, &b, &err), 0);
		ck_assert_int_eq(nostr_event_verify(ctx, &b, &err), 0);
		ck_assert_mem_eq(a.id, b.id, 32);
		ck_assert_uint_eq(a.content.len, b.content.len);
		ck_assert_mem_eq(a.content.s, b.content.s, a.content.len);
		ck_assert_uint_eq(a.n_tags, b.n_tags);
		ck_assert_int_eq(nostr_event_copy(&c, &b), 0);
		nostr_event_free(&b);
		nostr_event_init(&b);
		ck_assert_int_eq(nostr_event_verify(ctx, &c, &err), 0);
		done++;
	}
	ck_assert_uint_ge(done, 60);
	lines_free(&ev);
	buf_free(&out);
	json_doc_free(&doc);
	nostr_event_free(&a);
	nostr_event_free(&b);
	nostr_event_free(&c);
}
END_TEST

static enum nostr_errc parse_code(const char *text, size_t len)
{
	struct json_doc doc;
	struct nostr_event e;
	struct nostr_err err = { 0 };
	json_doc_init(&doc);
	nostr_event_init(&e);
	int rc = nostr_event_parse(&e, &doc, text, len, &err);
	json_doc_free(&doc);
	nostr_event_free(&e);
	return rc == 0 ? NOSTR_OK : err.code;
}

START_TEST(test_size_cap)
{
	size_t n = NOSTR_EVENT_MAX_JSON + 1;
	char *big = malloc(n);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	ck_assert_int_eq(parse_code(big, n), NOSTR_E_TOO_LARGE);
	ck_assert_int_eq(parse_code(big, n - 1), NOSTR_E_NOT_JSON); /* '{' and spaces: unexpected end */
	ck_assert_int_eq(parse_code(big, n - 2), NOSTR_E_NOT_JSON);
	free(big);
}
END_TEST

/*
 * What parsing costs in memory is a small multiple of the input, whatever the shape: a 1 MiB event
 * of empty tags (16 bytes of tag structure per 3 bytes of JSON) and one of empty tag strings; and
 * a small event parsed next into the same scratch gives most of it back.
 */
START_TEST(test_parse_memory)
{
	static const char *const unit[] = { "[]", "[\"\"]", "[\"a\",\"\",\"\",\"\"]" };
	for (size_t u = 0; u < sizeof(unit) / sizeof(unit[0]); u++) {
		struct buf b;
		buf_init(&b);
		buf_printf(&b, "{\"id\":\"%064d\",\"pubkey\":\"%064d\",\"sig\":\"%0128d\",\"created_at\":1,"
			       "\"kind\":1,\"content\":\"\",\"tags\":[", 0, 0, 0);
		for (size_t k = 0; b.len + 40 < NOSTR_EVENT_MAX_JSON; k++)
			buf_printf(&b, "%s%s", k ? "," : "", unit[u]);
		buf_puts(&b, "]}");
		struct nostr_event ev;
		struct json_doc d;
		struct nostr_err err = { 0 };
		nostr_event_init(&ev);
		json_doc_init(&d);
		size_t before = mallinfo2().uordblks, peak;
		ck_assert_int_eq(nostr_event_parse(&ev, &d, b.data, b.len, &err), 0);
		peak = mallinfo2().uordblks - before;
		ck_assert_uint_gt(ev.n_tags, 50000);
		ck_assert_uint_le(peak, 24 * b.len); /* measured 8 to 17 times */
		ck_assert_int_eq(nostr_event_parse(&ev, &d, "{}", 2, &err), -1);
		const char *small = strstr(b.data, "[[") + 2;
		size_t small_len = (size_t)(small - b.data);
		memcpy(b.data + small_len, "]]}", 4); /* the same event with one tag */
		ck_assert_int_eq(nostr_event_parse(&ev, &d, b.data, small_len + 3, &err), 0);
		ck_assert_uint_eq(ev.n_tags, 1);
		ck_assert_uint_le(mallinfo2().uordblks - before, b.len / 4);
		nostr_event_free(&ev);
		json_doc_free(&d);
		buf_free(&b);
	}
}
END_TEST

/* Reasons are the same whatever the key order: fields are checked in a fixed order. */
START_TEST(test_reason_order)
{
	struct nostr_err err = { 0 };
	char why[200];
	const char *a = "{\"kind\":\"x\",\"sig\":1}";
	const char *b = "{\"sig\":1,\"kind\":\"x\"}";
	struct json_doc doc;
	struct nostr_event e;
	json_doc_init(&doc);
	nostr_event_init(&e);
	ck_assert_int_eq(nostr_event_parse(&e, &doc, a, strlen(a), &err), -1);
	ck_assert_str_eq(nostr_err_str(&err, why, sizeof(why)), "missing field id");
	ck_assert_int_eq(nostr_event_parse(&e, &doc, b, strlen(b), &err), -1);
	ck_assert_str_eq(nostr_err_str(&err, why, sizeof(why)), "missing field id");
	const char *c = "{\"id\":\"" ID "\",\"pubkey\":\"" PK "\",\"sig\":\"" SIG "\",\"kind\":1,\"created_at\":1.5}";
	ck_assert_int_eq(nostr_event_parse(&e, &doc, c, strlen(c), &err), -1);
	ck_assert_str_eq(nostr_err_str(&err, why, sizeof(why)),
			 "bad field created_at: expected an integer 0..9223372036854775807");
	ck_assert_int_eq(e.have_id, 1);
	const char *d = "[1,";
	ck_assert_int_eq(nostr_event_parse(&e, &doc, d, strlen(d), &err), -1);
	ck_assert_str_eq(nostr_err_str(&err, why, sizeof(why)), "not JSON: unexpected end of input at byte 3");
	ck_assert_int_eq(e.have_id, 0);
	json_doc_free(&doc);
	nostr_event_free(&e);
}
END_TEST

START_TEST(test_event_set)
{
	struct nostr_event e;
	struct nostr_err err = { 0 };
	nostr_event_init(&e);
	struct nostr_str t0[] = { { "d", 1 }, { "a\0b", 3 } };
	struct nostr_tag tags[] = { { t0, 2 }, { NULL, 0 } };
	ck_assert_int_eq(nostr_event_set(&e, 30166, 5, tags, 2, "x\0y", 3, &err), 0);
	ck_assert_uint_eq(e.content.len, 3);
	ck_assert_mem_eq(e.content.s, "x\0y", 4);
	ck_assert_uint_eq(e.tags[0].items[1].len, 3);
	/* tags pointing into the event itself are copied before the old storage goes */
	ck_assert_int_eq(nostr_event_set(&e, 1, 6, e.tags, e.n_tags, e.content.s, e.content.len, &err), 0);
	ck_assert_mem_eq(e.tags[0].items[1].s, "a\0b", 4);
	ck_assert_int_eq(nostr_event_set(&e, 65536, 0, NULL, 0, "", 0, &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_ARG);
	ck_assert_int_eq(nostr_event_set(&e, 1, -1, NULL, 0, "", 0, &err), -1);
	ck_assert_int_eq(nostr_event_set(&e, 1, 0, NULL, 0, "\xff", 1, &err), -1);
	ck_assert_str_eq(err.field, "content");
	ck_assert_int_eq(nostr_kind_is_ephemeral(20000), 1);
	ck_assert_int_eq(nostr_kind_is_ephemeral(30000), 0);
	ck_assert_int_eq(nostr_kind_is_addressable(30166), 1);
	ck_assert_int_eq(nostr_kind_is_replaceable(0), 1);
	ck_assert_int_eq(nostr_kind_is_replaceable(10002), 1);
	ck_assert_int_eq(nostr_kind_is_regular(1), 1);
	ck_assert_int_eq(nostr_kind_is_regular(3), 0);
	nostr_event_free(&e);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("nostr_event");
	TCase *tc = tcase_create("event");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_fixtures);
	tcase_add_test(tc, test_truncated_prefixes);
	tcase_add_test(tc, test_canonical_serialisation);
	tcase_add_test(tc, test_roundtrip_and_copy);
	tcase_add_test(tc, test_size_cap);
	tcase_add_test(tc, test_parse_memory);
	tcase_add_test(tc, test_reason_order);
	tcase_add_test(tc, test_event_set);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
