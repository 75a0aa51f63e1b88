/* test_nostr_json.c — the strict JSON layer: what it accepts, what it rejects and where, string decoding. */
#include <check.h>
#include <string.h>

#include "nostr/json.h"

static int parses(const char *s)
{
	struct json_doc d;
	struct nostr_err err = { 0 };
	json_doc_init(&d);
	int rc = json_parse(&d, s, strlen(s), &err);
	ck_assert(rc == 0 || err.code == NOSTR_E_NOT_JSON);
	json_doc_free(&d);
	return rc == 0;
}

START_TEST(test_accepts)
{
	static const char *ok[] = {
		"{}", "[]", " [ ] ", "0", "-0", "1.5", "-1.5e+10", "1E-3", "true", "false", "null", "\"\"",
		"\"\\u00e9\\uD83C\\uDF89\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}",
		"\t\r\n[1,\n2]\n", "\"\xc3\xa9\xe2\x80\xa8\xf0\x9f\x8e\x89\x7f\"", "{\"a\":1,\"a\":2}",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(parses(ok[i]), "rejected %s", ok[i]);
}
END_TEST

START_TEST(test_rejects)
{
	static const char *bad[] = {
		"", " ", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{\"a\"}", "{1:2}", "{\"a\":1 \"b\":2}", "[1 2]", "[01]",
		"[1.]", "[.5]", "[1e]", "[-]", "[+1]", "[tru]", "[nul]", "[True]", "[NaN]", "[Infinity]", "[0x1]",
		"[\"\\x\"]", "[\"\\u12\"]", "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "\"a", "[", "]",
		"{", "}", "[1]]", "[1] [2]", "{\"a\":1}}", "[\"\t\"]", "[\"\x01\"]", "[\"\xc3\"]", "[\"\xc0\xaf\"]",
		"[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]", "[\"\xff\"]", "['a']", "[a]", "{a:1}", "[,1]", "[1,,2]",
		"{,}", "{\"a\"::1}", "[\"a\":1]", "{\"a\",1}", "/* */[]", "[]x", "\xef\xbb\xbf[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!parses(bad[i]), "accepted %s", bad[i]);
	struct json_doc d;
	struct nostr_err err = { 0 };
	json_doc_init(&d);
	ck_assert_int_eq(json_parse(&d, "[1,\0]", 5, &err), -1);
	ck_assert_uint_eq(err.offset, 3);
	ck_assert_int_eq(json_parse(&d, "[1, 2 x]", 8, &err), -1);
	ck_assert_str_eq(err.detail, "expected ',' or ']'");
	ck_assert_uint_eq(err.offset, 6);
	json_doc_free(&d);
}
END_TEST

START_TEST(test_depth)
{
	char s[2 * JSON_MAX_DEPTH + 3];
	for (int depth = JSON_MAX_DEPTH; depth <= JSON_MAX_DEPTH + 1; depth++) {
		memset(s, '[', (size_t)depth);
		memset(s + depth, ']', (size_t)depth);
		s[2 * depth] = '\0';
		ck_assert_int_eq(parses(s), depth == JSON_MAX_DEPTH);
	}
}
END_TEST

/* Token layout: sizes, next, member lookup, integers, decoded strings (with U+0000 kept). */
START_TEST(test_tokens)
{
	const char *s = "{\"a\":[1,[2,3],\"x\"],\"b\\u0063\":-9223372036854775808,\"n\":\"\\u0000z\\ud83d\\ude00\","
			"\"big\":9223372036854775808,\"f\":1.0}";
	struct json_doc d;
	struct nostr_err err = { 0 };
	json_doc_init(&d);
	ck_assert_int_eq(json_parse(&d, s, strlen(s), &err), 0);
	ck_assert_int_eq(d.tok[0].type, JSON_OBJECT);
	ck_assert_uint_eq(d.tok[0].size, 5);
	ck_assert_uint_eq(d.tok[0].next, d.n_tok);
	size_t a = json_member(&d, 0, "a");
	ck_assert_int_eq(d.tok[a].type, JSON_ARRAY);
	ck_assert_uint_eq(d.tok[a].size, 3);
	ck_assert_uint_eq(d.tok[a + 2].size, 2);
	ck_assert_uint_eq(d.tok[a + 2].next, a + 5);
	int64_t v;
	size_t bc = json_member(&d, 0, "bc"); /* key written with an escape */
	ck_assert_uint_ne(bc, 0);
	ck_assert_int_eq(json_int(&d, &d.tok[bc], &v), 0);
	ck_assert(v == INT64_MIN);
	ck_assert_int_eq(json_int(&d, &d.tok[json_member(&d, 0, "big")], &v), -1);
	ck_assert_int_eq(json_int(&d, &d.tok[json_member(&d, 0, "f")], &v), -1);
	ck_assert_uint_eq(json_member(&d, 0, "missing"), 0);
	struct json_doc d2;
	json_doc_init(&d2);
	ck_assert_int_eq(json_parse(&d2, "{\"k\":1,\"k\":2}", 13, &err), 0);
	ck_assert_int_eq(json_int(&d2, &d2.tok[json_member(&d2, 0, "k")], &v), 0);
	ck_assert_int_eq(v, 2); /* the last duplicate counts */
	json_doc_free(&d2);
	size_t n = json_member(&d, 0, "n");
	char out[64];
	size_t len = json_str_decode(&d, &d.tok[n], out);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(out, "\0z\xf0\x9f\x98\x80", 6);
	ck_assert(json_str_eq(&d, &d.tok[n], "\0z\xf0\x9f\x98\x80", 6));
	ck_assert(!json_str_eq(&d, &d.tok[n], "\0z\xf0\x9f\x98", 5));
	ck_assert(!json_str_is(&d, &d.tok[n], ""));
	json_doc_free(&d);
}
END_TEST

START_TEST(test_write_str)
{
	struct buf b;
	buf_init(&b);
	char in[0x22];
	for (int i = 0; i < 0x20; i++)
		in[i] = (char)i;
	in[0x20] = '"';
	in[0x21] = '\\';
	json_write_str(&b, in, sizeof(in));
	ck_assert_str_eq(b.data, "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
				 "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
				 "\\u001d\\u001e\\u001f\\\"\\\\\"");
	buf_reset(&b);
	json_write_str(&b, "/\x7f\xe2\x80\xa8 \xf0\x9f\x8e\x89", 10);
	ck_assert_str_eq(b.data, "\"/\x7f\xe2\x80\xa8 \xf0\x9f\x8e\x89\"");
	buf_free(&b);
	ck_assert(utf8_valid("a\xc3\xa9", 3));
	ck_assert(!utf8_valid("a\xc3", 2));
	ck_assert(!utf8_valid("\xe0\x80\x80", 3));
}
END_TEST

/* Wide objects and arrays (jsmn runs with parent links, so this stays linear). */
START_TEST(test_wide)
{
	struct buf b;
	struct json_doc d;
	struct nostr_err err = { 0 };
	buf_init(&b);
	json_doc_init(&d);
	buf_putc(&b, '{');
	for (int i = 0; i < 60000; i++)
		buf_printf(&b, "%s\"k%d\":[%d,{}]", i ? "," : "", i, i);
	buf_putc(&b, '}');
	ck_assert_int_eq(json_parse(&d, b.data, b.len, &err), 0);
	ck_assert_uint_eq(d.tok[0].size, 60000);
	ck_assert_uint_eq(d.n_tok, 1 + 60000 * 4);
	size_t v = json_member(&d, 0, "k59999");
	int64_t n;
	ck_assert_int_eq(json_int(&d, &d.tok[v + 1], &n), 0);
	ck_assert_int_eq(n, 59999);
	json_doc_free(&d);
	buf_free(&b);
}
END_TEST

/* The work of a parse (bytes and tokens it went through, json_doc.work_), or 0 when it failed. */
static size_t work_of(const char *s, size_t n, int *ok)
{
	struct json_doc d;
	struct nostr_err err = { 0 };
	json_doc_init(&d);
	*ok = json_parse(&d, s, n, &err) == 0;
	size_t w = d.work_;
	json_doc_free(&d);
	return w;
}

/* Fills b with one of the shapes below, about n bytes long. */
enum shape { DEEP, DEEP_COLON, WIDE_ARRAY, WIDE_OBJECT, LONG_STRING, MAX_DEPTH_REPEATED, SHAPES };
static void make_shape(struct buf *b, enum shape sh, size_t n)
{
	buf_reset(b);
	switch (sh) {
	case DEEP: /* [[[...]]] far deeper than the limit */
		for (size_t i = 0; i < n / 2; i++)
			buf_putc(b, '[');
		for (size_t i = 0; i < n / 2; i++)
			buf_putc(b, ']');
		break;
	case DEEP_COLON: /* [1:1:1:...]: jsmn chains every token to the one before */
		buf_puts(b, "[1");
		for (size_t i = 0; i < n / 2; i++)
			buf_puts(b, ":1");
		buf_putc(b, ']');
		break;
	case WIDE_ARRAY:
		buf_putc(b, '[');
		for (size_t i = 0; i < n / 3; i++)
			buf_puts(b, i ? ",[]" : "[]");
		buf_putc(b, ']');
		break;
	case WIDE_OBJECT:
		buf_putc(b, '{');
		for (size_t i = 0; i < n / 8; i++)
			buf_puts(b, i ? ",\"a\":[1]" : "\"a\":[1]");
		buf_putc(b, '}');
		break;
	case LONG_STRING:
		buf_puts(b, "[\"");
		for (size_t i = 0; i < n; i++)
			buf_putc(b, i % 7 ? 'x' : ' ');
		buf_puts(b, "\"]");
		break;
	default: /* arrays JSON_MAX_DEPTH - 1 deep, one after another: every ']' walks the whole depth */
		buf_putc(b, '[');
		for (size_t k = 0; k * 2 * JSON_MAX_DEPTH < n; k++) {
			if (k)
				buf_putc(b, ',');
			for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
				buf_putc(b, '[');
			for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
				buf_putc(b, ']');
		}
		buf_putc(b, ']');
	}
}

/*
 * Parsing costs work linear in the input for every shape: 8 times the bytes cost at most 8 times
 * (plus a little) the work. Deep nesting and ':' chains are refused within the first JSON_MAX_DEPTH
 * bytes, before the tokeniser runs (it used to tokenise all of it, then walk back over every open
 * container at each ']': 1 MiB of "[[[...]]]" took minutes). No clock is read.
 */
START_TEST(test_linear)
{
	struct buf b;
	buf_init(&b);
	for (int sh = 0; sh < SHAPES; sh++) {
		int ok1, ok8;
		make_shape(&b, (enum shape)sh, 64 << 10);
		size_t w1 = work_of(b.data, b.len, &ok1), n1 = b.len;
		make_shape(&b, (enum shape)sh, 512 << 10);
		size_t w8 = work_of(b.data, b.len, &ok8), n8 = b.len;
		ck_assert_int_eq(ok1, ok8);
		ck_assert_int_eq(ok1, sh != DEEP && sh != DEEP_COLON);
		if (!ok1) {
			ck_assert_uint_le(w8, 2 * JSON_MAX_DEPTH);
			ck_assert_uint_eq(w1, w8);
			continue;
		}
		ck_assert_uint_ge(w1, n1);
		ck_assert_uint_le(w8, w1 * (n8 / n1 + 1));
		ck_assert_uint_le(w8, 3 * n8);
	}
	buf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nostr_json");
	TCase *tc = tcase_create("json");
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_accepts);
	tcase_add_test(tc, test_rejects);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_tokens);
	tcase_add_test(tc, test_write_str);
	tcase_add_test(tc, test_wide);
	tcase_add_test(tc, test_linear);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
