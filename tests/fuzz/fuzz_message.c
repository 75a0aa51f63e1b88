/* fuzz_message.c — libFuzzer: relay messages. Invariants: no crash; a parsed message has a valid subscription id; every failure has a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	if (rc != 0 && !why[0])
		abort();
	if (rc == 0 && msg.type != NOSTR_MSG_EVENT && msg.sub_id.s && !nostr_subid_valid(msg.sub_id.s, msg.sub_id.len))
		abort();
	free(copy);
	json_doc_free(&doc);
	nostr_msg_free(&msg);
	nostr_event_free(&ev);
	return 0;
}
