/* test_http_connect.c — the CONNECT request parser: every truncated prefix, what it accepts and refuses. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "net/http_connect.h"

/* What lws 4.1 sends: "brotr:secret" in Basic. */
static const char lws_req[] = "CONNECT brotr-65537:443 HTTP/1.1\r\n"
			      "Host: brotr-65537:443\r\n"
			      "User-agent: lws\r\n"
			      "Proxy-authorization: basic YnJvdHI6c2VjcmV0\r\n"
			      "\r\n";

START_TEST(lws_request_every_prefix)
{
	struct http_connect_req r;
	size_t used = 0, n = strlen(lws_req);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(http_connect_parse(lws_req, i, &r, &used) == PARSE_NEED_MORE, "prefix %zu", i);
	ck_assert_int_eq(http_connect_parse(lws_req, n, &r, &used), PARSE_DONE);
	ck_assert_uint_eq(used, n);
	ck_assert_str_eq(r.host, "brotr-65537");
	ck_assert_int_eq(r.port, 443);
	ck_assert_int_eq(r.has_auth, 1);
	ck_assert_str_eq(r.auth, "brotr:secret");
}
END_TEST

START_TEST(bytes_after_the_request_are_not_consumed)
{
	char buf[512];
	struct http_connect_req r;
	size_t used;
	snprintf(buf, sizeof(buf), "%sxyz", lws_req);
	ck_assert_int_eq(http_connect_parse(buf, strlen(buf), &r, &used), PARSE_DONE);
	ck_assert_uint_eq(used, strlen(lws_req));
}
END_TEST

START_TEST(without_auth_and_ipv6)
{
	struct http_connect_req r;
	size_t used;
	const char *a = "CONNECT [::1]:8080 HTTP/1.0\r\n\r\n";
	ck_assert_int_eq(http_connect_parse(a, strlen(a), &r, &used), PARSE_DONE);
	ck_assert_str_eq(r.host, "::1");
	ck_assert_int_eq(r.port, 8080);
	ck_assert_int_eq(r.has_auth, 0);
	const char *b = "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: basic dTpw  \r\n\r\n"; /* trailing spaces */
	ck_assert_int_eq(http_connect_parse(b, strlen(b), &r, &used), PARSE_DONE);
	ck_assert_str_eq(r.auth, "u:p");
}
END_TEST

START_TEST(header_names_any_case)
{
	struct http_connect_req r;
	size_t used;
	const char *b = "CONNECT h:1 HTTP/1.1\r\nPROXY-AUTHORIZATION:   Basic   dTpw\r\n\r\n";
	ck_assert_int_eq(http_connect_parse(b, strlen(b), &r, &used), PARSE_DONE);
	ck_assert_str_eq(r.auth, "u:p");
}
END_TEST

static void refused(const char *req)
{
	struct http_connect_req r;
	size_t used;
	ck_assert_msg(http_connect_parse(req, strlen(req), &r, &used) == PARSE_INVALID, "accepted: %s", req);
}

START_TEST(refuses_what_is_not_a_connect)
{
	refused("GET / HTTP/1.1\r\n\r\n");
	refused("G");                                /* cannot become CONNECT: refused at once */
	refused("connect h:1 HTTP/1.1\r\n\r\n");     /* the method is case-sensitive */
	refused("CONNECT h HTTP/1.1\r\n\r\n");       /* no port */
	refused("CONNECT h:0 HTTP/1.1\r\n\r\n");
	refused("CONNECT h:65536 HTTP/1.1\r\n\r\n");
	refused("CONNECT h:12a HTTP/1.1\r\n\r\n");
	refused("CONNECT :80 HTTP/1.1\r\n\r\n");
	refused("CONNECT a@b:80 HTTP/1.1\r\n\r\n");
	refused("CONNECT h:80 HTTP/2.0\r\n\r\n");
	refused("CONNECT h:80 HTTP/1.1\n\n");        /* bare LF */
	refused("CONNECT h:80 HTTP/1.1\r\nno colon here\r\n\r\n");
	refused("CONNECT h:80 HTTP/1.1\r\nProxy-Authorization: Bearer x\r\n\r\n");
	refused("CONNECT h:80 HTTP/1.1\r\nProxy-Authorization: basic !!!!\r\n\r\n");
	refused("CONNECT h:80 HTTP/1.1\r\nProxy-Authorization: basic dTpw\r\nProxy-Authorization: basic dTpw\r\n\r\n");
	refused("CONNECT h:80 HTTP/1.1\r\nX: a\rb\r\n\r\n");
}
END_TEST

START_TEST(refuses_endless_headers)
{
	static char big[HTTP_CONNECT_MAX + 64];
	struct http_connect_req r;
	size_t used;
	int n = snprintf(big, sizeof(big), "CONNECT h:80 HTTP/1.1\r\n");
	while ((size_t)n < HTTP_CONNECT_MAX + 10)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "X: y\r\n");
	ck_assert_int_eq(http_connect_parse(big, (size_t)n, &r, &used), PARSE_INVALID);
	ck_assert_int_eq(http_connect_parse(big, 40, &r, &used), PARSE_NEED_MORE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http_connect");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, lws_request_every_prefix);
	tcase_add_test(tc, bytes_after_the_request_are_not_consumed);
	tcase_add_test(tc, without_auth_and_ipv6);
	tcase_add_test(tc, header_names_any_case);
	tcase_add_test(tc, refuses_what_is_not_a_connect);
	tcase_add_test(tc, refuses_endless_headers);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
