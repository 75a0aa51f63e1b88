/* http_reply.c — the parts of an HTTP response brotr reads itself (libwebsockets parses the rest): content type and length. */
#include "net/http_reply.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

int http_json_type(const char *ct)
{
	size_t n = strcspn(ct, ";");
	while (n && isspace((unsigned char)ct[n - 1]))
		n--;
	return (n == 22 && strncasecmp(ct, "application/nostr+json", n) == 0) ||
	       (n == 16 && strncasecmp(ct, "application/json", n) == 0);
}

int http_content_length(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t digits = 0;
	s += strspn(s, " \t");
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (digits == 18)
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	s += strspn(s, " \t");
	if (digits == 0 || *s)
		return -1;
	*out = v;
	return 0;
}
