/* bech32.h — BIP-173 bech32 as NIP-19 uses it for bare 32-byte keys and ids (npub, nsec, note). */
#ifndef BROTR_NOSTR_BECH32_H
#define BROTR_NOSTR_BECH32_H

#include <stddef.h>

/* Longest bech32 string accepted (BIP-173's limit). */
#define BECH32_MAX_LEN 90

/*
 * Decodes s (all lower- or all upper-case, checksum verified) into its human-readable part (lower-
 * cased, NUL-terminated, at most hrp_max - 1 bytes) and its payload regrouped into 8-bit bytes (at
 * most data_max; padding must be zero bits, fewer than 5). Returns the payload length, or -1.
 */
long bech32_decode(const char *s, char *hrp, size_t hrp_max, unsigned char *data, size_t data_max);

/* Encodes hrp (lower-case) and data as bech32 into out (NUL-terminated). Returns its length, or -1
 * when out is too small or the result would exceed BECH32_MAX_LEN. */
long bech32_encode(const char *hrp, const unsigned char *data, size_t n, char *out, size_t out_max);

/* Decodes a NIP-19 string of the given prefix ("nsec", "npub", "note") with a 32-byte payload. Returns 0 or -1. */
int nip19_decode32(const char *s, const char *prefix, unsigned char out[32]);

/* Encodes a 32-byte value with the given prefix; out needs 64 bytes for the 4-letter prefixes. Returns 0 or -1. */
int nip19_encode32(const char *prefix, const unsigned char in[32], char *out, size_t out_max);

#endif
