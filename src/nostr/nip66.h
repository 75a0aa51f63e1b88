/* nip66.h — the result of one relay check (NIP-66 style): open/read/write and round-trip times, canonical JSON + hash. */
#ifndef BROTR_NOSTR_NIP66_H
#define BROTR_NOSTR_NIP66_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "nostr/err.h"

#define NIP66_ABSENT (-1)

/*
 * Every member may be absent (NIP66_ABSENT): a check that was not run, or whose result is unknown.
 * openable/readable/writable: 0 or 1. rtt_*: milliseconds, >= 0.
 */
struct nip66_result {
	int openable, readable, writable;
	int64_t rtt_open, rtt_read, rtt_write;
};

/* All members absent. */
void nip66_init(struct nip66_result *r);

/*
 * Appends the canonical JSON: members present only, keys in sorted order (openable, readable,
 * rtt_open, rtt_read, rtt_write, writable), booleans as true/false, times as integers, e.g.
 * {"openable":true,"readable":true,"rtt_open":87,"rtt_read":120,"writable":false}. Equal results
 * give equal bytes. Returns 0, or -1 when a member is out of range (nothing appended) or out of memory.
 */
int nip66_json(const struct nip66_result *r, struct buf *out);

/* sha256 of nip66_json. Returns 0, or -1 as nip66_json. */
int nip66_hash(const struct nip66_result *r, unsigned char out[32]);

/* Reads such an object back (keys in any order; unknown keys rejected). Returns 0, or -1 with *err. */
int nip66_parse(struct nip66_result *r, const char *text, size_t len, struct nostr_err *err);

#endif
