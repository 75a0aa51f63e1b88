/* keys.h — secret keys (64 hex or NIP-19 nsec), ephemeral keys, and signing events with them. */
#ifndef BROTR_NOSTR_KEYS_H
#define BROTR_NOSTR_KEYS_H

#include <secp256k1_extrakeys.h>

#include "nostr/ctx.h"
#include "nostr/err.h"
#include "nostr/event.h"

/* A key pair. Holds the secret: wipe it with nostr_key_wipe when done. */
struct nostr_key {
	secp256k1_keypair pair;
	unsigned char pubkey[32]; /* x-only public key, as in events */
};

/* From 32 secret bytes. Returns 0, or -1 with *err (NOSTR_E_ARG when zero or not below the curve order). */
int nostr_key_from_bytes(const struct nostr_ctx *ctx, struct nostr_key *key, const unsigned char secret[32],
			 struct nostr_err *err);

/* From text: 64 hex characters (either case) or a NIP-19 "nsec1..." string. Returns 0, or -1 with *err. */
int nostr_key_from_str(const struct nostr_ctx *ctx, struct nostr_key *key, const char *s, struct nostr_err *err);

/* Whether s is a secret key nostr_key_from_str accepts, without keeping it. Returns 0, or -1 when
 * not (or out of memory). */
int nostr_key_check_str(const char *s);

/* A new random (ephemeral) key from getrandom(2). Returns 0, or -1 with *err. */
int nostr_key_generate(const struct nostr_ctx *ctx, struct nostr_key *key, struct nostr_err *err);

/* Copies the 32 secret bytes out (for storing a generated key). */
void nostr_key_secret(const struct nostr_ctx *ctx, const struct nostr_key *key, unsigned char out[32]);

void nostr_key_wipe(struct nostr_key *key);

/*
 * Signs ev with key: sets ev->pubkey, computes ev->id from the canonical serialisation, and sets
 * ev->sig (BIP-340 with fresh auxiliary randomness). Set content, kind, created_at and tags first
 * (nostr_event_set), and mine (pow.h) before signing if proof of work is wanted.
 * Returns 0, or -1 with *err.
 */
int nostr_event_sign(const struct nostr_ctx *ctx, struct nostr_event *ev, const struct nostr_key *key,
		     struct nostr_err *err);

/*
 * Builds and signs an event in one go: nostr_event_set, then (when pow_difficulty > 0) NIP-13 mining
 * with at most max_tries nonces, then nostr_event_sign. For the monitor's write test use a kind in
 * the ephemeral range 20000..29999 (nostr_kind_is_ephemeral), which relays do not store.
 * Returns 0, or -1 with *err set (from whichever step failed).
 */
int nostr_event_create(const struct nostr_ctx *ctx, struct nostr_event *ev, const struct nostr_key *key,
		       uint32_t kind, int64_t created_at, const struct nostr_tag *tags, size_t n_tags,
		       const char *content, size_t content_len, unsigned pow_difficulty, uint64_t max_tries,
		       struct nostr_err *err);

#endif
