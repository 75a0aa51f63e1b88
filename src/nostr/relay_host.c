/* relay_host.c — relay hosts: names, v3 onion addresses, IPv4 and IPv6 literals, and which are local. */
#include "nostr/relay_url.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <string.h>

static int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0 && (n == k || s[n - k - 1] == '.' || suffix[0] == '.');
}

int relay_ipv4_local(const unsigned char a[4])
{
	return a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||                  /* this, private, loopback, multicast, reserved */
	       (a[0] == 100 && (a[1] & 0xC0) == 64) ||                                     /* 100.64/10 shared */
	       (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xF0) == 16) ||     /* link-local, 172.16/12 */
	       (a[0] == 192 && a[1] == 0 && (a[2] == 0 || a[2] == 2)) ||                   /* 192.0.0/24, TEST-NET-1 */
	       (a[0] == 192 && a[1] == 88 && a[2] == 99) || (a[0] == 192 && a[1] == 168) || /* 6to4 relay, private */
	       (a[0] == 198 && (a[1] & 0xFE) == 18) || (a[0] == 198 && a[1] == 51 && a[2] == 100) || /* benchmark, TEST-NET-2 */
	       (a[0] == 203 && a[1] == 0 && a[2] == 113);                                  /* TEST-NET-3 */
}

static int ipv6_local(const unsigned char a[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return relay_ipv4_local(a + 12);
	if ((a[0] & 0xE0) != 0x20) /* outside 2000::/3 global unicast: ::, ::1, fc00::/7, fe80::/10, ff00::/8... */
		return 1;
	if (a[0] == 0x20 && a[1] == 0x02) /* 6to4: the embedded IPv4 address */
		return relay_ipv4_local(a + 2);
	return (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02) ||                  /* 2001::/23 IETF protocol assignments */
	       (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) || /* 2001:db8::/32 documentation */
	       (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xF0) == 0);            /* 3fff::/20 documentation */
}

int relay_host_ipv4(const char *host, unsigned char addr[4], const char **why)
{
	const char *p = host;
	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && p[-(int)digits] == '0'))
			return *why = "invalid IPv4 address (expected four decimal numbers 0..255, no leading zeros)", -1;
		addr[i] = (unsigned char)v;
		if (i < 3 && *p++ != '.')
			return *why = "invalid IPv4 address (expected four decimal numbers 0..255, no leading zeros)", -1;
	}
	if (*p != '\0')
		return *why = "invalid IPv4 address (expected four decimal numbers 0..255, no leading zeros)", -1;
	return 0;
}

int relay_host_ipv6(const char *text, size_t len, char *out, size_t outlen, int *local, const char **why)
{
	char tmp[64];
	unsigned char a[16];
	if (memchr(text, '%', len))
		return *why = "IPv6 zone ids are not allowed", -1;
	if (len >= sizeof(tmp))
		return *why = "invalid IPv6 address", -1;
	memcpy(tmp, text, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET6, tmp, a) != 1 || !inet_ntop(AF_INET6, a, out, (socklen_t)outlen))
		return *why = "invalid IPv6 address", -1;
	*local = ipv6_local(a);
	return 0;
}

/* Decodes 56 base32 characters (a-z, 2-7) into 35 bytes. Returns 0 or -1. */
static int base32_56(const char *s, unsigned char out[35])
{
	unsigned acc = 0, bits = 0;
	size_t n = 0;
	for (int i = 0; i < 56; i++) {
		char c = s[i];
		unsigned v;
		if (c >= 'a' && c <= 'z')
			v = (unsigned)(c - 'a');
		else if (c >= '2' && c <= '7')
			v = (unsigned)(c - '2' + 26);
		else
			return -1;
		acc = (acc << 5 | v) & 0xFFF;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n == 35 ? 0 : -1;
}

/* A v3 onion service name: base32(pubkey[32] | checksum[2] | version 3), checksum from SHA3-256. */
static int onion_v3(const char *label, size_t n, const char **why)
{
	unsigned char raw[35], digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (n == 16)
		return *why = "v2 onion address (no longer supported; v3 has 56 characters)", -1;
	if (n != 56 || base32_56(label, raw) < 0)
		return *why = "onion address must be 56 base32 characters (v3)", -1;
	if (raw[34] != 3)
		return *why = "onion address with a version other than 3", -1;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestInit_ex(md, EVP_sha3_256(), NULL) &&
		 EVP_DigestUpdate(md, ".onion checksum", 15) && EVP_DigestUpdate(md, raw, 32) &&
		 EVP_DigestUpdate(md, raw + 34, 1) && EVP_DigestFinal_ex(md, digest, &dlen);
	EVP_MD_CTX_free(md);
	if (!ok)
		return *why = "cannot check the onion address (SHA3 unavailable)", -1;
	if (memcmp(digest, raw + 32, 2) != 0)
		return *why = "onion address checksum does not match", -1;
	return 0;
}

/* Checks every label: 1..63 of a-z 0-9 '-', not starting or ending with '-'. */
static int labels_ok(const char *h, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && h[i] != '.') {
			char c = h[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
				return 0;
			continue;
		}
		size_t len = i - start;
		if (len == 0 || len > 63 || h[start] == '-' || h[i - 1] == '-')
			return 0;
		start = i + 1;
	}
	return 1;
}

/* Host names under these are never public relays. */
static const char *const local_suffixes[] = { "localhost", "local", "internal", "lan", "home.arpa", "test",
					      "invalid", "example" };

int relay_host_name(char *h, size_t n, int *local, enum relay_network *net, const char **why)
{
	*local = 0;
	*net = RELAY_NET_CLEARNET;
	if (n > 253 || !labels_ok(h, n))
		return *why = "invalid host name (letters, digits and hyphens; labels of 1..63; punycode for others)", -1;
	const char *last = memrchr(h, '.', n);
	const char *tld = last ? last + 1 : h;
	size_t tld_len = n - (size_t)(tld - h);
	if (tld_len == 5 && memcmp(tld, "onion", 5) == 0) {
		*net = RELAY_NET_TOR;
		const char *prev = last ? memrchr(h, '.', (size_t)(last - h)) : NULL;
		if (!last || prev)
			return *why = last ? "onion address with a subdomain" : "onion address must be 56 base32 characters (v3)", -1;
		return onion_v3(h, (size_t)(last - h), why);
	}
	if ((tld_len == 3 && memcmp(tld, "i2p", 3) == 0) || (tld_len == 4 && memcmp(tld, "loki", 4) == 0))
		return *why = "unsupported network (only clearnet and tor)", -1;
	if (tld_len == n) /* one label */
		*local = 1;
	for (size_t i = 0; i < sizeof(local_suffixes) / sizeof(local_suffixes[0]); i++)
		if (ends_with(h, n, local_suffixes[i]))
			*local = 1;
	return 0;
}
