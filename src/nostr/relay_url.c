/* relay_url.c — parsing and normalising relay URLs (see relay_url.h for the rules); the NIP-11 URL. */
#include "nostr/relay_url.h"

#include <stdio.h>
#include <string.h>

const char *relay_network_name(enum relay_network net)
{
	return net == RELAY_NET_TOR ? "tor" : "clearnet";
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Reads the scheme; returns the length of "ws://" or "wss://" consumed, or 0 with *why. */
static size_t scheme(const char *s, size_t n, int *secure, const char **why)
{
	const char *sep = NULL;
	for (size_t i = 0; i + 2 < n && i < 16; i++)
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
			sep = s + i;
			break;
		}
	if (!sep)
		return *why = "not a relay URL (expected ws:// or wss://)", 0;
	size_t k = (size_t)(sep - s);
	char sch[16];
	for (size_t i = 0; i < k; i++)
		sch[i] = (char)lower((unsigned char)s[i]);
	if (k == 2 && memcmp(sch, "ws", 2) == 0)
		*secure = 0;
	else if (k == 3 && memcmp(sch, "wss", 3) == 0)
		*secure = 1;
	else
		return *why = "scheme must be ws or wss", 0;
	return k + 3;
}

/* Parses a port (decimal 1..65535); empty means the default. Returns 0 or -1. */
static int port(const char *s, size_t n, int secure, uint16_t *out)
{
	unsigned long v = 0;
	*out = secure ? 443 : 80;
	if (n == 0)
		return 0;
	if (n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

/* Splits the authority into host and port, checks and classifies the host into u. */
static int authority(const char *a, size_t n, unsigned flags, struct relay_url *u, const char **why)
{
	const char *hp = a, *colon;
	size_t hlen;
	if (n == 0)
		return *why = "missing host", -1;
	if (memchr(a, '@', n))
		return *why = "credentials (user@) are not allowed in a relay URL", -1;
	if (a[0] == '[') {
		const char *close = memchr(a, ']', n);
		if (!close)
			return *why = "invalid IPv6 address (missing ']')", -1;
		if (relay_host_ipv6(a + 1, (size_t)(close - a - 1), u->host, sizeof(u->host), &u->local, why) < 0)
			return -1;
		u->ip = 6;
		colon = close + 1 < a + n ? close + 1 : NULL;
		if (colon && *colon != ':')
			return *why = "unexpected characters after the IPv6 address", -1;
	} else {
		colon = memchr(a, ':', n);
		hlen = colon ? (size_t)(colon - a) : n;
		if (hlen > 0 && a[hlen - 1] == '.')
			hlen--; /* the root label: "relay.example." is "relay.example" */
		if (hlen == 0 || hlen > 253)
			return *why = hlen ? "host name longer than 253 characters" : "missing host", -1;
		for (size_t i = 0; i < hlen; i++)
			u->host[i] = (char)lower((unsigned char)hp[i]);
		u->host[hlen] = '\0';
		const char *dot = memrchr(u->host, '.', hlen);
		const char *last = dot ? dot + 1 : u->host;
		if (is_digits(last, hlen - (size_t)(last - u->host))) {
			unsigned char ip4[4];
			if (relay_host_ipv4(u->host, ip4, why) < 0)
				return -1;
			u->ip = 4;
			u->local = relay_ipv4_local(ip4);
		} else if (relay_host_name(u->host, hlen, &u->local, &u->network, why) < 0)
			return -1;
	}
	size_t plen = colon ? n - (size_t)(colon + 1 - a) : 0;
	if (port(colon ? colon + 1 : a, plen, u->secure, &u->port) < 0)
		return *why = "invalid port (expected 1..65535)", -1;
	if (u->local && !(flags & RELAY_URL_ALLOW_LOCAL))
		return *why = u->ip ? "local, private or reserved address (set [network] allow_local to accept)"
				    : "local host name (set [network] allow_local to accept)",
		       -1;
	return 0;
}

static int hexdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986 pchar or '/', other than '%'. */
static int path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-._~!$&'()*+,;=:@/", c));
}

/* Copies the path, upper-casing escapes and dropping trailing slashes; rejects dot segments. */
static int path(const char *p, size_t n, struct relay_url *u, const char **why)
{
	size_t o = 0;
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n + 1 > sizeof(u->path))
		return *why = "URL longer than 255 characters", -1;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '%') {
			if (i + 2 >= n || !hexdigit(p[i + 1]) || !hexdigit(p[i + 2]))
				return *why = "invalid percent-escape in path", -1;
			u->path[o++] = '%';
			u->path[o++] = (char)(p[i + 1] >= 'a' ? p[i + 1] - 32 : p[i + 1]);
			u->path[o++] = (char)(p[i + 2] >= 'a' ? p[i + 2] - 32 : p[i + 2]);
			i += 2;
			continue;
		}
		if (!path_char(c))
			return *why = "invalid character in path", -1;
		u->path[o++] = c;
	}
	u->path[o] = '\0';
	for (char *seg = u->path; seg && *seg; seg = strchr(seg + 1, '/')) {
		size_t len = strcspn(seg + 1, "/");
		if ((len == 1 && seg[1] == '.') || (len == 2 && seg[1] == '.' && seg[2] == '.'))
			return *why = "\".\" or \"..\" segment in path", -1;
	}
	return 0;
}

static int compose(struct relay_url *u, const char **why)
{
	int def = u->port == (u->secure ? 443 : 80);
	char port[8] = "";
	if (!def)
		snprintf(port, sizeof(port), ":%u", u->port);
	int n = snprintf(u->url, sizeof(u->url), "%s://%s%s%s%s%s", u->secure ? "wss" : "ws", u->ip == 6 ? "[" : "",
			 u->host, u->ip == 6 ? "]" : "", port, u->path);
	if (n < 0 || (size_t)n >= sizeof(u->url))
		return *why = "URL longer than 255 characters", -1;
	return 0;
}

int relay_url_parse(const char *in, size_t len, unsigned flags, struct relay_url *u, const char **why)
{
	memset(u, 0, sizeof(*u));
	while (len > 0 && is_space(in[0]))
		in++, len--;
	while (len > 0 && is_space(in[len - 1]))
		len--;
	if (len == 0)
		return *why = "empty URL", -1;
	if (len > RELAY_URL_INPUT_MAX)
		return *why = "URL longer than 2048 bytes", -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c <= 0x20 || c == 0x7f)
			return *why = "URL contains spaces or control characters", -1;
		if (c >= 0x80)
			return *why = "URL contains non-ASCII characters (use punycode or percent-escapes)", -1;
	}
	size_t k = scheme(in, len, &u->secure, why);
	if (k == 0)
		return -1;
	const char *a = in + k, *end = in + len;
	size_t alen = 0;
	while (a + alen < end && a[alen] != '/' && a[alen] != '?' && a[alen] != '#')
		alen++;
	const char *p = a + alen;
	size_t plen = 0;
	while (p + plen < end && p[plen] != '?' && p[plen] != '#')
		plen++;
	if (authority(a, alen, flags, u, why) < 0 || path(p, plen, u, why) < 0)
		return -1;
	return compose(u, why);
}

int relay_url_nip11(const struct relay_url *u, char *out, size_t n)
{
	char port[8] = "";
	if (u->port != (u->secure ? 443 : 80))
		snprintf(port, sizeof(port), ":%u", u->port);
	int w = snprintf(out, n, "%s://%s%s%s%s%s", u->secure ? "https" : "http", u->ip == 6 ? "[" : "", u->host,
			 u->ip == 6 ? "]" : "", port, u->path[0] ? u->path : "/");
	return (w < 0 || (size_t)w >= n) ? -1 : 0;
}
