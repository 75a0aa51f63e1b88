/* auth.h — NIP-42 on the client side: the [auth] key, and one connection's AUTH exchange (challenge, signed answer, its OK). */
#ifndef BROTR_SERVICES_AUTH_H
#define BROTR_SERVICES_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/util.h"
#include "nostr/ctx.h"
#include "nostr/keys.h"
#include "nostr/message.h"

/* Longest reason kept (bytes). */
#define AUTH_REASON_MAX 200

/*
 * The identity a service authenticates with: [auth] private_key (secret: BROTR_AUTH_PRIVATE_KEY),
 * used only while [auth] enabled. Loaded once per process; read-only afterwards (one thread).
 */
struct auth_identity {
	const struct nostr_ctx *ctx;
	struct nostr_key key;
	int usable; /* a key is set and [auth] enabled */
};

/* Validates the [auth] keys without keeping the key. Returns 0, or -1 with a message in err
 * naming the variable (never the value). */
int auth_check_config(const struct config *cfg, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Loads the identity (usable 0 when no key is set or [auth] enabled is false). ctx must outlive
 * it. Returns 0, or -1 when the key is unusable (auth_check_config says why). */
int auth_identity_load(struct auth_identity *id, const struct nostr_ctx *ctx, const struct config *cfg)
	__attribute__((warn_unused_result));
void auth_identity_wipe(struct auth_identity *id);

/* What one connection saw of NIP-42, in the order it can progress. */
enum auth_state {
	AUTH_NOT_ASKED,  /* no challenge */
	AUTH_NO_KEY,     /* a challenge, not answered: no usable identity */
	AUTH_SENT,       /* answered; its OK not in yet */
	AUTH_ACCEPTED,   /* OK true */
	AUTH_REFUSED,    /* OK false (reason: the relay's message), or the answer could not be built */
};

/* One connection's exchange. Reset it when the connection is replaced. */
struct auth_session {
	const struct auth_identity *id; /* NULL or !usable: challenges are noted, never answered */
	enum auth_state state;
	int required;                   /* a CLOSED or OK false said auth-required: */
	unsigned char event_id[32];     /* the answer's, while AUTH_SENT */
	char reason[AUTH_REASON_MAX + 1];
};

void auth_session_init(struct auth_session *s, const struct auth_identity *id);

/* 1 when s can answer a challenge (a usable identity). */
int auth_session_can_answer(const struct auth_session *s);

/*
 * A challenge (m is an AUTH message) from relay_url: with a usable identity, builds
 * ["AUTH",<kind 22242 event>] into out (appended) and moves to AUTH_SENT; a later challenge is
 * answered again (relays may renew it). Returns 1 when out holds a message to send, 0 when there
 * is nothing to send (no identity: AUTH_NO_KEY), -1 when the answer could not be built
 * (AUTH_REFUSED, reason set).
 */
int auth_session_challenge(struct auth_session *s, const char *relay_url, const struct nostr_msg *m,
			   int64_t now_s, struct buf *out);

/* An OK message: 1 when it answers this session's AUTH (state now ACCEPTED or REFUSED), else 0. */
int auth_session_ok(struct auth_session *s, const struct nostr_msg *m);

/* 1 when msg[0..len) carries the auth-required: prefix (NIP-42), and notes it in s. */
int auth_session_required(struct auth_session *s, const char *msg, size_t len);

/* "not-asked", "no-key", "sent", "accepted", "refused". */
const char *auth_state_name(enum auth_state st);

#endif
