/* message.h — NIP-01 relay messages: parsing what relays send, building what clients send. */
#ifndef BROTR_NOSTR_MESSAGE_H
#define BROTR_NOSTR_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "nostr/err.h"
#include "nostr/event.h"
#include "nostr/filter.h"
#include "nostr/json.h"

/* Longest relay message accepted: an event at its cap plus room for the envelope. */
#define NOSTR_MSG_MAX_JSON (NOSTR_EVENT_MAX_JSON + 1024)
/* Subscription ids: 1..64 characters (NIP-01). */
#define NOSTR_SUBID_MAX_CHARS 64

enum nostr_msg_type {
	NOSTR_MSG_UNKNOWN = 0, /* a JSON array whose first element is a string we do not know */
	NOSTR_MSG_EVENT,       /* ["EVENT", <sub id>, <event>] */
	NOSTR_MSG_EOSE,        /* ["EOSE", <sub id>] */
	NOSTR_MSG_OK,          /* ["OK", <event id>, <true|false>, <message>] */
	NOSTR_MSG_NOTICE,      /* ["NOTICE", <message>] */
	NOSTR_MSG_CLOSED,      /* ["CLOSED", <sub id>, <message>] */
	NOSTR_MSG_AUTH,        /* ["AUTH", <challenge>] (NIP-42) */
	NOSTR_MSG_COUNT,       /* ["COUNT", <sub id>, {"count": <n>, "approximate": <bool>?}] (NIP-45) */
	NOSTR_MSG_NEG_MSG,     /* ["NEG-MSG", <sub id>, <hex message>] (NIP-77): the hex in message */
	NOSTR_MSG_NEG_ERR,     /* ["NEG-ERR", <sub id>, <reason>] (NIP-77) */
};

/*
 * A parsed relay message. Strings live in storage the message owns (reused by the next parse);
 * for EVENT the event is parsed into the caller's struct nostr_event (structure only: verify it
 * with nostr_verifier_check). Fields not used by the type are zero/empty.
 */
struct nostr_msg {
	enum nostr_msg_type type;
	struct nostr_str sub_id;    /* EVENT, EOSE, CLOSED, COUNT, NEG-MSG, NEG-ERR */
	unsigned char event_id[32]; /* OK */
	int accepted;               /* OK */
	struct nostr_str message;   /* OK, NOTICE, CLOSED, NEG-MSG, NEG-ERR; for UNKNOWN the type string */
	struct nostr_str challenge; /* AUTH */
	uint64_t count;             /* COUNT */
	int approximate;            /* COUNT: 1 when the relay said so */
	/* private */
	char *mem_;
	size_t cap_;
};

void nostr_msg_init(struct nostr_msg *m);
void nostr_msg_free(struct nostr_msg *m);

/*
 * Parses one relay message from text[0..len). ev receives the event of an EVENT message. Strict:
 * exact arity, types as in NIP-01, sub ids 1..64 characters, OK ids 64 lower-case hex.
 * Returns 0, or -1 with *err set: NOSTR_E_MESSAGE for a message of the wrong shape (field: the
 * type), an event error for a bad event inside EVENT (m->type and m->sub_id are then already set,
 * so the rejection can be attributed), NOSTR_E_NOT_JSON, NOSTR_E_TOO_LARGE, NOSTR_E_NOMEM.
 * doc is scratch space, reused between calls.
 */
int nostr_msg_parse(struct nostr_msg *m, struct json_doc *doc, struct nostr_event *ev, const char *text, size_t len,
		    struct nostr_err *err);

/* Whether s[0..len) is a valid subscription id: valid UTF-8, 1..64 characters. */
int nostr_subid_valid(const char *s, size_t len);

/*
 * Client messages, appended to out. Each returns 0, or -1 with *err set (NOSTR_E_ARG for an invalid
 * sub id or no filter; NOSTR_E_NOMEM when out failed).
 */
int nostr_build_req(struct buf *out, const char *sub_id, const struct nostr_filter *filters, size_t n,
		    struct nostr_err *err);
int nostr_build_count(struct buf *out, const char *sub_id, const struct nostr_filter *filters, size_t n,
		      struct nostr_err *err);
int nostr_build_close(struct buf *out, const char *sub_id, struct nostr_err *err);
int nostr_build_event(struct buf *out, const struct nostr_event *ev, struct nostr_err *err);
/* ["AUTH", <signed kind-22242 event>] (NIP-42). */
int nostr_build_auth(struct buf *out, const struct nostr_event *ev, struct nostr_err *err);
/* ["NEG-OPEN", <sub id>, <filter>, <initial message, hex>] and ["NEG-CLOSE", <sub id>] (NIP-77). */
int nostr_build_neg_open(struct buf *out, const char *sub_id, const struct nostr_filter *filter, const char *hex,
			 struct nostr_err *err);
int nostr_build_neg_close(struct buf *out, const char *sub_id, struct nostr_err *err);

/*
 * NIP-77 (negentropy protocol v1): the initiator's first message for an empty set, hex. The
 * version byte 0x61, then one range: upper bound infinity (timestamp varint 0, id prefix length
 * 0), mode IdList (2) with 0 ids.
 */
#define NOSTR_NEG_V1 0x61
#define NOSTR_NEG_EMPTY_SET "6100000200"

/* NIP-42: the kind of the event answering an AUTH challenge. */
#define NOSTR_KIND_AUTH 22242

/*
 * Builds and signs the NIP-42 answer to challenge c[0..clen) from relay_url: kind 22242 at
 * created_at, tags [["relay",relay_url],["challenge",c]], empty content. Returns 0, or -1 with
 * *err (NOSTR_E_ARG for a challenge that is not valid UTF-8 or longer than 1024 bytes).
 */
struct nostr_ctx;
struct nostr_key;
int nostr_auth_event(const struct nostr_ctx *ctx, struct nostr_event *ev, const struct nostr_key *key,
		     const char *relay_url, const char *c, size_t clen, int64_t created_at, struct nostr_err *err);

#endif
