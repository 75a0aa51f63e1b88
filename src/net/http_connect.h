/* http_connect.h — an incremental parser for the HTTP CONNECT request libwebsockets sends to its proxy. */
#ifndef BROTR_NET_HTTP_CONNECT_H
#define BROTR_NET_HTTP_CONNECT_H

#include <stddef.h>

#include "net/parse.h"

#define HTTP_CONNECT_MAX 2048 /* a longer request is refused */

struct http_connect_req {
	char host[256];    /* the target host, brackets of an IPv6 literal removed */
	int port;          /* 1..65535 */
	int has_auth;      /* a Proxy-Authorization: Basic header was present */
	char auth[192];    /* its decoded "user:password" */
};

/*
 * Parses "CONNECT host:port HTTP/1.x" CRLF, header lines, and the empty line that ends them,
 * from the len bytes received so far. DONE fills req and sets *used to the request's length
 * (any later bytes already belong to the tunnel). NEED_MORE: a valid prefix. INVALID: any
 * other method, a malformed request line or header, a duplicate or undecodable
 * Proxy-Authorization, or more than HTTP_CONNECT_MAX bytes without the end of the headers.
 * Header names are case-insensitive; lines end in CRLF.
 */
enum parse_result http_connect_parse(const char *p, size_t len, struct http_connect_req *req, size_t *used);

#endif
