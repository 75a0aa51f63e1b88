/* fuzz_negentropy.c — libFuzzer: NIP-77 negentropy messages to both roles. Invariants: no crash, no read past the bytes given; both roles accept exactly what neg_msg_check accepts; every answer fits the frame limit, or 34 bytes per input byte plus 32 per item without one. */
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/negentropy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ITEMS 400

/* 400 items over 40 timestamps, a quarter sharing a long id prefix: bounds of every length. */
static const struct neg_storage *storage(void)
{
	static struct neg_storage st;
	static int ready;
	if (ready)
		return &st;
	neg_storage_init(&st);
	for (int i = 0; i < ITEMS; i++) {
		unsigned char id[NEG_ID_SIZE];
		SHA256((const unsigned char *)&i, sizeof(i), id);
		if (i % 4 == 0)
			memset(id, 0x5a, (size_t)(i % 31));
		if (neg_storage_add(&st, 1000 + (uint64_t)(i % 40), id, NULL) < 0)
			abort();
	}
	if (neg_storage_seal(&st, NULL) < 0)
		abort();
	ready = 1;
	return &st;
}

static void one_role(const uint8_t *msg, size_t size, size_t frame, int initiator, int valid)
{
	struct neg_session s;
	struct buf out;
	struct neg_ids have, need;
	int done, rc;
	buf_init(&out);
	neg_ids_init(&have);
	neg_ids_init(&need);
	if (neg_session_init(&s, storage(), frame, NULL) < 0)
		abort();
	if (initiator) {
		if (neg_initiate(&s, &out, NULL) < 0)
			abort();
		rc = neg_reconcile(&s, msg, size, &out, &have, &need, &done, NULL);
	} else {
		rc = neg_respond(&s, msg, size, &out, NULL);
	}
	int other_version = size > 0 && msg[0] >= 0x60 && msg[0] <= 0x6f && msg[0] != NEG_PROTOCOL_V1;
	if ((rc == 0) != (valid || (other_version && !initiator)))
		abort();
	if (frame ? out.len > frame : out.len > 34 * size + 32 * ITEMS + 64)
		abort();
	if (rc == 0 && initiator && have.n + need.n > ITEMS + size / NEG_ID_SIZE)
		abort();
	neg_session_free(&s);
	buf_free(&out);
	neg_ids_free(&have);
	neg_ids_free(&need);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *msg = malloc(size ? size : 1); /* exactly size bytes: a read past them is caught */
	memcpy(msg, data, size);
	int valid = neg_msg_check(msg, size, NULL, NULL) == 0;
	for (int initiator = 0; initiator < 2; initiator++) {
		one_role(msg, size, 0, initiator, valid);
		one_role(msg, size, NEG_FRAME_MIN, initiator, valid);
	}
	free(msg);
	return 0;
}
