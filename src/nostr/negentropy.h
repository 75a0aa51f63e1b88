/* negentropy.h — NIP-77 negentropy set reconciliation (protocol v1): items, wire format, both roles; no I/O. */
#ifndef BROTR_NOSTR_NEGENTROPY_H
#define BROTR_NOSTR_NEGENTROPY_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "nostr/err.h"

/*
 * The protocol (hoytech/negentropy docs/negentropy-protocol-v1.md), as the reference implementation
 * runs it: both sides sort their (timestamp, id) items; the initiator sends 16 fingerprinted ranges
 * (or one id list when it holds fewer than 32 items); each side answers a range whose fingerprint
 * differs from its own by splitting it again, until ranges are small enough to exchange id lists.
 * The initiator learns the ids it has that the other side lacks (have) and the ids it lacks (need).
 *
 * Messages are binary here; NIP-77 carries them as lower-case hex (neg_hex_*). Every message
 * received is untrusted: a malformed, truncated or inconsistent one is rejected with NOSTR_E_MESSAGE
 * (field "negentropy", detail naming what is wrong), never read past its length, and costs time
 * linear in its length plus the storage size (one binary search per range, one pass over the
 * items a range covers, an id list sorted once).
 */

#define NEG_ID_SIZE 32
#define NEG_FINGERPRINT_SIZE 16
#define NEG_PROTOCOL_V1 0x61
#define NEG_TS_INFINITY UINT64_MAX /* reserved: no item may carry it */
#define NEG_FRAME_MIN 4096         /* smallest frame size limit (0 means none) */

/* ---- items ------------------------------------------------------------------------------------- */

struct neg_item {
	uint64_t ts; /* created_at; < NEG_TS_INFINITY */
	unsigned char id[NEG_ID_SIZE];
};

/*
 * A set of items: add them in any order, then seal (sort by timestamp, then id bytes). A sealed
 * storage is read-only: any number of sessions, in any threads, may read it at once; it must
 * outlive them. Zero-initialised or neg_storage_init'ed; release with neg_storage_free.
 */
struct neg_storage {
	struct neg_item *items; /* sorted once sealed */
	size_t n;
	size_t cap;
	int sealed;
};

void neg_storage_init(struct neg_storage *st);
void neg_storage_free(struct neg_storage *st);

/*
 * Adds one item (copied). Returns 0, or -1 with *err set: NOSTR_E_ARG when the storage is sealed or
 * ts is NEG_TS_INFINITY, NOSTR_E_NOMEM.
 */
int neg_storage_add(struct neg_storage *st, uint64_t ts, const unsigned char id[NEG_ID_SIZE], struct nostr_err *err)
	__attribute__((warn_unused_result));

/* Sorts and seals. Returns 0, or -1 with NOSTR_E_ARG when an item appears twice or it is already sealed. */
int neg_storage_seal(struct neg_storage *st, struct nostr_err *err) __attribute__((warn_unused_result));

/* First index in [from, st->n) whose item is >= (ts, id[32]), or st->n. Sealed storage only. */
size_t neg_storage_lower_bound(const struct neg_storage *st, size_t from, uint64_t ts, const unsigned char id[NEG_ID_SIZE]);

/*
 * The fingerprint of items [lo, hi): the first 16 bytes of sha256(sum of the ids read as
 * little-endian 256-bit numbers, mod 2^256, as 32 little-endian bytes || varint(hi - lo)).
 */
void neg_fingerprint(const struct neg_storage *st, size_t lo, size_t hi, unsigned char out[NEG_FINGERPRINT_SIZE]);

/* ---- wire format (exposed for tests and diagnostics) ------------------------------------------- */

/* A cursor over len received bytes; pos never passes len. */
struct neg_reader {
	const unsigned char *p;
	size_t len;
	size_t pos;
};

/*
 * A range bound: ts (NEG_TS_INFINITY for the end of the space) and the first id_len (0..32) bytes of
 * an id; id[id_len..32) are zero, as the protocol defines the omitted bytes.
 */
struct neg_bound {
	uint64_t ts;
	unsigned char id[NEG_ID_SIZE];
	unsigned id_len;
};

/* Appends v base-128, most significant digit first, high bit set on every byte but the last. */
void neg_varint_put(struct buf *out, uint64_t v);
/* Reads one varint. Returns 0, or -1 when truncated or above 2^64 - 1 (never reads past r->len). */
int neg_varint_get(struct neg_reader *r, uint64_t *v) __attribute__((warn_unused_result));

/*
 * Appends a bound; its timestamp is encoded as 0 for infinity, else 1 + (ts - *last_ts), and *last_ts
 * becomes ts (the caller starts each message with *last_ts = 0; bounds must ascend).
 */
void neg_bound_put(struct buf *out, uint64_t *last_ts, const struct neg_bound *b);
/* Reads a bound (the inverse). Returns 0, or -1 with *err set when truncated, id_len > 32 or ts overflows. */
int neg_bound_get(struct neg_reader *r, uint64_t *last_ts, struct neg_bound *b, struct nostr_err *err)
	__attribute__((warn_unused_result));

/*
 * Checks a message's structure without storage: the v1 version byte, then whole ranges (bound, mode
 * 0 Skip / 1 Fingerprint / 2 IdList, payload). *n_ranges (when not NULL) gets the number of ranges.
 * Returns 0, or -1 with *err set. A message cut exactly after a range is itself well formed.
 */
int neg_msg_check(const unsigned char *msg, size_t len, size_t *n_ranges, struct nostr_err *err)
	__attribute__((warn_unused_result));

/* Appends len bytes as lower-case hex to *hex. Check hex->failed for allocation failure. */
void neg_hex_put(struct buf *hex, const unsigned char *bin, size_t len);
/*
 * Decodes lower-case hex text[0..len) into *bin (reset first). Returns 0, or -1 with *err set:
 * NOSTR_E_MESSAGE for odd length or a non-hex character, NOSTR_E_NOMEM.
 */
int neg_hex_get(struct buf *bin, const char *text, size_t len, struct nostr_err *err) __attribute__((warn_unused_result));

/* ---- sessions ---------------------------------------------------------------------------------- */

/* A growing list of ids (have or need). Zero-initialised or neg_ids_init'ed; release with neg_ids_free. */
struct neg_ids {
	unsigned char (*id)[NEG_ID_SIZE];
	size_t n;
	size_t cap;
};

void neg_ids_init(struct neg_ids *l);
void neg_ids_free(struct neg_ids *l);

enum neg_role { NEG_ROLE_NONE = 0, NEG_ROLE_INITIATOR, NEG_ROLE_RESPONDER };

/*
 * One reconciliation, one side of it. The session reads its sealed storage (which must outlive it)
 * and owns only scratch memory; one thread at a time. The role is fixed by the first call:
 * neg_initiate makes it the initiator (client, NEG-OPEN), neg_respond the responder (server).
 */
struct neg_session {
	const struct neg_storage *st;
	size_t frame_limit; /* 0, or >= NEG_FRAME_MIN: every message we produce is at most this long */
	enum neg_role role;
	/* private scratch */
	struct buf range_;
	unsigned char (*ours_)[NEG_ID_SIZE];
	size_t ours_cap_;
	unsigned char (*theirs_)[NEG_ID_SIZE];
	size_t theirs_cap_;
};

/*
 * Prepares a session over a sealed storage. frame_limit bounds each message we produce (the
 * reference's frameSizeLimit; the other side then needs more round trips). Returns 0, or -1 with
 * NOSTR_E_ARG when frame_limit is in 1..4095 or st is not sealed.
 */
int neg_session_init(struct neg_session *s, const struct neg_storage *st, size_t frame_limit, struct nostr_err *err)
	__attribute__((warn_unused_result));
void neg_session_free(struct neg_session *s);

/* Writes the first message into *out (reset first). Returns 0, or -1 (NOSTR_E_ARG when the role is set). */
int neg_initiate(struct neg_session *s, struct buf *out, struct nostr_err *err) __attribute__((warn_unused_result));

/*
 * Initiator: processes the responder's message. Appends to *have the ids only we hold and to *need
 * the ids only they hold, learned from this message (with a frame size limit an id may be reported
 * again in a later round; the caller merges). Sets *done = 1 when reconciliation is complete (*out is
 * then empty), else writes the next message into *out. Returns 0, or -1 with *err set; after -1 the
 * session must not be used further (fall back), and have/need may hold part of this round.
 */
int neg_reconcile(struct neg_session *s, const unsigned char *msg, size_t len, struct buf *out, struct neg_ids *have,
		  struct neg_ids *need, int *done, struct nostr_err *err) __attribute__((warn_unused_result));

/*
 * Responder: writes the answer to an initiator's message into *out. A message of another protocol
 * version 0x60..0x6f gets the one-byte answer 0x61 (the version we speak), as the protocol asks.
 * Output without a frame limit is at most 34 bytes per input byte plus 32 bytes per stored item (each
 * range answered costs at most 100 bytes of bounds and headers; ids are 32 bytes and each is sent once).
 * Returns 0, or -1 with *err set.
 */
int neg_respond(struct neg_session *s, const unsigned char *msg, size_t len, struct buf *out, struct nostr_err *err)
	__attribute__((warn_unused_result));

#endif
