/* http_reply.h — the parts of an HTTP response brotr reads itself (libwebsockets parses the rest): content type and length. */
#ifndef BROTR_NET_HTTP_REPLY_H
#define BROTR_NET_HTTP_REPLY_H

#include <stddef.h>

/* Whether Content-Type value ct is application/nostr+json or application/json, case and
 * parameters aside ("application/json; charset=utf-8"). ct is NUL-terminated. */
int http_json_type(const char *ct);

/* Reads Content-Length value s (NUL-terminated): decimal digits only, optional spaces or tabs
 * around them, no sign, at most 18 digits. Returns 0 and *out, or -1. */
int http_content_length(const char *s, unsigned long long *out);

#endif
