/* test_socks5.c — SOCKS5 encoders, the incremental reply parsers on every truncated prefix, and reply reasons. */
#include <check.h>
#include <string.h>

#include "net/socks5.h"

START_TEST(greeting_offers_auth_only_when_asked)
{
	uint8_t g[4];
	ck_assert_uint_eq(socks5_greeting(g, 0), 3);
	ck_assert_mem_eq(g, "\x05\x01\x00", 3);
	ck_assert_uint_eq(socks5_greeting(g, 1), 4);
	ck_assert_mem_eq(g, "\x05\x02\x00\x02", 4);
}
END_TEST

START_TEST(connect_request_uses_domain_name)
{
	uint8_t out[SOCKS5_CONNECT_MAX];
	size_t n = socks5_connect_request(out, sizeof(out), "relay.example", 443);
	ck_assert_uint_eq(n, 7 + 13);
	ck_assert_mem_eq(out, "\x05\x01\x00\x03\x0d" "relay.example" "\x01\xbb", n);
	/* an IP literal still goes as a name: the proxy decides, nothing is resolved here */
	n = socks5_connect_request(out, sizeof(out), "127.0.0.1", 80);
	ck_assert_uint_eq(out[3], SOCKS5_ATYP_DOMAIN);
	ck_assert_uint_eq(n, 7 + 9);
	char big[300];
	memset(big, 'a', 256);
	big[256] = '\0';
	ck_assert_uint_eq(socks5_connect_request(out, sizeof(out), big, 80), 0);
	big[255] = '\0';
	ck_assert_uint_eq(socks5_connect_request(out, sizeof(out), big, 80), 7 + 255);
	ck_assert_uint_eq(socks5_connect_request(out, sizeof(out), "", 80), 0);
	ck_assert_uint_eq(socks5_connect_request(out, 10, "relay.example", 80), 0);
}
END_TEST

START_TEST(auth_request_layout_and_limits)
{
	uint8_t out[SOCKS5_AUTH_MAX];
	size_t n = socks5_auth_request(out, sizeof(out), "brotr-0123", "pw");
	ck_assert_uint_eq(n, 3 + 10 + 2);
	ck_assert_mem_eq(out, "\x01\x0a" "brotr-0123" "\x02" "pw", n);
	ck_assert_uint_eq(socks5_auth_request(out, sizeof(out), "", "pw"), 0);
	ck_assert_uint_eq(socks5_auth_request(out, sizeof(out), "u", ""), 0);
	ck_assert_uint_eq(socks5_auth_request(out, 4, "user", "pw"), 0);
}
END_TEST

/* Every strict prefix of a valid message needs more; the whole one is done. */
START_TEST(method_reply_prefixes)
{
	const uint8_t ok[] = { 5, 2 };
	uint8_t m = 0xAA;
	for (size_t i = 0; i < sizeof(ok); i++)
		ck_assert_int_eq(socks5_parse_method(ok, i, 1, &m), PARSE_NEED_MORE);
	ck_assert_int_eq(socks5_parse_method(ok, 2, 1, &m), PARSE_DONE);
	ck_assert_uint_eq(m, 2);
	ck_assert_int_eq(socks5_parse_method(ok, 2, 0, &m), PARSE_INVALID); /* not offered */
	ck_assert_int_eq(socks5_parse_method((const uint8_t *)"\x05\xff", 2, 1, &m), PARSE_INVALID);
	ck_assert_int_eq(socks5_parse_method((const uint8_t *)"\x04", 1, 1, &m), PARSE_INVALID);
	ck_assert_int_eq(socks5_parse_method((const uint8_t *)"\x05\x00", 2, 0, &m), PARSE_DONE);
	ck_assert_uint_eq(m, 0);
}
END_TEST

START_TEST(auth_reply_prefixes)
{
	uint8_t st = 9;
	ck_assert_int_eq(socks5_parse_auth((const uint8_t *)"", 0, &st), PARSE_NEED_MORE);
	ck_assert_int_eq(socks5_parse_auth((const uint8_t *)"\x01", 1, &st), PARSE_NEED_MORE);
	ck_assert_int_eq(socks5_parse_auth((const uint8_t *)"\x01\x00", 2, &st), PARSE_DONE);
	ck_assert_uint_eq(st, 0);
	ck_assert_int_eq(socks5_parse_auth((const uint8_t *)"\x01\x01", 2, &st), PARSE_DONE);
	ck_assert_uint_eq(st, 1);
	ck_assert_int_eq(socks5_parse_auth((const uint8_t *)"\x05\x00", 2, &st), PARSE_INVALID);
}
END_TEST

static void check_reply(const uint8_t *msg, size_t len, uint8_t want_rep)
{
	uint8_t rep = 0xAA;
	size_t need = 0;
	for (size_t i = 0; i < len; i++) {
		ck_assert_msg(socks5_parse_reply(msg, i, &rep, &need) == PARSE_NEED_MORE, "prefix %zu of %zu", i, len);
		ck_assert_uint_ge(need, i + 1);
		if (i >= 5)
			ck_assert_uint_eq(need, len); /* known from the fifth byte on: read exactly this */
	}
	ck_assert_int_eq(socks5_parse_reply(msg, len, &rep, &need), PARSE_DONE);
	ck_assert_uint_eq(need, len);
	ck_assert_uint_eq(rep, want_rep);
}

START_TEST(connect_reply_every_prefix)
{
	const uint8_t v4[] = { 5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90 };
	const uint8_t v6[] = { 5, 0xF6, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80 };
	const uint8_t dn[] = { 5, 4, 0, 3, 3, 'a', 'b', 'c', 0, 80 };
	check_reply(v4, sizeof(v4), 0);
	check_reply(v6, sizeof(v6), 0xF6);
	check_reply(dn, sizeof(dn), 4);
	/* bytes after the reply are not the parser's: the length says where the tunnel starts */
	uint8_t more[sizeof(v4) + 3];
	memcpy(more, v4, sizeof(v4));
	memcpy(more + sizeof(v4), "abc", 3);
	uint8_t rep;
	size_t need;
	ck_assert_int_eq(socks5_parse_reply(more, sizeof(more), &rep, &need), PARSE_DONE);
	ck_assert_uint_eq(need, sizeof(v4));
}
END_TEST

START_TEST(connect_reply_invalid)
{
	uint8_t rep;
	size_t need;
	ck_assert_int_eq(socks5_parse_reply((const uint8_t *)"\x04", 1, &rep, &need), PARSE_INVALID);
	ck_assert_int_eq(socks5_parse_reply((const uint8_t *)"\x05\x00\x01", 3, &rep, &need), PARSE_INVALID);
	ck_assert_int_eq(socks5_parse_reply((const uint8_t *)"\x05\x00\x00\x02", 4, &rep, &need), PARSE_INVALID);
	ck_assert_int_eq(socks5_parse_reply((const uint8_t *)"HTTP/1.1 200", 12, &rep, &need), PARSE_INVALID);
}
END_TEST

START_TEST(reasons_are_readable)
{
	ck_assert_str_eq(socks5_reply_reason(1), "general SOCKS server failure");
	ck_assert_str_eq(socks5_reply_reason(4), "host unreachable");
	ck_assert_str_eq(socks5_reply_reason(5), "connection refused");
	ck_assert_ptr_nonnull(strstr(socks5_reply_reason(6), "TTL expired"));
	ck_assert_str_eq(socks5_reply_reason(8), "address type not supported");
	ck_assert_str_eq(socks5_reply_reason(0xF0), "Tor: onion service descriptor not found");
	ck_assert_str_eq(socks5_reply_reason(0xF6), "Tor: invalid onion service address");
	ck_assert_str_eq(socks5_reply_reason(0xF7), "Tor: onion service introduction timed out");
	for (int c = 1; c <= 8; c++)
		ck_assert_str_ne(socks5_reply_reason((uint8_t)c), "unknown SOCKS reply code");
	for (int c = 0xF0; c <= 0xF7; c++)
		ck_assert_ptr_nonnull(strstr(socks5_reply_reason((uint8_t)c), "Tor: "));
	ck_assert_str_eq(socks5_reply_reason(9), "unknown SOCKS reply code");
	ck_assert_str_eq(socks5_reply_reason(0xF8), "unknown SOCKS reply code");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("socks5");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, greeting_offers_auth_only_when_asked);
	tcase_add_test(tc, connect_request_uses_domain_name);
	tcase_add_test(tc, auth_request_layout_and_limits);
	tcase_add_test(tc, method_reply_prefixes);
	tcase_add_test(tc, auth_reply_prefixes);
	tcase_add_test(tc, connect_reply_every_prefix);
	tcase_add_test(tc, connect_reply_invalid);
	tcase_add_test(tc, reasons_are_readable);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
