/* http_connect.c — an incremental parser for the HTTP CONNECT request libwebsockets sends to its proxy. */
#include "net/http_connect.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>


static const char method[] = "CONNECT ";

/* Decodes standard base64 (padding required) into out. Returns the length, or -1. */
static int b64_decode(const char *in, size_t n, char *out, size_t cap)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	if (n == 0 || n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		unsigned v = 0;
		int pad = 0;
		for (size_t j = 0; j < 4; j++) {
			const char *c = in[i + j] ? strchr(alpha, in[i + j]) : NULL;
			if (in[i + j] == '=' && i + 4 == n && j >= 2 && (j == 3 || in[i + 3] == '='))
				pad++;
			else if (!c || pad)
				return -1;
			v = (v << 6) | (c ? (unsigned)(c - alpha) : 0);
		}
		for (int k = 0; k < 3 - pad; k++) {
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)((v >> (16 - 8 * k)) & 0xff);
		}
	}
	out[o] = '\0';
	return (int)o;
}

/* "host:port" or "[v6]:port" of length n. Returns 0, or -1. */
static int parse_target(const char *s, size_t n, struct http_connect_req *req)
{
	const char *colon = NULL, *h = s;
	size_t hl;
	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || close + 1 >= s + n || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		for (size_t i = 0; i < n; i++)
			if (s[i] == ':')
				colon = s + i;
		if (!colon)
			return -1;
		hl = (size_t)(colon - s);
	}
	size_t pl = (size_t)(s + n - colon - 1);
	if (hl == 0 || hl >= sizeof(req->host) || pl == 0 || pl > 5)
		return -1;
	int port = 0;
	for (size_t i = 0; i < pl; i++) {
		if (!isdigit((unsigned char)colon[1 + i]))
			return -1;
		port = port * 10 + (colon[1 + i] - '0');
	}
	if (port < 1 || port > 65535)
		return -1;
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)h[i] <= ' ' || h[i] == '/' || h[i] == '@')
			return -1;
	memcpy(req->host, h, hl);
	req->host[hl] = '\0';
	req->port = port;
	return 0;
}

/* The complete request line (without CRLF). */
static int parse_request_line(const char *s, size_t n, struct http_connect_req *req)
{
	static const char ver[] = " HTTP/1.";
	size_t ml = sizeof(method) - 1, vl = sizeof(ver) - 1;
	if (n < ml + 1 + vl + 1 || memcmp(s, method, ml) != 0)
		return -1;
	const char *v = s + n - (vl + 1);
	if (memcmp(v, ver, vl) != 0 || (v[vl] != '0' && v[vl] != '1'))
		return -1;
	return parse_target(s + ml, (size_t)(v - (s + ml)), req);
}

/* One complete header line (without CRLF). */
static int parse_header(const char *s, size_t n, struct http_connect_req *req)
{
	static const char name[] = "proxy-authorization:";
	const char *colon = memchr(s, ':', n);
	if (!colon || colon == s)
		return -1;
	for (const char *c = s; c < colon; c++)
		if (!isgraph((unsigned char)*c))
			return -1;
	size_t nl = sizeof(name) - 1;
	if ((size_t)(colon - s) + 1 != nl || strncasecmp(s, name, nl) != 0)
		return 0;
	if (req->has_auth)
		return -1;
	const char *v = colon + 1, *end = s + n;
	while (v < end && *v == ' ')
		v++;
	if (end - v < 6 || strncasecmp(v, "basic ", 6) != 0)
		return -1;
	v += 6;
	while (v < end && *v == ' ')
		v++;
	while (end > v && end[-1] == ' ')
		end--;
	if (b64_decode(v, (size_t)(end - v), req->auth, sizeof(req->auth)) < 0)
		return -1;
	req->has_auth = 1;
	return 0;
}

/* Checks that the bytes of an unfinished line could still become a valid one. */
static int partial_line_ok(const char *s, size_t n, int first)
{
	size_t ml = sizeof(method) - 1;
	if (first && memcmp(s, method, n < ml ? n : ml) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || (s[i] == '\r' && i + 1 < n))
			return 0;
	return 1;
}

enum parse_result http_connect_parse(const char *p, size_t len, struct http_connect_req *req, size_t *used)
{
	memset(req, 0, sizeof(*req));
	size_t pos = 0;
	for (int line = 0;; line++) {
		const char *lf = memchr(p + pos, '\n', len - pos);
		if (!lf) {
			if (len > HTTP_CONNECT_MAX)
				return PARSE_INVALID;
			return partial_line_ok(p + pos, len - pos, line == 0) ? PARSE_NEED_MORE : PARSE_INVALID;
		}
		size_t end = (size_t)(lf - p);
		if (end + 1 > HTTP_CONNECT_MAX || end == pos || p[end - 1] != '\r')
			return PARSE_INVALID;
		const char *s = p + pos;
		size_t n = end - 1 - pos;
		if (memchr(s, '\0', n) || memchr(s, '\r', n))
			return PARSE_INVALID;
		if (line > 0 && n == 0) {
			*used = end + 1;
			return PARSE_DONE;
		}
		int rc = line == 0 ? parse_request_line(s, n, req) : parse_header(s, n, req);
		if (rc < 0)
			return PARSE_INVALID;
		pos = end + 1;
	}
}
