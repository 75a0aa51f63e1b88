/* filter.h — NIP-01 filters: build, serialise to JSON, parse from JSON, match an event. */
#ifndef BROTR_NOSTR_FILTER_H
#define BROTR_NOSTR_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "nostr/err.h"
#include "nostr/event.h"
#include "nostr/json.h"

/* One "#x" condition: the event has a tag named `letter` whose first value is one of values. */
struct nostr_filter_tag {
	char letter; /* a-z or A-Z */
	struct nostr_str *values;
	size_t n;
};

/*
 * A filter. A list that is present (has_*) constrains the event even when empty (an empty list
 * matches nothing); an absent list does not constrain. All conditions must hold. The filter owns
 * its arrays and strings; fill it with the nostr_filter_add_* functions, set the scalars directly.
 */
struct nostr_filter {
	unsigned char (*ids)[32];
	size_t n_ids;
	int has_ids;
	unsigned char (*authors)[32];
	size_t n_authors;
	int has_authors;
	uint32_t *kinds;
	size_t n_kinds;
	int has_kinds;
	struct nostr_filter_tag *tags;
	size_t n_tags;
	int64_t since, until; /* inclusive bounds on created_at, when has_since / has_until */
	int has_since, has_until;
	int64_t limit; /* when has_limit: at most this many stored events (bounds the initial query only) */
	int has_limit;
};

void nostr_filter_init(struct nostr_filter *f);
void nostr_filter_free(struct nostr_filter *f);

/* Each returns 0, or -1 with *err set (NOSTR_E_ARG for a bad value, NOSTR_E_NOMEM). */
int nostr_filter_add_id(struct nostr_filter *f, const unsigned char id[32], struct nostr_err *err);
int nostr_filter_add_author(struct nostr_filter *f, const unsigned char pubkey[32], struct nostr_err *err);
int nostr_filter_add_kind(struct nostr_filter *f, uint32_t kind, struct nostr_err *err);
/* Adds value (valid UTF-8, copied) to the "#letter" list, creating the list if needed. */
int nostr_filter_add_tag(struct nostr_filter *f, char letter, const char *value, size_t len, struct nostr_err *err);

/* Appends the filter as a JSON object, keys in the order ids, authors, kinds, #x (as added), since,
 * until, limit. Check out->failed for allocation failure. */
void nostr_filter_json(const struct nostr_filter *f, struct buf *out);

/*
 * Reads the filter object at token obj of doc into f (which must be initialised and empty).
 * Strict: ids and authors 64 lower-case hex, kinds 0..65535, #x arrays of strings, since/until/limit
 * non-negative integers; unknown keys are rejected (a relay would not understand them either).
 * Returns 0, or -1 with *err set.
 */
int nostr_filter_from_json(struct nostr_filter *f, const struct json_doc *doc, size_t obj, struct nostr_err *err);

/* Whether ev satisfies every condition of f (limit is not a condition). */
int nostr_filter_match(const struct nostr_filter *f, const struct nostr_event *ev);

/* Whether ev satisfies at least one of n filters (a subscription's semantics). */
int nostr_filters_match(const struct nostr_filter *fs, size_t n, const struct nostr_event *ev);

#endif
