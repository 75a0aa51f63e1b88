/* json.h — strict JSON (RFC 8259) over a caller's bytes: tokens with byte ranges, string decoding and writing. */
#ifndef BROTR_NOSTR_JSON_H
#define BROTR_NOSTR_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "nostr/err.h"

/* Containers nested deeper than this are rejected. Relay messages nest 4 deep (an event's tags in
 * an EVENT), NIP-11 documents 4 or 5; the tokenizer's work per closing bracket is up to the depth. */
#define JSON_MAX_DEPTH 16
/* Hard cap on a document; callers apply their own, smaller caps first. */
#define JSON_MAX_LEN ((size_t)1 << 30)

enum json_type { JSON_NONE, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_TRUE, JSON_FALSE, JSON_NULL };

/*
 * One value. Tokens are in document order (pre-order): an array's elements follow it; an object's
 * members follow it as key, value, key, value... A key is a string token. `next` is the index of
 * the first token after the value and everything inside it, so siblings are walked with i = tok[i].next.
 */
struct json_tok {
	uint32_t start, end; /* byte range in the text; for strings the bytes between the quotes */
	uint32_t size;       /* arrays: number of elements; objects: number of members; else 0 */
	uint32_t next;       /* index of the token after this value's subtree */
	uint8_t type;        /* enum json_type */
	uint8_t escaped;     /* strings: contains at least one backslash escape */
	uint8_t integer;     /* numbers: no fraction and no exponent */
};

/*
 * A parsed document. It points into the caller's text (which must outlive it) and owns its token
 * array, which is reused by the next json_parse on the same doc. Not thread-safe: one per thread.
 */
struct json_doc {
	const char *text;
	size_t len;
	struct json_tok *tok; /* tok[0] is the top-level value */
	size_t n_tok;
	/* private */
	size_t cap_;
	void *raw_;       /* jsmn's tokens */
	size_t raw_cap_;
	size_t work_;     /* bytes and tokens the last json_parse went through (for tests of its cost) */
};

void json_doc_init(struct json_doc *d);
void json_doc_free(struct json_doc *d);

/*
 * Parses text[0..len) as exactly one JSON value surrounded by optional whitespace. Strings must be
 * valid UTF-8 without raw control characters; escapes must be valid and surrogate escapes paired;
 * numbers and literals must follow the grammar; no trailing commas; nesting at most JSON_MAX_DEPTH.
 * Returns 0, or -1 with *err set (NOSTR_E_NOT_JSON with detail and offset, NOSTR_E_TOO_LARGE,
 * NOSTR_E_NOMEM). The text need not be NUL-terminated; a NUL byte anywhere is rejected.
 * Time and memory are linear in len for every shape of input: at most one token per 2 bytes and 40
 * bytes per token while parsing (20 kept in d->tok); token arrays of more than 16384 entries are
 * not kept for the next parse.
 */
int json_parse(struct json_doc *d, const char *text, size_t len, struct nostr_err *err);

/*
 * Decodes string token t (escapes to UTF-8) into out, which must have room for t->end - t->start
 * bytes (decoding never grows a string). Writes no terminator. Returns the decoded length.
 */
size_t json_str_decode(const struct json_doc *d, const struct json_tok *t, char *out);

/* Whether string token t decodes to exactly the n bytes at s. */
int json_str_eq(const struct json_doc *d, const struct json_tok *t, const char *s, size_t n);

/* Whether string token t decodes to the NUL-terminated lit. */
int json_str_is(const struct json_doc *d, const struct json_tok *t, const char *lit);

/* Reads integer number token t (no fraction, no exponent) into *out. Returns 0, or -1 when t is not
 * such a number or is outside int64_t. */
int json_int(const struct json_doc *d, const struct json_tok *t, int64_t *out);

/* Index of the value of the member named key in object token obj, or 0 when absent (0 is never a
 * member's value). Of duplicate keys the last counts, as in JSON.parse and json_canonical. */
size_t json_member(const struct json_doc *d, size_t obj, const char *key);

/*
 * Appends s[0..n) as a JSON string with the NIP-01 canonical escapes: \" \\ \n \r \t \b \f, other
 * bytes below 0x20 as \u00xx (lower-case hex, as JSON.stringify), every other byte unchanged (so
 * '/', 0x7F, U+2028/2029 and all non-ASCII stay raw UTF-8). s must be valid UTF-8.
 */
void json_write_str(struct buf *b, const char *s, size_t n);

/*
 * Appends the canonical form of the value at token i: no whitespace; object members sorted by key
 * (bytewise, after decoding escapes), of duplicate keys only the last kept (as JSON.parse does);
 * strings re-escaped as json_write_str; integers that fit int64 in plain decimal; other numbers as
 * written. When skip is not NULL, an object member whose value token v has (skip[v] & mask) is left out,
 * and a number token n with (skip[n] & JSON_CANON_AS_STRING) is written as a string of its text.
 * Equal documents (up to whitespace, key order and escaping) give equal bytes. Returns 0, or -1
 * when out of memory.
 */
int json_canonical(const struct json_doc *d, size_t i, const uint8_t *skip, uint8_t mask, struct buf *out);
#define JSON_CANON_AS_STRING 0x80

/* Whether any string in the value at token i (keys included) contains U+0000. */
int json_value_has_nul(const struct json_doc *d, size_t i);

#endif
