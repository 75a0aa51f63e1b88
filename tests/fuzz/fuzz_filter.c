/* fuzz_filter.c — libFuzzer: NIP-01 filters (REQ, the configured filter). Invariants: no crash; a parsed filter round-trips through JSON to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc doc, d2;
	struct nostr_filter f, g;
	struct nostr_err err = { 0 };
	struct buf a, b;
	json_doc_init(&doc);
	json_doc_init(&d2);
	nostr_filter_init(&f);
	nostr_filter_init(&g);
	buf_init(&a);
	buf_init(&b);
	char *copy = malloc(size ? size : 1); /* exactly size bytes: over-reads are caught */
	memcpy(copy, data, size);
	if (json_parse(&doc, copy, size, &err) == 0 && nostr_filter_from_json(&f, &doc, 0, &err) == 0) {
		nostr_filter_json(&f, &a);
		if (json_parse(&d2, a.data, a.len, &err) != 0 || nostr_filter_from_json(&g, &d2, 0, &err) != 0)
			abort(); /* our own output must parse */
		nostr_filter_json(&g, &b);
		if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			abort(); /* and be stable */
	}
	free(copy);
	json_doc_free(&doc);
	json_doc_free(&d2);
	nostr_filter_free(&f);
	nostr_filter_free(&g);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
