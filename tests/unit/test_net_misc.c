/* test_net_misc.c — the network layer's small pure parts: networks of relay URLs, local addresses, error names. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "net/addr.h"
#include "net/error.h"
#include "net/url.h"

/* The network layer reads relay URLs with src/nostr's normaliser; its network is the normaliser's. */
START_TEST(networks_of_urls)
{
	static const char onion[] = "ws://brotrfixturexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxiqdyd.onion";
	struct relay_url u;
	const char *why;
	ck_assert_int_eq(relay_url_parse(onion, strlen(onion), 0, &u, &why), 0);
	ck_assert_int_eq(net_network_of(&u), NET_TOR);
	ck_assert_int_eq(relay_url_parse("wss://Relay.Damus.IO", 20, 0, &u, &why), 0);
	ck_assert_int_eq(net_network_of(&u), NET_CLEARNET);
	ck_assert_str_eq(net_network_name(NET_TOR), "tor");
	ck_assert_str_eq(net_network_name(NET_CLEARNET), "clearnet");
	ck_assert_str_eq(net_error_name(NET_ERR_SOCKS), "socks");
	ck_assert_str_eq(net_error_name(NET_ERR_TIMEOUT), "timeout");
	ck_assert_str_eq(net_error_name((enum net_error)99), "unknown");
	/* ours, never the relay's: a local limit (helper full, descriptors, memory), the proxy, a stop */
	ck_assert(net_error_is_local(NET_ERR_LIMIT) && net_error_is_local(NET_ERR_PROXY) &&
		  net_error_is_local(NET_ERR_STOPPED));
	ck_assert(!net_error_is_local(NET_ERR_SOCKS) && !net_error_is_local(NET_ERR_CONNECT) &&
		  !net_error_is_local(NET_ERR_TIMEOUT) && !net_error_is_local(NET_ERR_LOCAL) && !net_error_is_local(NET_OK));
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

/* IPv6 forms that carry an IPv4 address: each is local exactly when the IPv4 inside is. */
START_TEST(embedded_ipv4)
{
	const char *yes[] = {
		"::ffff:10.0.0.1",	"::ffff:0:192.168.1.1", "::127.0.0.1",	 "::10.1.1.1",
		"64:ff9b::127.0.0.1",	"64:ff9b::10.0.0.1",	"64:ff9b::c0a8:101", "64:ff9b:1::8.8.8.8",
		"64:ff9b:1:ffff::1",	"2002:7f00:1::1",	"2002:c0a8:101::5", "2002:a00:1:1::",
		"2001:0:4136:e378:8000:63bf:3fff:fdd2", /* Teredo: client 192.0.2.45, inverted */
		"2001:0:a00:1::1",	/* Teredo: server 10.0.0.1 */
		"2001:0:4136:e378:8000:63bf:80ff:fffe", /* Teredo: client 127.0.0.1 */
		"2001:db8::1",		"100::1",
	};
	const char *no[] = {
		"::ffff:8.8.8.8",	"::ffff:0:8.8.8.8",	"64:ff9b::8.8.8.8",	"64:ff9b::1.1.1.1",
		"2002:808:808::1",	"2001:0:4136:e378:8000:63bf:f7f7:f7f7", "2606:4700::1111", "2003::1",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(local6(yes[i]), "%s should be local", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(!local6(no[i]), "%s should be public", no[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net_misc");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, networks_of_urls);
	tcase_add_test(tc, local_addresses);
	tcase_add_test(tc, embedded_ipv4);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
