/* verify.h — event verification: id = sha256 of the canonical form, BIP-340 signature over the id. */
#ifndef BROTR_NOSTR_VERIFY_H
#define BROTR_NOSTR_VERIFY_H

#include <stddef.h>

#include "nostr/ctx.h"
#include "nostr/err.h"
#include "nostr/event.h"

/*
 * Checks a BIP-340 signature of the 32-byte msg by the x-only pubkey. Returns 0, or -1 with *err
 * set: NOSTR_E_PUBKEY when pubkey is not an x coordinate on the curve, NOSTR_E_SIG otherwise.
 */
int nostr_verify_sig(const struct nostr_ctx *ctx, const unsigned char msg[32], const unsigned char pubkey[32],
		     const unsigned char sig[64], struct nostr_err *err);

/* One-off full check of a parsed event (id, then pubkey, then signature). Returns 0, or -1 with *err. */
int nostr_event_verify(const struct nostr_ctx *ctx, const struct nostr_event *ev, struct nostr_err *err);

/*
 * Per-thread verification state: JSON and serialisation scratch, a reused digest context, the event
 * of the last nostr_verifier_text call, and a small cache of parsed public keys (parsing one costs
 * about 14% of a verification; authors repeat). Not thread-safe: one per thread, sharing one ctx.
 */
struct nostr_verifier;

/* Returns a new verifier using ctx (which must outlive it), or NULL when out of memory. */
struct nostr_verifier *nostr_verifier_new(const struct nostr_ctx *ctx);
void nostr_verifier_free(struct nostr_verifier *v);

/* Full check of a parsed event: id, pubkey on the curve, signature. Returns 0, or -1 with *err. */
int nostr_verifier_check(struct nostr_verifier *v, const struct nostr_event *ev, struct nostr_err *err);

/*
 * Parses text[0..len) as an event (nostr_event_parse) and checks it. The parsed event stays in the
 * verifier until the next call (nostr_verifier_event; its have_id says whether the id is known even
 * after a rejection). Returns 0 when valid, or -1 with *err set.
 */
int nostr_verifier_text(struct nostr_verifier *v, const char *text, size_t len, struct nostr_err *err);

const struct nostr_event *nostr_verifier_event(const struct nostr_verifier *v);

#endif
