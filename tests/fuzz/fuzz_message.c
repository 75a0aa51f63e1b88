/* fuzz_message.c — libFuzzer: relay messages and filters. Invariants: no crash; a parsed filter round-trips through JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void filter_roundtrip(struct json_doc *doc)
{
	struct nostr_filter f, g;
	struct nostr_err err = { 0 };
	struct buf a, b;
	nostr_filter_init(&f);
	nostr_filter_init(&g);
	buf_init(&a);
	buf_init(&b);
	if (nostr_filter_from_json(&f, doc, 0, &err) == 0) {
		nostr_filter_json(&f, &a);
		struct json_doc d2;
		json_doc_init(&d2);
		if (json_parse(&d2, a.data, a.len, &err) != 0 || nostr_filter_from_json(&g, &d2, 0, &err) != 0)
			abort();
		nostr_filter_json(&g, &b);
		if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			abort();
		json_doc_free(&d2);
	}
	nostr_filter_free(&f);
	nostr_filter_free(&g);
	buf_free(&a);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc doc;
	struct nostr_msg msg;
	struct nostr_event ev;
	struct nostr_err err = { 0 };
	char why[256];
	json_doc_init(&doc);
	nostr_msg_init(&msg);
	nostr_event_init(&ev);
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	int rc = nostr_msg_parse(&msg, &doc, &ev, copy, size, &err);
	nostr_err_str(&err, why, sizeof(why));
	if (rc == 0 && msg.type != NOSTR_MSG_EVENT && msg.sub_id.s && !nostr_subid_valid(msg.sub_id.s, msg.sub_id.len))
		abort();
	if (json_parse(&doc, copy, size, &err) == 0 && doc.tok[0].type == JSON_OBJECT)
		filter_roundtrip(&doc);
	free(copy);
	json_doc_free(&doc);
	nostr_msg_free(&msg);
	nostr_event_free(&ev);
	return 0;
}
