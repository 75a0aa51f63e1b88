/* event.h — a Nostr event (NIP-01): strict parsing, canonical serialisation, id, storage for later layers. */
#ifndef BROTR_NOSTR_EVENT_H
#define BROTR_NOSTR_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "nostr/err.h"
#include "nostr/json.h"

/* Longest event JSON accepted (bytes, as received). This cap also bounds the number of tags and of
 * strings per tag (each takes at least 2 or 3 bytes), so there are no separate caps for those. */
#define NOSTR_EVENT_MAX_JSON ((size_t)1 << 20)

/*
 * A string with an explicit length: Nostr strings may contain U+0000 (sent as \u0000), so never
 * rely on the terminator. s is nevertheless NUL-terminated at s[len] for convenience.
 */
struct nostr_str {
	const char *s;
	size_t len;
};

struct nostr_tag {
	const struct nostr_str *items; /* items[0] is the tag name; n may be 0 (an empty tag []) */
	size_t n;
};

/*
 * A parsed or built event. Every string it points to lives in memory the event owns; the event
 * is reusable (nostr_event_parse and nostr_event_set reuse its memory) and must be released with
 * nostr_event_free. Pointers into it stay valid until the next parse, set or free of this event.
 */
struct nostr_event {
	unsigned char id[32];
	unsigned char pubkey[32]; /* x-only public key */
	unsigned char sig[64];    /* BIP-340 Schnorr signature */
	int64_t created_at;       /* 0 .. INT64_MAX */
	uint32_t kind;            /* 0 .. 65535 */
	const struct nostr_tag *tags;
	size_t n_tags;
	struct nostr_str content;
	/* Set by nostr_event_parse as soon as a well-formed id was read, even when the event is then
	 * rejected for another reason (so a report can name it). */
	int have_id;
	/* private storage */
	char *mem_;
	size_t mem_cap_;
	struct nostr_tag *tag_mem_;
	size_t tag_cap_;
	struct nostr_str *item_mem_;
	size_t item_cap_;
};

void nostr_event_init(struct nostr_event *ev);
void nostr_event_free(struct nostr_event *ev);

/*
 * Parses one event object from text[0..len) with strict types: id and pubkey 64 lower-case hex,
 * sig 128 lower-case hex, created_at an integer 0..INT64_MAX (no fraction or exponent), kind an
 * integer 0..65535, tags an array of arrays of strings, content a string. Unknown fields are
 * ignored; a duplicated known field is rejected. Fields are checked in a fixed order (id, pubkey,
 * sig, created_at, kind, tags, content) so the reason does not depend on key order.
 * This checks structure only: see nostr_event_check_id and nostr_event_verify (verify.h).
 * doc is scratch space (reused between calls). Returns 0, or -1 with *err set; after a failure only
 * have_id (and id when it is set) are meaningful, the rest is unspecified but safe to reuse or free.
 * text must not point into ev's own storage.
 */
int nostr_event_parse(struct nostr_event *ev, struct json_doc *doc, const char *text, size_t len,
		      struct nostr_err *err);

/* Same, for the object at token index obj of an already parsed document (e.g. inside a relay message). */
int nostr_event_from_json(struct nostr_event *ev, const struct json_doc *doc, size_t obj, struct nostr_err *err);

/*
 * Sets the event's content, kind, created_at and tags, copying every string (content and tags
 * must be valid UTF-8; embedded NULs are fine). id, pubkey and sig are left as they were.
 * Returns 0, or -1 with *err set (NOSTR_E_ARG when a value is out of range or not UTF-8, NOSTR_E_NOMEM).
 */
int nostr_event_set(struct nostr_event *ev, uint32_t kind, int64_t created_at, const struct nostr_tag *tags,
		    size_t n_tags, const char *content, size_t content_len, struct nostr_err *err);

/* Copies src into dst (dst must be initialised). Returns 0, or -1 when out of memory. */
int nostr_event_copy(struct nostr_event *dst, const struct nostr_event *src);

/*
 * Appends the NIP-01 canonical serialisation [0,"<pubkey>",<created_at>,<kind>,<tags>,"<content>"]
 * (no whitespace; escapes as json_write_str) to out. Check out->failed for allocation failure.
 */
void nostr_event_serialize(const struct nostr_event *ev, struct buf *out);

/* Appends the tags as a JSON array of arrays of strings, same escapes (for a jsonb column, say). */
void nostr_event_tags_json(const struct nostr_event *ev, struct buf *out);

/* Appends the whole event as a JSON object {"id","pubkey","created_at","kind","tags","content","sig"}. */
void nostr_event_to_json(const struct nostr_event *ev, struct buf *out);

/*
 * Computes the id (sha256 of the canonical serialisation) into out. scratch is a reusable buffer
 * (or NULL for a temporary one). Returns 0, or -1 when out of memory.
 */
int nostr_event_compute_id(const struct nostr_event *ev, struct buf *scratch, unsigned char out[32]);

/* Whether ev->id is the hash of ev. Returns 0, or -1 with *err set (NOSTR_E_ID or NOSTR_E_NOMEM). */
int nostr_event_check_id(const struct nostr_event *ev, struct buf *scratch, struct nostr_err *err);

/* Tag i's item j, or NULL when absent. */
const struct nostr_str *nostr_event_tag_item(const struct nostr_event *ev, size_t i, size_t j);

/* Index of the first tag whose name is name (e.g. "d"), or -1. */
long nostr_event_find_tag(const struct nostr_event *ev, const char *name);

/* NIP-01 kind classes. */
int nostr_kind_is_regular(uint32_t kind);
int nostr_kind_is_replaceable(uint32_t kind);
int nostr_kind_is_ephemeral(uint32_t kind);
int nostr_kind_is_addressable(uint32_t kind);

#endif
