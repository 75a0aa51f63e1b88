/* fuzz_event.c — libFuzzer: the event parser. Invariants: no crash; what parses re-serialises and re-parses to the same event. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/event.h"
#include "nostr/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nostr_ctx *ctx;
	if (!ctx && !(ctx = nostr_ctx_new()))
		abort();
	struct json_doc doc;
	struct nostr_event ev, back;
	struct nostr_err err = { 0 };
	struct buf a, b;
	char why[256];
	json_doc_init(&doc);
	nostr_event_init(&ev);
	nostr_event_init(&back);
	buf_init(&a);
	buf_init(&b);
	char *copy = malloc(size ? size : 1); /* exactly size bytes: over-reads are caught */
	memcpy(copy, data, size);
	int rc = nostr_event_parse(&ev, &doc, copy, size, &err);
	nostr_err_str(&err, why, sizeof(why));
	if (rc == 0) {
		nostr_event_to_json(&ev, &a);
		if (nostr_event_parse(&back, &doc, a.data, a.len, &err) != 0)
			abort(); /* our own output must parse */
		nostr_event_to_json(&back, &b);
		if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			abort(); /* and be stable */
		buf_reset(&a);
		nostr_event_serialize(&ev, &a);
		if (nostr_event_verify(ctx, &ev, &err) == 0 && nostr_event_check_id(&back, NULL, &err) != 0)
			abort();
	}
	free(copy);
	buf_free(&a);
	buf_free(&b);
	json_doc_free(&doc);
	nostr_event_free(&ev);
	nostr_event_free(&back);
	return 0;
}
