/* url.c — the minimum of a relay URL the network layer needs: scheme, host, port, path, network. */
#include "net/url.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* host[:port] of length n into u. */
static int parse_authority(const char *s, size_t n, struct net_url *u, char *err, size_t errlen)
{
	const char *h = s, *colon = NULL;
	size_t hl;
	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return fail(err, errlen, "unterminated IPv6 literal");
		h = s + 1;
		hl = (size_t)(close - h);
		if (close + 1 < s + n && close[1] != ':')
			return fail(err, errlen, "junk after IPv6 literal");
		colon = close + 1 < s + n ? close + 1 : NULL;
		u->ipv6 = 1;
	} else {
		colon = memchr(s, ':', n);
		hl = colon ? (size_t)(colon - s) : n;
	}
	if (hl == 0 || hl >= sizeof(u->host))
		return fail(err, errlen, hl ? "host name too long" : "no host");
	for (size_t i = 0; i < hl; i++) {
		unsigned char c = (unsigned char)h[i];
		if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || (u->ipv6 && c == ':')))
			return fail(err, errlen, "invalid character in host");
		u->host[i] = (char)tolower(c);
	}
	u->host[hl] = '\0';
	if (colon) {
		size_t pl = (size_t)(s + n - colon - 1);
		long port = 0;
		if (pl == 0 || pl > 5)
			return fail(err, errlen, "invalid port");
		for (size_t i = 0; i < pl; i++) {
			if (!isdigit((unsigned char)colon[1 + i]))
				return fail(err, errlen, "invalid port");
			port = port * 10 + (colon[1 + i] - '0');
		}
		if (port < 1 || port > 65535)
			return fail(err, errlen, "port out of range");
		u->port = (int)port;
	}
	return 0;
}

int net_url_parse(const char *url, struct net_url *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	const char *rest;
	if (strncasecmp(url, "wss://", 6) == 0) {
		u->tls = 1;
		rest = url + 6;
	} else if (strncasecmp(url, "ws://", 5) == 0) {
		rest = url + 5;
	} else {
		return fail(err, errlen, "scheme is not ws:// or wss://");
	}
	size_t n = strcspn(rest, "/?#");
	if (memchr(rest, '@', n))
		return fail(err, errlen, "user information is not allowed");
	if (parse_authority(rest, n, u, err, errlen) < 0)
		return -1;
	if (!u->port)
		u->port = u->tls ? 443 : 80;
	const char *path = rest + n;
	if (strchr(path, '#'))
		return fail(err, errlen, "fragment is not allowed");
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
			return fail(err, errlen, "invalid character in path");
	if (strlen(path) + 2 > sizeof(u->path))
		return fail(err, errlen, "path too long");
	snprintf(u->path, sizeof(u->path), "%s%s", *path == '/' ? "" : "/", path);
	return 0;
}

int net_host_is_onion(const char *host)
{
	size_t n = strlen(host);
	return n > 6 && strcmp(host + n - 6, ".onion") == 0;
}

const char *net_network_name(enum net_network nw)
{
	return nw == NET_TOR ? "tor" : "clearnet";
}
