/* fuzz_http_connect.c — libFuzzer: the HTTP CONNECT requests the local helper reads (from libwebsockets, or any local process). Invariants: no crash, no read past the bytes given; a verdict never changes as more bytes arrive; a request is at most HTTP_CONNECT_MAX bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_connect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum parse_result run(const uint8_t *data, size_t k, struct http_connect_req *req, size_t *used)
{
	char *p = malloc(k ? k : 1);
	memcpy(p, data, k);
	memset(req, 0, sizeof(*req));
	*used = 0;
	enum parse_result r = http_connect_parse(p, k, req, used);
	free(p);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* every prefix up to 256 bytes, then every 61st (the parser reads its input again each call) */
	enum parse_result verdict = PARSE_NEED_MORE;
	struct http_connect_req first, req;
	size_t used0 = 0, used;
	for (size_t k = 0; k <= size; k = k < 256 ? k + 1 : (k + 61 < size || k == size ? k + 61 : size)) {
		enum parse_result r = run(data, k, &req, &used);
		if (r == PARSE_DONE && (used > k || used > HTTP_CONNECT_MAX || req.port < 1 || req.port > 65535 ||
					!memchr(req.host, '\0', sizeof(req.host)) || !req.host[0] ||
					!memchr(req.auth, '\0', sizeof(req.auth))))
			abort();
		if (r == PARSE_NEED_MORE && k > HTTP_CONNECT_MAX)
			abort(); /* too long without the end of the headers is invalid */
		if (verdict == PARSE_NEED_MORE) {
			verdict = r;
			first = req;
			used0 = used;
		} else if (r != verdict || (r == PARSE_DONE && (used != used0 || memcmp(&req, &first, sizeof(req)) != 0))) {
			abort();
		}
	}
	return 0;
}
