/* test_nostr_relay_url.c — relay URL normalisation, classification and the reason for each rejection. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "nostr/relay_url.h"

#define ONION "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion"
#define ONION2 "aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dyp3kead.onion"

static const struct {
	const char *in, *out; /* out NULL: rejected */
	unsigned flags;
	const char *why_part; /* for rejections: part of the reason */
} cases[] = {
	{ "wss://relay.damus.io", "wss://relay.damus.io", 0, NULL },
	{ "wss://relay.damus.io/", "wss://relay.damus.io", 0, NULL },
	{ "  WSS://Relay.Damus.IO:443/  \n", "wss://relay.damus.io", 0, NULL },
	{ "ws://relay.example.com:80", "ws://relay.example.com", 0, NULL },
	{ "wss://relay.example.com:80", "wss://relay.example.com:80", 0, NULL },
	{ "ws://relay.example.com:443", "ws://relay.example.com:443", 0, NULL },
	{ "wss://relay.example.com:0443", "wss://relay.example.com", 0, NULL },
	{ "wss://relay.example.com:", "wss://relay.example.com", 0, NULL },
	{ "wss://relay.example.com.", "wss://relay.example.com", 0, NULL },
	{ "wss://nos.lol/?x=1#frag", "wss://nos.lol", 0, NULL },
	{ "wss://nos.lol?x=1", "wss://nos.lol", 0, NULL },
	{ "wss://nos.lol#f", "wss://nos.lol", 0, NULL },
	{ "wss://nostr.example.com/Relay/", "wss://nostr.example.com/Relay", 0, NULL },
	{ "wss://nostr.example.com/a//b///", "wss://nostr.example.com/a//b", 0, NULL },
	{ "wss://nostr.example.com/%7euser/%2f", "wss://nostr.example.com/%7Euser/%2F", 0, NULL },
	{ "wss://8.8.8.8:7777/", "wss://8.8.8.8:7777", 0, NULL },
	{ "wss://[2001:4860:4860:0:0:0:0:8888]:443/", "wss://[2001:4860:4860::8888]", 0, NULL },
	{ "wss://[2606:4700::6810:84E5]:8080/x", "wss://[2606:4700::6810:84e5]:8080/x", 0, NULL },
	{ "ws://" ONION, "ws://" ONION, 0, NULL },
	{ "WS://" ONION2 ":8080/", "ws://" ONION2 ":8080", 0, NULL },
	{ "ws://localhost:7777", "ws://localhost:7777", RELAY_URL_ALLOW_LOCAL, NULL },
	{ "ws://127.0.0.1:7777/", "ws://127.0.0.1:7777", RELAY_URL_ALLOW_LOCAL, NULL },
	{ "ws://[::1]:7777", "ws://[::1]:7777", RELAY_URL_ALLOW_LOCAL, NULL },
	{ "ws://relay:8080", "ws://relay:8080", RELAY_URL_ALLOW_LOCAL, NULL },
	/* rejections */
	{ "", NULL, 0, "empty" },
	{ "   ", NULL, 0, "empty" },
	{ "relay.damus.io", NULL, 0, "expected ws:// or wss://" },
	{ "https://relay.damus.io", NULL, 0, "scheme must be ws or wss" },
	{ "wss:/relay.damus.io", NULL, 0, "expected ws:// or wss://" },
	{ "wss://", NULL, 0, "missing host" },
	{ "wss:///path", NULL, 0, "missing host" },
	{ "wss://:443", NULL, 0, "missing host" },
	{ "wss://user:pw@relay.damus.io", NULL, 0, "credentials" },
	{ "wss://relay damus.io", NULL, 0, "spaces" },
	{ "wss://relay.damus.io/\x01", NULL, 0, "control" },
	{ "wss://r\xc3\xa9lay.example", NULL, 0, "non-ASCII" },
	{ "wss://relay_x.example.com", NULL, 0, "invalid host name" },
	{ "wss://-relay.example.com", NULL, 0, "invalid host name" },
	{ "wss://relay..example.com", NULL, 0, "invalid host name" },
	{ "wss://relay.example.com:65536", NULL, 0, "invalid port" },
	{ "wss://relay.example.com:0", NULL, 0, "invalid port" },
	{ "wss://relay.example.com:44a", NULL, 0, "invalid port" },
	{ "wss://relay.example.com/a b", NULL, 0, "spaces" },
	{ "wss://relay.example.com/a/../b", NULL, 0, "segment" },
	{ "wss://relay.example.com/./b", NULL, 0, "segment" },
	{ "wss://relay.example.com/%zz", NULL, 0, "percent-escape" },
	{ "wss://relay.example.com/a%2", NULL, 0, "percent-escape" },
	{ "wss://relay.example.com/a\"b", NULL, 0, "invalid character in path" },
	{ "ws://localhost:7777", NULL, 0, "allow_local" },
	{ "ws://relay.localhost", NULL, 0, "allow_local" },
	{ "ws://printer.local", NULL, 0, "allow_local" },
	{ "ws://relay:8080", NULL, 0, "allow_local" },
	{ "ws://nas.home.arpa", NULL, 0, "allow_local" },
	{ "ws://127.0.0.1", NULL, 0, "allow_local" },
	{ "ws://10.1.2.3", NULL, 0, "allow_local" },
	{ "ws://172.16.0.1", NULL, 0, "allow_local" },
	{ "ws://172.31.255.255", NULL, 0, "allow_local" },
	{ "ws://192.168.1.1", NULL, 0, "allow_local" },
	{ "ws://169.254.1.1", NULL, 0, "allow_local" },
	{ "ws://100.64.0.1", NULL, 0, "allow_local" },
	{ "ws://0.0.0.0", NULL, 0, "allow_local" },
	{ "ws://224.0.0.1", NULL, 0, "allow_local" },
	{ "ws://255.255.255.255", NULL, 0, "allow_local" },
	{ "ws://192.0.2.1", NULL, 0, "allow_local" },
	{ "ws://198.51.100.7", NULL, 0, "allow_local" },
	{ "ws://203.0.113.9", NULL, 0, "allow_local" },
	{ "ws://198.18.0.1", NULL, 0, "allow_local" },
	{ "ws://[::1]", NULL, 0, "allow_local" },
	{ "ws://[::]", NULL, 0, "allow_local" },
	{ "ws://[fe80::1]", NULL, 0, "allow_local" },
	{ "ws://[fd00::1]", NULL, 0, "allow_local" },
	{ "ws://[ff02::1]", NULL, 0, "allow_local" },
	{ "ws://[2001:db8::1]", NULL, 0, "allow_local" },
	{ "ws://[::ffff:192.168.0.1]", NULL, 0, "allow_local" },
	{ "ws://[::ffff:7f00:1]", NULL, 0, "allow_local" },
	{ "ws://[2002:c0a8:0101::1]", NULL, 0, "allow_local" },
	{ "ws://[fe80::1%25eth0]", NULL, 0, "zone" },
	{ "ws://[fe80::1", NULL, 0, "missing ']'" },
	{ "ws://[::1]x", NULL, RELAY_URL_ALLOW_LOCAL, "after the IPv6" },
	{ "ws://[12345::1]", NULL, 0, "invalid IPv6" },
	{ "ws://256.1.1.1", NULL, 0, "invalid IPv4" },
	{ "ws://1.2.3", NULL, 0, "invalid IPv4" },
	{ "ws://01.2.3.4", NULL, 0, "invalid IPv4" },
	{ "ws://0x7f.0.0.1", NULL, 0, "invalid IPv4" },
	{ "ws://2130706433", NULL, 0, "invalid IPv4" },
	{ "ws://1.2.3.4.5", NULL, 0, "invalid IPv4" },
	{ "ws://expyuzz4wqqyqhjn.onion", NULL, 0, "v2 onion" },
	{ "ws://duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczae.onion", NULL, 0, "version other than 3" },
	{ "ws://euckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion", NULL, 0, "checksum" },
	{ "ws://duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzcza.onion", NULL, 0, "56 base32" },
	{ "ws://www." ONION, NULL, 0, "subdomain" },
	{ "ws://onion", NULL, 0, "56 base32" },
	{ "ws://relay.i2p", NULL, 0, "unsupported network" },
};

START_TEST(test_cases)
{
	struct relay_url u;
	const char *why = NULL;
	int rc = relay_url_parse(cases[_i].in, strlen(cases[_i].in), cases[_i].flags, &u, &why);
	if (cases[_i].out) {
		ck_assert_msg(rc == 0, "%s: rejected (%s)", cases[_i].in, why);
		ck_assert_str_eq(u.url, cases[_i].out);
		/* normalising the normal form changes nothing */
		struct relay_url again;
		ck_assert_int_eq(relay_url_parse(u.url, strlen(u.url), cases[_i].flags, &again, &why), 0);
		ck_assert_str_eq(again.url, u.url);
	} else {
		ck_assert_msg(rc == -1, "%s: accepted as %s", cases[_i].in, u.url);
		ck_assert_msg(strstr(why, cases[_i].why_part) != NULL, "%s: reason '%s' lacks '%s'", cases[_i].in, why,
			      cases[_i].why_part);
	}
}
END_TEST

START_TEST(test_classification)
{
	struct relay_url u;
	const char *why;
	ck_assert_int_eq(relay_url_parse("ws://" ONION "/", strlen("ws://" ONION "/"), 0, &u, &why), 0);
	ck_assert_int_eq(u.network, RELAY_NET_TOR);
	ck_assert_str_eq(relay_network_name(u.network), "tor");
	ck_assert_int_eq(u.port, 80);
	ck_assert_int_eq(u.secure, 0);
	ck_assert_str_eq(u.host, ONION);
	ck_assert_int_eq(relay_url_parse("wss://Relay.Example.com:8443/Nostr/", 35, 0, &u, &why), 0);
	ck_assert_int_eq(u.network, RELAY_NET_CLEARNET);
	ck_assert_str_eq(relay_network_name(u.network), "clearnet");
	ck_assert_int_eq(u.port, 8443);
	ck_assert_int_eq(u.secure, 1);
	ck_assert_int_eq(u.ip, 0);
	ck_assert_int_eq(u.local, 0);
	ck_assert_str_eq(u.host, "relay.example.com");
	ck_assert_str_eq(u.path, "/Nostr");
	ck_assert_int_eq(relay_url_parse("ws://192.168.0.2:8080", 21, RELAY_URL_ALLOW_LOCAL, &u, &why), 0);
	ck_assert_int_eq(u.local, 1);
	ck_assert_int_eq(u.ip, 4);
	ck_assert_int_eq(relay_url_parse("wss://[2001:4860::1]", 20, 0, &u, &why), 0);
	ck_assert_int_eq(u.ip, 6);
	ck_assert_str_eq(u.host, "2001:4860::1");
	/* the length given is respected: no NUL needed, nothing read beyond */
	ck_assert_int_eq(relay_url_parse("wss://nos.lolXYZ", 13, 0, &u, &why), 0);
	ck_assert_str_eq(u.url, "wss://nos.lol");
}
END_TEST

START_TEST(test_length_caps)
{
	char in[3000], label[64];
	struct relay_url u;
	const char *why;
	memset(label, 'a', 63);
	label[63] = '\0';
	/* 4 labels of 63 + 3 dots = 255 > 253 */
	snprintf(in, sizeof(in), "wss://%s.%s.%s.%s", label, label, label, label);
	ck_assert_int_eq(relay_url_parse(in, strlen(in), 0, &u, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "253"));
	/* a 64-character label */
	snprintf(in, sizeof(in), "wss://%sa.com", label);
	ck_assert_int_eq(relay_url_parse(in, strlen(in), 0, &u, &why), -1);
	/* a long path: canonical form over 255 */
	memset(in, 0, sizeof(in));
	strcpy(in, "wss://relay.example.com/");
	memset(in + strlen(in), 'p', 240);
	ck_assert_int_eq(relay_url_parse(in, strlen(in), 0, &u, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "255"));
	/* exactly 255 is fine */
	in[255] = '\0';
	ck_assert_int_eq(relay_url_parse(in, 255, 0, &u, &why), 0);
	ck_assert_uint_eq(strlen(u.url), 255);
	/* over the input cap */
	memset(in, ' ', sizeof(in));
	memcpy(in, "wss://a.com/", 12);
	memset(in + 12, 'x', 2100);
	ck_assert_int_eq(relay_url_parse(in, 2112, 0, &u, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "2048"));
}
END_TEST

START_TEST(test_nip11_url)
{
	static const struct {
		const char *in, *out;
	} c[] = {
		{ "wss://relay.damus.io", "https://relay.damus.io/" },
		{ "ws://relay.example.com:8080/nostr/", "http://relay.example.com:8080/nostr" },
		{ "wss://relay.example.com:80", "https://relay.example.com:80/" },
		{ "wss://[2001:4860::1]:4443/x", "https://[2001:4860::1]:4443/x" },
		{ "ws://" ONION, "http://" ONION "/" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct relay_url u;
		const char *why;
		char out[300];
		ck_assert_int_eq(relay_url_parse(c[i].in, strlen(c[i].in), 0, &u, &why), 0);
		ck_assert_int_eq(relay_url_nip11(&u, out, sizeof(out)), 0);
		ck_assert_str_eq(out, c[i].out);
		ck_assert_int_eq(relay_url_nip11(&u, out, strlen(c[i].out)), -1);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nostr_relay_url");
	TCase *tc = tcase_create("relay_url");
	tcase_set_timeout(tc, 0);
	tcase_add_loop_test(tc, test_cases, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_classification);
	tcase_add_test(tc, test_length_caps);
	tcase_add_test(tc, test_nip11_url);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
