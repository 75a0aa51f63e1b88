/* test_http_reply.c — the NIP-11 response's content type and length as brotr reads them. */
#include <check.h>

#include "net/http_reply.h"

START_TEST(content_type)
{
	ck_assert(http_json_type("application/nostr+json"));
	ck_assert(http_json_type("Application/JSON; charset=utf-8"));
	ck_assert(http_json_type("application/json ;x"));
	ck_assert(!http_json_type("application/jsonx"));
	ck_assert(!http_json_type("text/html"));
	ck_assert(!http_json_type(""));
}
END_TEST

START_TEST(content_length)
{
	unsigned long long v;
	ck_assert_int_eq(http_content_length("65536", &v), 0);
	ck_assert_uint_eq(v, 65536);
	ck_assert_int_eq(http_content_length(" 0\t", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(http_content_length("999999999999999999", &v), 0);
	/* strtoull took these: a sign wrapped around, garbage after digits was ignored */
	static const char *const bad[] = { "-1", "+5", "", " ", "12abc", "1 2", "0x10", "9999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(http_content_length(bad[i], &v) == -1, "took '%s'", bad[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http_reply");
	TCase *tc = tcase_create("http_reply");
	tcase_add_test(tc, content_type);
	tcase_add_test(tc, content_length);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
