/* test_nostr_nip11.c — NIP-11 documents (typed fields, dropped fields with notes, extras, canonical hash) and NIP-66 results. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/nip11.h"
#include "nostr/nip66.h"

#define DIR "tests/fixtures/nostr/nip11/"

static int load(struct nip11_doc *d, const char *path, struct nostr_err *err)
{
	char *text;
	size_t len;
	ck_assert_msg(read_file(path, 1 << 20, &text, &len) == 0, "cannot read %s", path);
	int rc = nip11_parse(d, text, len, err);
	free(text); /* the document keeps its own copy */
	return rc;
}

static int has_note(const struct nip11_doc *d, const char *part)
{
	for (size_t i = 0; i < d->n_notes && i < NIP11_MAX_NOTES; i++)
		if (strstr(d->notes[i], part))
			return 1;
	return 0;
}

START_TEST(test_full)
{
	struct nip11_doc d;
	struct nostr_err err = { 0 };
	nip11_init(&d);
	ck_assert_int_eq(load(&d, DIR "full.json", &err), 0);
	ck_assert_uint_eq(d.n_notes, 0);
	ck_assert_str_eq(d.name.s, "JellyFish");
	ck_assert_str_eq(d.description.s, "Stay Immortal!\n\nA relay.");
	ck_assert_str_eq(d.banner.s, "https://image.example.com/banner.jpg");
	ck_assert_str_eq(d.icon.s, "https://image.example.com/icon.png");
	ck_assert_str_eq(d.pubkey.s, "bf2bee5281149c7c350f5d12ae32f514c7864ff10805182f4178538c2c421007");
	ck_assert_str_eq(d.self.s, "aa4fc8665f5696e33db7e1a572e3b0f5b3d615837b0f362dcb1c8068b098c7b4");
	ck_assert_str_eq(d.contact.s, "mailto:admin@example.com");
	ck_assert_str_eq(d.software.s, "https://github.com/example/relay");
	ck_assert_str_eq(d.version.s, "v1.2.3");
	ck_assert_str_eq(d.privacy_policy.s, "https://example.com/privacy");
	ck_assert_str_eq(d.terms_of_service.s, "https://example.com/terms");
	ck_assert_str_eq(d.posting_policy.s, "https://example.com/posting");
	ck_assert_str_eq(d.payments_url.s, "https://example.com/pay");
	ck_assert_int_eq(d.has_supported_nips, 1);
	ck_assert_uint_eq(d.n_supported_nips, 9);
	ck_assert_int_eq(d.supported_nips[8], 77);
	ck_assert_int_eq(d.has_supported_nips_at, 1);
	ck_assert_int_eq(d.supported_nips_at, 1690848000);
	ck_assert_uint_eq(d.relay_countries.n, 2);
	ck_assert_str_eq(d.relay_countries.items[1].s, "US");
	ck_assert_str_eq(d.language_tags.items[1].s, "en-419");
	ck_assert_str_eq(d.tags.items[0].s, "sfw-only");
	ck_assert_int_eq(d.has_limitation, 1);
	ck_assert_int_eq(d.limitation.has[NIP11_MAX_LIMIT], 1);
	ck_assert_int_eq(d.limitation.value[NIP11_MAX_LIMIT], 5000);
	ck_assert_int_eq(d.limitation.value[NIP11_CREATED_AT_UPPER_LIMIT], 2147483647);
	ck_assert_int_eq(d.limitation.value[NIP11_DEFAULT_LIMIT], 500);
	ck_assert_int_eq(d.limitation.has[NIP11_MIN_PREFIX], 0);
	ck_assert_int_eq(d.limitation.auth_required, 0);
	ck_assert_int_eq(d.limitation.payment_required, 1);
	ck_assert_int_eq(d.limitation.restricted_writes, 1);
	ck_assert_str_eq(nip11_limit_name(NIP11_MIN_POW_DIFFICULTY), "min_pow_difficulty");
	ck_assert_str_eq(d.limitation_json,
			 "{\"auth_required\":false,\"created_at_lower_limit\":0,\"created_at_upper_limit\":2147483647,"
			 "\"default_limit\":500,\"max_content_length\":70000,\"max_event_tags\":2000,\"max_filters\":10,"
			 "\"max_limit\":5000,\"max_message_length\":70000,\"max_subid_length\":256,\"max_subscriptions\":350,"
			 "\"min_pow_difficulty\":0,\"payment_required\":true,\"restricted_writes\":true,"
			 "\"vendor_specific\":{\"a\":[1,\"x\"],\"b\":2}}");
	ck_assert_str_eq(d.retention_json, "[{\"kinds\":[0,1,[5,7],[40,49]],\"time\":3600},{\"kinds\":[[40000,49999]],"
					   "\"time\":100},{\"count\":1000,\"kinds\":[[30000,39999]]},{\"count\":10000,\"time\":null}]");
	ck_assert_str_eq(d.fees_json, "{\"admission\":[{\"amount\":1000000,\"unit\":\"msats\"}],\"publication\":[{\"amount\":"
				      "100,\"kinds\":[4],\"unit\":\"msats\"}],\"subscription\":[{\"amount\":5000000,"
				      "\"period\":2592000,\"unit\":\"msats\"}]}");
	ck_assert_str_eq(d.extra_json, "{\"nip50\":{\"extensions\":[\"domain\",\"language\"]},\"x_operator\":\"Example Org\"}");
	ck_assert_ptr_nonnull(strstr(d.canonical, "\"name\":\"JellyFish\""));
	ck_assert_ptr_nonnull(strstr(d.canonical, "\"x_operator\":\"Example Org\"}"));
	ck_assert_uint_eq(strlen(d.canonical), d.canonical_len);
	nip11_free(&d);
}
END_TEST

/* The same document with other key order, whitespace and escapes hashes the same; a change does not. */
START_TEST(test_hash_stable)
{
	struct nip11_doc a, b;
	struct nostr_err err = { 0 };
	nip11_init(&a);
	nip11_init(&b);
	ck_assert_int_eq(load(&a, DIR "full.json", &err), 0);
	ck_assert_int_eq(load(&b, DIR "reordered.json", &err), 0);
	ck_assert_str_eq(a.canonical, b.canonical);
	ck_assert_mem_eq(a.hash, b.hash, 32);
	const char *x = "{\"name\":\"a\",\"version\":\"1\"}", *y = "{ \"version\" : \"1\" , \"name\" : \"\\u0061\" }";
	const char *z = "{\"name\":\"a\",\"version\":\"2\"}";
	ck_assert_int_eq(nip11_parse(&a, x, strlen(x), &err), 0);
	ck_assert_int_eq(nip11_parse(&b, y, strlen(y), &err), 0);
	ck_assert_str_eq(a.canonical, "{\"name\":\"a\",\"version\":\"1\"}");
	ck_assert_mem_eq(a.hash, b.hash, 32);
	ck_assert_int_eq(nip11_parse(&b, z, strlen(z), &err), 0);
	ck_assert_int_ne(memcmp(a.hash, b.hash, 32), 0);
	/* duplicate keys: the last one counts, as in JSON.parse */
	const char *dup = "{\"name\":\"first\",\"name\":\"second\"}";
	ck_assert_int_eq(nip11_parse(&b, dup, strlen(dup), &err), 0);
	ck_assert_str_eq(b.name.s, "second");
	ck_assert_str_eq(b.canonical, "{\"name\":\"second\"}");
	/* inside retention too (a fuzzer finding: the check used the first "kinds", the rendering the last) */
	const char *ret = "{\"retention\":[{\"kinds\":[1],\"kinds\":1000}]}";
	ck_assert_int_eq(nip11_parse(&b, ret, strlen(ret), &err), 0);
	ck_assert_ptr_null(b.retention_json);
	ck_assert_str_eq(b.canonical, "{}");
	const char *ret2 = "{\"retention\":[{\"kinds\":1000,\"kinds\":[1]}]}";
	ck_assert_int_eq(nip11_parse(&b, ret2, strlen(ret2), &err), 0);
	ck_assert_str_eq(b.retention_json, "[{\"kinds\":[1]}]");
	nip11_free(&a);
	nip11_free(&b);
}
END_TEST

START_TEST(test_wrong_types)
{
	struct nip11_doc d;
	struct nostr_err err = { 0 };
	nip11_init(&d);
	ck_assert_int_eq(load(&d, DIR "wrong-types.json", &err), 0);
	ck_assert_ptr_null(d.name.s);
	ck_assert(has_note(&d, "name dropped: expected a string"));
	ck_assert_str_eq(d.description.s, "still here");
	ck_assert_ptr_null(d.icon.s);
	ck_assert(has_note(&d, "icon dropped"));
	ck_assert_ptr_null(d.contact.s);
	ck_assert(has_note(&d, "contact dropped: contains U+0000"));
	ck_assert_int_eq(d.has_supported_nips, 0);
	ck_assert(has_note(&d, "supported_nips dropped: expected an array of integers"));
	ck_assert_int_eq(d.has_supported_nips_at, 0);
	ck_assert_str_eq(d.software.s, "git+https://example.com/relay.git");
	ck_assert_int_eq(d.relay_countries.present, 0);
	ck_assert_int_eq(d.language_tags.present, 0);
	ck_assert(has_note(&d, "language_tags dropped"));
	/* limitation: bad members dropped one by one, the rest (unknown ones too) kept */
	ck_assert_int_eq(d.has_limitation, 1);
	ck_assert_int_eq(d.limitation.has[NIP11_MAX_LIMIT], 0);
	ck_assert_int_eq(d.limitation.has[NIP11_MAX_MESSAGE_LENGTH], 0);
	ck_assert_int_eq(d.limitation.auth_required, -1);
	ck_assert_int_eq(d.limitation.payment_required, 1);
	ck_assert_int_eq(d.limitation.value[NIP11_MAX_SUBSCRIPTIONS], 20);
	ck_assert(has_note(&d, "limitation.max_limit dropped: expected an integer"));
	ck_assert(has_note(&d, "limitation.max_message_length dropped"));
	ck_assert(has_note(&d, "limitation.auth_required dropped: expected true or false"));
	ck_assert_str_eq(d.limitation_json, "{\"max_subscriptions\":20,\"payment_required\":true,\"unknown_x\":1}");
	ck_assert_ptr_null(d.retention_json);
	ck_assert(has_note(&d, "retention dropped"));
	ck_assert_ptr_null(d.fees_json);
	ck_assert(has_note(&d, "fees dropped"));
	ck_assert(has_note(&d, "extra_with_nul dropped: contains U+0000"));
	ck_assert_str_eq(d.extra_json, "{\"extra_ok\":true}");
	ck_assert_str_eq(d.canonical, "{\"description\":\"still here\",\"extra_ok\":true,\"limitation\":{\"max_subscriptions\":20,"
				      "\"payment_required\":true,\"unknown_x\":1},\"software\":\"git+https://example.com/relay.git\"}");
	ck_assert_uint_ge(d.n_notes, 12);
	nip11_free(&d);
}
END_TEST

START_TEST(test_rejected_documents)
{
	struct nip11_doc d;
	struct nostr_err err = { 0 };
	nip11_init(&d);
	ck_assert_int_eq(load(&d, DIR "trailing-comma.json", &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_NOT_JSON);
	ck_assert_int_eq(nip11_parse(&d, "[]", 2, &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_TYPE);
	ck_assert_int_eq(nip11_parse(&d, "", 0, &err), -1);
	size_t n = NIP11_MAX_JSON + 1;
	char *big = malloc(n);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	ck_assert_int_eq(nip11_parse(&d, big, n, &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_TOO_LARGE);
	ck_assert_int_eq(nip11_parse(&d, big, n - 1, &err), -1); /* no closing brace */
	big[n - 2] = '}';
	ck_assert_int_eq(nip11_parse(&d, big, n - 1, &err), 0);
	ck_assert_str_eq(d.canonical, "{}");
	ck_assert_ptr_null(d.extra_json);
	free(big);
	/* every prefix of a good document is rejected (and frees cleanly) */
	char *text;
	size_t len;
	ck_assert_int_eq(read_file(DIR "full.json", 1 << 20, &text, &len), 0);
	while (len > 0 && text[len - 1] != '}')
		len--;
	for (size_t k = 0; k < len; k++)
		ck_assert_int_eq(nip11_parse(&d, text, k, &err), -1);
	ck_assert_int_eq(nip11_parse(&d, text, len, &err), 0);
	free(text);
	nip11_free(&d);
}
END_TEST

/* What a relay controls can always be stored as jsonb: numbers PostgreSQL cannot hold (or would
 * print a thousand times longer) become strings of their text, lone surrogate escapes U+FFFD,
 * members holding U+0000 are dropped; each noted. (The integration test test_nip11_jsonb casts
 * these outputs to jsonb in a real PostgreSQL.) */
START_TEST(test_storable)
{
	static const char doc[] =
		"{\"name\":\"a\\ud800b\\udc00c\\ud83c\\udf89\",\"x_num\":[1e200000,1e-16383,123,1.5,-0.0,"
		"12345678901234567890123,1e63,1e64,0.5e-62,1E+3,0e999999999,-1e-63],\"x_nul\":\"\\u0000\","
		"\"supported_nips\":[1,1e400],\"limitation\":{\"max_limit\":1e300,\"x\":2e-999}}";
	struct nip11_doc d;
	struct nostr_err err = { 0 };
	nip11_init(&d);
	ck_assert_int_eq(nip11_parse(&d, doc, strlen(doc), &err), 0);
	ck_assert_str_eq(d.name.s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xf0\x9f\x8e\x89");
	ck_assert(has_note(&d, "2 lone UTF-16 surrogate escapes replaced by U+FFFD"));
	ck_assert(has_note(&d, "7 numbers kept as strings: more than 64 digits, e.g. 1e200000"));
	ck_assert(has_note(&d, "x_nul dropped: contains U+0000"));
	ck_assert(has_note(&d, "supported_nips dropped: expected an array of integers"));
	ck_assert(has_note(&d, "limitation.max_limit dropped: expected an integer"));
	ck_assert_str_eq(d.canonical,
			 "{\"limitation\":{\"x\":\"2e-999\"},\"name\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xf0\x9f\x8e\x89\","
			 "\"x_num\":[\"1e200000\",\"1e-16383\",123,1.5,-0.0,12345678901234567890123,1e63,\"1e64\",0.5e-62,"
			 "1E+3,\"0e999999999\",-1e-63]}");
	nip11_free(&d);
}
END_TEST

START_TEST(test_nip66)
{
	struct nip66_result r, back;
	struct buf b;
	struct nostr_err err = { 0 };
	unsigned char h1[32], h2[32];
	buf_init(&b);
	nip66_init(&r);
	ck_assert_int_eq(nip66_json(&r, &b), 0);
	ck_assert_str_eq(b.data, "{}");
	r.openable = 1;
	r.readable = 1;
	r.writable = 0;
	r.rtt_open = 87;
	r.rtt_read = 120;
	buf_reset(&b);
	ck_assert_int_eq(nip66_json(&r, &b), 0);
	ck_assert_str_eq(b.data, "{\"openable\":true,\"readable\":true,\"rtt_open\":87,\"rtt_read\":120,\"writable\":false}");
	ck_assert_int_eq(nip66_parse(&back, b.data, b.len, &err), 0);
	ck_assert_int_eq(back.writable, 0);
	ck_assert_int_eq(back.rtt_write, NIP66_ABSENT);
	ck_assert_int_eq(nip66_hash(&r, h1), 0);
	ck_assert_int_eq(nip66_hash(&back, h2), 0);
	ck_assert_mem_eq(h1, h2, 32);
	const char *shuffled = " { \"writable\" : false, \"rtt_read\":120,\"rtt_open\":87,\"readable\":true,\"openable\":true}";
	ck_assert_int_eq(nip66_parse(&back, shuffled, strlen(shuffled), &err), 0);
	ck_assert_int_eq(nip66_hash(&back, h2), 0);
	ck_assert_mem_eq(h1, h2, 32);
	back.rtt_read = 121;
	ck_assert_int_eq(nip66_hash(&back, h2), 0);
	ck_assert_int_ne(memcmp(h1, h2, 32), 0);
	r.openable = 2;
	ck_assert_int_eq(nip66_json(&r, &b), -1);
	r.openable = 1;
	r.rtt_write = -5;
	ck_assert_int_eq(nip66_hash(&r, h1), -1);
	static const char *bad[] = { "{\"openable\":1}", "{\"rtt_open\":-1}", "{\"rtt_open\":1.5}", "{\"x\":1}", "[]", "{" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(nip66_parse(&back, bad[i], strlen(bad[i]), &err) == -1, "accepted %s", bad[i]);
	buf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nostr_nip11");
	TCase *tc = tcase_create("nip11");
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_hash_stable);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_rejected_documents);
	tcase_add_test(tc, test_storable);
	tcase_add_test(tc, test_nip66);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
