/* fuzz_socks5.c — libFuzzer: the SOCKS5 proxy's replies (method, RFC 1929 auth, CONNECT) and our requests. Invariants: no crash, no read past the bytes given; a verdict never changes as more bytes arrive; a reply's length is within SOCKS5_REPLY_MAX. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One parser over the first k bytes, in a buffer of exactly k bytes. */
static enum parse_result run(int which, const uint8_t *data, size_t k, uint8_t *v, size_t *need)
{
	uint8_t *p = malloc(k ? k : 1);
	memcpy(p, data, k);
	enum parse_result r;
	*v = 0;
	*need = 0;
	if (which == 0)
		r = socks5_parse_method(p, k, 0, v);
	else if (which == 1)
		r = socks5_parse_method(p, k, 1, v);
	else if (which == 2)
		r = socks5_parse_auth(p, k, v);
	else
		r = socks5_parse_reply(p, k, v, need);
	free(p);
	return r;
}

static void prefixes(int which, const uint8_t *data, size_t size)
{
	size_t n = size < SOCKS5_REPLY_MAX + 8 ? size : SOCKS5_REPLY_MAX + 8;
	enum parse_result verdict = PARSE_NEED_MORE;
	uint8_t v0 = 0;
	size_t need0 = 0;
	for (size_t k = 0; k <= n; k++) {
		uint8_t v;
		size_t need;
		enum parse_result r = run(which, data, k, &v, &need);
		if (which == 3 && (need > SOCKS5_REPLY_MAX || (r == PARSE_NEED_MORE && need <= k) ||
				   (r == PARSE_DONE && need > k)))
			abort();
		if (verdict == PARSE_NEED_MORE) {
			verdict = r;
			v0 = v;
			need0 = need;
		} else if (r != verdict || (r == PARSE_DONE && (v != v0 || need != need0))) {
			abort(); /* judged bytes were judged again differently */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int which = 0; which < 4; which++)
		prefixes(which, data, size);
	/* our requests, from a host and credentials the input names */
	char host[300], user[300], pass[300];
	size_t h = size < sizeof(host) - 1 ? size : sizeof(host) - 1;
	memcpy(host, data, h);
	host[h] = '\0';
	const char *nul = memchr(host, '\0', h + 1);
	snprintf(user, sizeof(user), "%s", nul + 1 < host + h ? nul + 1 : "u");
	snprintf(pass, sizeof(pass), "%s", host);
	uint8_t out[SOCKS5_AUTH_MAX > SOCKS5_CONNECT_MAX ? SOCKS5_AUTH_MAX : SOCKS5_CONNECT_MAX];
	size_t len = socks5_connect_request(out, sizeof(out), host, (uint16_t)(size * 257));
	if (len > SOCKS5_CONNECT_MAX || (len && (out[0] != SOCKS5_VERSION || out[3] != SOCKS5_ATYP_DOMAIN ||
						 out[4] != strlen(host) || len != 7 + strlen(host))))
		abort();
	len = socks5_auth_request(out, sizeof(out), user, pass);
	if (len > SOCKS5_AUTH_MAX || (len && len != 3 + strlen(user) + strlen(pass)))
		abort();
	return 0;
}
