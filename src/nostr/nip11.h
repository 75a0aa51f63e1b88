/* nip11.h — NIP-11 relay information documents: typed fields, kept extras, dropped fields noted, canonical hash. */
#ifndef BROTR_NOSTR_NIP11_H
#define BROTR_NOSTR_NIP11_H

#include <stddef.h>
#include <stdint.h>

#include "nostr/err.h"
#include "nostr/event.h"
#include "nostr/json.h"

/* Largest document accepted (bytes). */
#define NIP11_MAX_JSON ((size_t)256 << 10)
/* A number with more digits than this (printed in plain decimal, as PostgreSQL prints numeric) is
 * stored as a string of its text. */
#define NIP11_NUMBER_MAX_DIGITS 64
/* At most this many notes are kept (n_notes still counts them all). */
#define NIP11_MAX_NOTES 32

/* The integer limitations, indexes into nip11_limitation.value. */
enum nip11_limit {
	NIP11_MAX_MESSAGE_LENGTH, NIP11_MAX_SUBSCRIPTIONS, NIP11_MAX_FILTERS, NIP11_MAX_LIMIT,
	NIP11_MAX_SUBID_LENGTH, NIP11_MAX_EVENT_TAGS, NIP11_MAX_CONTENT_LENGTH, NIP11_MIN_POW_DIFFICULTY,
	NIP11_CREATED_AT_LOWER_LIMIT, NIP11_CREATED_AT_UPPER_LIMIT, NIP11_DEFAULT_LIMIT, NIP11_MIN_PREFIX,
	NIP11_LIMIT_COUNT
};

struct nip11_limitation {
	int64_t value[NIP11_LIMIT_COUNT];
	int has[NIP11_LIMIT_COUNT];
	/* -1 absent, 0 false, 1 true */
	int auth_required, payment_required, restricted_writes;
};

/* A string list field (relay_countries, language_tags, tags). */
struct nip11_strings {
	struct nostr_str *items;
	size_t n;
	int present;
};

/*
 * A parsed document. A field is kept only when it has the type NIP-11 gives it (the whole field:
 * one bad element drops a list); otherwise it is dropped and a note says why. Strings containing
 * U+0000 are dropped too (PostgreSQL text and jsonb cannot hold it). Unknown fields are kept as
 * extras. So that the canonical document is always storable as jsonb, a number of more than
 * NIP11_NUMBER_MAX_DIGITS digits (1e200000, which PostgreSQL cannot hold, or 1e-16383, which it
 * prints in 16385) is kept as a string of its text, and a \u escape of a lone UTF-16 surrogate
 * (JSON.parse takes it, jsonb does not) is read as U+FFFD; a note says so. Every string is owned by
 * the document (s == NULL means absent).
 */
struct nip11_doc {
	struct nostr_str name, description, banner, icon, pubkey, self, contact, software, version, privacy_policy,
		terms_of_service, posting_policy, payments_url;
	int64_t *supported_nips;
	size_t n_supported_nips;
	int has_supported_nips;
	int64_t supported_nips_at;
	int has_supported_nips_at;
	struct nip11_strings relay_countries, language_tags, tags;
	struct nip11_limitation limitation;
	int has_limitation;
	/* Canonical JSON (json_canonical) of kept parts, NUL-terminated, NULL when absent: */
	char *limitation_json; /* the limitation object: its typed members that passed, and unknown ones */
	char *retention_json;  /* the retention array */
	char *fees_json;       /* the fees object */
	char *extra_json;      /* an object of the unknown top-level fields */
	/* The whole document as kept (typed fields that passed plus extras), canonical, and its sha256:
	 * documents that differ only in whitespace, key order, escaping or dropped fields hash equal. */
	char *canonical;
	size_t canonical_len;
	unsigned char hash[32];
	/* Why fields were dropped, e.g. "supported_nips dropped: expected an array of integers". */
	char *notes[NIP11_MAX_NOTES];
	size_t n_notes;
	/* private */
	struct json_doc doc_;
	uint8_t *skip_;
};

void nip11_init(struct nip11_doc *d);
void nip11_free(struct nip11_doc *d);

/*
 * Parses text[0..len) into d (initialised; any previous content is freed). Fails only when the
 * whole document is unusable: longer than NIP11_MAX_JSON, not JSON, not an object (or out of
 * memory). Returns 0, or -1 with *err set.
 */
int nip11_parse(struct nip11_doc *d, const char *text, size_t len, struct nostr_err *err);

/* The member name of a limitation index ("max_message_length", ...). */
const char *nip11_limit_name(enum nip11_limit i);

#endif
