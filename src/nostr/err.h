/* err.h — why a piece of Nostr input was rejected: a code for counting and a specific reason for people. */
#ifndef BROTR_NOSTR_ERR_H
#define BROTR_NOSTR_ERR_H

#include <stddef.h>

enum nostr_errc {
	NOSTR_OK = 0,
	NOSTR_E_NOMEM,     /* out of memory (not the input's fault) */
	NOSTR_E_TOO_LARGE, /* input longer than the cap */
	NOSTR_E_NOT_JSON,  /* not well-formed JSON (detail and offset say where) */
	NOSTR_E_TYPE,      /* well-formed JSON of the wrong shape (not an object, not an array, ...) */
	NOSTR_E_MISSING,   /* a required field is absent (field) */
	NOSTR_E_DUPLICATE, /* a field appears twice (field) */
	NOSTR_E_FIELD,     /* a field has the wrong type or value (field, detail) */
	NOSTR_E_ID,        /* the id is not the hash of the event */
	NOSTR_E_PUBKEY,    /* the pubkey is not an x coordinate on secp256k1 */
	NOSTR_E_SIG,       /* the signature does not verify */
	NOSTR_E_MESSAGE,   /* a relay message of the wrong shape (field: the message type) */
	NOSTR_E_ARG,       /* a caller's argument is invalid (field, detail) */
};

/*
 * A rejection. field and detail point to static strings (or NULL); offset is a byte offset into
 * the input when has_offset is set. Zero-initialised means "no error".
 */
struct nostr_err {
	enum nostr_errc code;
	const char *field;
	const char *detail;
	size_t offset;
	int has_offset;
};

/* Sets *e (when e is not NULL) and returns -1, so callers can write `return nostr_fail(...)`. */
int nostr_fail(struct nostr_err *e, enum nostr_errc code, const char *field, const char *detail);

/*
 * Writes the reason as one line of text into out (always NUL-terminated when n > 0), e.g.
 * "bad field kind: expected an integer 0..65535", "not JSON: unexpected end of input at byte 17",
 * "missing field sig", "bad id: not the hash of the event", "bad signature". Returns out.
 */
const char *nostr_err_str(const struct nostr_err *e, char *out, size_t n);

/* A short constant name for the code ("bad id", "not JSON", ...), suitable as a metrics label. */
const char *nostr_errc_name(enum nostr_errc code);

#endif
