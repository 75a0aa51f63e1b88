/* ctx.h — the one secp256k1 context for verifying and signing, and random bytes from the kernel. */
#ifndef BROTR_NOSTR_CTX_H
#define BROTR_NOSTR_CTX_H

#include <stddef.h>

#include <secp256k1.h>

/*
 * Create one per process with nostr_ctx_new and pass it to whatever verifies or signs. After
 * creation it is only read, so any number of threads may use it at the same time.
 */
struct nostr_ctx {
	secp256k1_context *secp;
};

/* Creates a context, randomised (side-channel blinding) with kernel randomness. Returns NULL on failure. */
struct nostr_ctx *nostr_ctx_new(void);
void nostr_ctx_free(struct nostr_ctx *ctx);

/* Fills buf with n bytes from getrandom(2) (blocking until the pool is ready). Returns 0, or -1. */
int nostr_random(void *buf, size_t n);

#endif
