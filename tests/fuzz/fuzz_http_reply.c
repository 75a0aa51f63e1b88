/* fuzz_http_reply.c — libFuzzer: the NIP-11 response headers brotr reads itself (content type, content length). Invariants: no crash; a length taken is digits only and reads back the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1); /* header values arrive NUL-terminated */
	memcpy(s, data, size);
	s[size] = '\0';
	(void)http_json_type(s);
	unsigned long long v;
	if (http_content_length(s, &v) == 0) {
		const char *p = s + strspn(s, " \t");
		while (*p == '0' && p[1] >= '0' && p[1] <= '9')
			p++;
		char back[32];
		int n = snprintf(back, sizeof(back), "%llu", v);
		if (strncmp(p, back, (size_t)n) != 0 || (p[n] && p[n] != ' ' && p[n] != '\t'))
			abort();
	}
	free(s);
	return 0;
}
