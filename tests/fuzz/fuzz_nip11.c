/* fuzz_nip11.c — libFuzzer: NIP-11 documents. Invariants: no crash; the canonical form is a fixed point (same bytes, same hash, no notes: nothing left to drop or normalise). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/nip11.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nip11_doc d, again;
	struct nostr_err err = { 0 };
	nip11_init(&d);
	nip11_init(&again);
	/* (a canonical form may be longer than its input: numbers become strings; then it is not re-read) */
	if (nip11_parse(&d, (const char *)data, size, &err) == 0 && d.canonical_len <= NIP11_MAX_JSON) {
		if (nip11_parse(&again, d.canonical, d.canonical_len, &err) != 0)
			abort();
		if (again.canonical_len != d.canonical_len || memcmp(again.canonical, d.canonical, d.canonical_len) != 0 ||
		    memcmp(again.hash, d.hash, 32) != 0 || again.n_notes != 0)
			abort();
	}
	nip11_free(&d);
	nip11_free(&again);
	return 0;
}
