/* pow.h — NIP-13 proof of work: difficulty of an id, and mining a nonce tag. */
#ifndef BROTR_NOSTR_POW_H
#define BROTR_NOSTR_POW_H

#include <stdint.h>

#include "nostr/err.h"
#include "nostr/event.h"

/* Leading zero bits of id (0..256): the NIP-13 difficulty. */
unsigned nostr_pow_difficulty(const unsigned char id[32]);

/*
 * Mines ev for at least `difficulty` leading zero bits: sets ev->pubkey to pubkey (the id covers
 * it), replaces any "nonce" tag by ["nonce", "<n>", "<difficulty>"] as the last tag, and tries
 * n = 0, 1, 2, ... (at most max_tries values). On success ev->id holds the mined id; sign it
 * afterwards with the same key (nostr_event_sign recomputes the same id). Expected work is
 * 2^difficulty hashes. Returns 0, or -1 with *err (NOSTR_E_ARG when difficulty > 256 or no nonce
 * was found within max_tries, NOSTR_E_NOMEM).
 */
int nostr_event_mine(struct nostr_event *ev, const unsigned char pubkey[32], unsigned difficulty,
		     uint64_t max_tries, struct nostr_err *err);

#endif
