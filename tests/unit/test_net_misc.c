/* test_net_misc.c — the network layer's small pure parts: relay URLs, local addresses, error names. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "net/addr.h"
#include "net/error.h"
#include "net/url.h"

START_TEST(url_parts)
{
	struct net_url u;
	char err[128];
	ck_assert_int_eq(net_url_parse("wss://Relay.Example.COM", &u, err, sizeof(err)), 0);
	ck_assert_int_eq(u.tls, 1);
	ck_assert_str_eq(u.host, "relay.example.com");
	ck_assert_int_eq(u.port, 443);
	ck_assert_str_eq(u.path, "/");
	ck_assert_int_eq(net_url_parse("ws://h:8080/a/b?c=d", &u, err, sizeof(err)), 0);
	ck_assert_int_eq(u.tls, 0);
	ck_assert_int_eq(u.port, 8080);
	ck_assert_str_eq(u.path, "/a/b?c=d");
	ck_assert_int_eq(net_url_parse("ws://h?x", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.path, "/?x");
	ck_assert_int_eq(net_url_parse("ws://[::1]:7000", &u, err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.ipv6, 1);
	ck_assert_int_eq(u.port, 7000);
}
END_TEST

START_TEST(url_refused)
{
	struct net_url u;
	char err[128];
	const char *bad[] = { "http://h", "ws://", "ws://:80", "ws://h:0", "ws://h:99999", "ws://h:x", "ws://u@h",
			      "ws://h/#f", "ws://h h", "ws://[::1", "ws://h/\x01", "wss:/h" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(net_url_parse(bad[i], &u, err, sizeof(err)) < 0, "accepted %s", bad[i]);
		ck_assert_msg(err[0] != '\0', "no reason for %s", bad[i]);
	}
}
END_TEST

START_TEST(onion_and_network_names)
{
	ck_assert_int_eq(net_host_is_onion("abc.onion"), 1);
	ck_assert_int_eq(net_host_is_onion(".onion"), 0);
	ck_assert_int_eq(net_host_is_onion("onion.example"), 0);
	ck_assert_str_eq(net_network_name(NET_TOR), "tor");
	ck_assert_str_eq(net_network_name(NET_CLEARNET), "clearnet");
	ck_assert_str_eq(net_error_name(NET_ERR_SOCKS), "socks");
	ck_assert_str_eq(net_error_name(NET_ERR_TIMEOUT), "timeout");
	ck_assert_str_eq(net_error_name((enum net_error)99), "unknown");
}
END_TEST

static int local4(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, ip, &a.sin_addr);
	return net_addr_is_local((struct sockaddr *)&a);
}

static int local6(const char *ip)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, ip, &a.sin6_addr);
	return net_addr_is_local((struct sockaddr *)&a);
}

START_TEST(local_addresses)
{
	const char *yes4[] = { "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.9.9",
			       "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.7" };
	const char *no4[] = { "1.1.1.1", "172.32.0.1", "100.128.0.1", "8.8.8.8", "192.169.0.1" };
	for (size_t i = 0; i < sizeof(yes4) / sizeof(yes4[0]); i++)
		ck_assert_msg(local4(yes4[i]), "%s should be local", yes4[i]);
	for (size_t i = 0; i < sizeof(no4) / sizeof(no4[0]); i++)
		ck_assert_msg(!local4(no4[i]), "%s should be public", no4[i]);
	ck_assert(local6("::1"));
	ck_assert(local6("::"));
	ck_assert(local6("fe80::1"));
	ck_assert(local6("fd00::1"));
	ck_assert(local6("ff02::1"));
	ck_assert(local6("::ffff:127.0.0.1"));
	ck_assert(!local6("::ffff:8.8.8.8"));
	ck_assert(!local6("2001:4860:4860::8888"));
	char out[80];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(443) };
	inet_pton(AF_INET, "1.2.3.4", &a.sin_addr);
	net_addr_format((struct sockaddr *)&a, out, sizeof(out));
	ck_assert_str_eq(out, "1.2.3.4:443");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net_misc");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, url_parts);
	tcase_add_test(tc, url_refused);
	tcase_add_test(tc, onion_and_network_names);
	tcase_add_test(tc, local_addresses);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
