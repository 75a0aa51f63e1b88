/* encode.h — the one encoder of array parameters (PostgreSQL array literals) and the text checks
 * that decide what can be sent at all. Internal to pgc/ (tests use it too); no SQL here. */
#ifndef BROTR_PGC_ENCODE_H
#define BROTR_PGC_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

/*
 * A PostgreSQL array literal being built: "{" elements separated by "," "}". Text elements are
 * always double-quoted with '"' and '\' backslash-escaped, so braces, commas, spaces, the word
 * NULL and any UTF-8 come through unchanged; NULL is the bare word. The result is passed as a
 * parameter (never pasted into SQL) and cast to text[], jsonb[], bigint[], integer[],
 * boolean[] by the statement.
 */
struct pgarr {
	struct buf buf;
	size_t n;     /* elements so far */
	int too_long; /* an element would have made the literal longer than PGARR_MAX_BYTES */
};

/* Longest literal built: PostgreSQL refuses a parameter over 1 GB and a jsonb over 256 MB, and one
 * must not be built in memory first. Callers cut their batches far below (the synchronizer at
 * SYNC_BATCH_MAX_STATEMENT for all arrays of a statement); this is the last guard. */
#define PGARR_MAX_BYTES ((size_t)256 << 20)

void pgarr_init(struct pgarr *a);
void pgarr_free(struct pgarr *a);
/* Empties the array ("{" written), keeping the memory; a failure of the previous literal is forgotten. */
void pgarr_begin(struct pgarr *a);
/* Adds a text element. Returns 0, or -1 when s holds a NUL byte (nothing added). */
int pgarr_text(struct pgarr *a, const char *s, size_t len);
void pgarr_null(struct pgarr *a);
void pgarr_int(struct pgarr *a, long long v);
void pgarr_bool(struct pgarr *a, int v);
/* Adds the lower-case hex of n bytes as a text element (decoded by decode(x, 'hex')). */
void pgarr_hex(struct pgarr *a, const unsigned char *p, size_t n);
/* Closes the literal. Returns the NUL-terminated text, or NULL when memory ran out or an element
 * would have passed PGARR_MAX_BYTES (too_long; elements from then on were not added). */
const char *pgarr_end(struct pgarr *a);

/* utf8_valid (core/util.h) is what PostgreSQL accepts as UTF-8 (RFC 3629), NUL aside. */

/* 1 when the JSON text holds U+0000: a raw NUL byte, or a \u0000 escape inside a string. */
int json_has_nul(const char *s, size_t len);

#endif
