/* fuzz_url.c — libFuzzer: relay URL normalisation. Invariants: no crash; output short, idempotent, and never local without the flag. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/relay_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	for (unsigned flags = 0; flags <= RELAY_URL_ALLOW_LOCAL; flags++) {
		struct relay_url u, again;
		const char *why = NULL;
		if (relay_url_parse(copy, size, flags, &u, &why) != 0) {
			if (!why || !*why)
				abort(); /* every rejection has a reason */
			continue;
		}
		size_t n = strlen(u.url);
		if (n > RELAY_URL_MAX || (u.local && !(flags & RELAY_URL_ALLOW_LOCAL)))
			abort();
		if (n > 0 && u.url[n - 1] == '/')
			abort();
		if (relay_url_parse(u.url, n, flags, &again, &why) != 0 || strcmp(again.url, u.url) != 0 ||
		    again.network != u.network || again.port != u.port)
			abort();
		char nip11[RELAY_URL_MAX + 16];
		if (relay_url_nip11(&u, nip11, sizeof(nip11)) != 0)
			abort();
	}
	free(copy);
	return 0;
}
