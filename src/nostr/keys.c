/* keys.c — loading and generating key pairs; signing events. */
#include "nostr/keys.h"

#include <ctype.h>
#include <secp256k1_schnorrsig.h>
#include <string.h>

#include "nostr/bech32.h"
#include "nostr/pow.h"

int nostr_key_from_bytes(const struct nostr_ctx *ctx, struct nostr_key *key, const unsigned char secret[32],
			 struct nostr_err *err)
{
	secp256k1_xonly_pubkey pk;
	if (!secp256k1_keypair_create(ctx->secp, &key->pair, secret))
		return nostr_fail(err, NOSTR_E_ARG, "secret key", "zero or not below the curve order");
	if (!secp256k1_keypair_xonly_pub(ctx->secp, &pk, NULL, &key->pair) ||
	    !secp256k1_xonly_pubkey_serialize(ctx->secp, key->pubkey, &pk))
		return nostr_fail(err, NOSTR_E_ARG, "secret key", "no public key");
	return 0;
}

int nostr_key_check_str(const char *s)
{
	struct nostr_ctx *ctx = nostr_ctx_new();
	struct nostr_key key;
	struct nostr_err e = { 0 };
	int rc = ctx ? nostr_key_from_str(ctx, &key, s, &e) : -1;
	nostr_key_wipe(&key);
	nostr_ctx_free(ctx);
	return rc;
}

int nostr_key_from_str(const struct nostr_ctx *ctx, struct nostr_key *key, const char *s, struct nostr_err *err)
{
	unsigned char secret[32];
	char low[65];
	int rc = -1;
	size_t n = strnlen(s, 100);
	if (n == 64) {
		for (size_t i = 0; i < 64; i++)
			low[i] = (char)tolower((unsigned char)s[i]);
		low[64] = '\0';
		if (hex_decode(low, secret, 32) < 0) {
			nostr_fail(err, NOSTR_E_ARG, "secret key", "expected 64 hex characters or nsec1...");
			goto out;
		}
	} else if (nip19_decode32(s, "nsec", secret) < 0) {
		nostr_fail(err, NOSTR_E_ARG, "secret key", "expected 64 hex characters or a valid nsec1... string");
		goto out;
	}
	rc = nostr_key_from_bytes(ctx, key, secret, err);
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(low, sizeof(low));
	return rc;
}

int nostr_key_generate(const struct nostr_ctx *ctx, struct nostr_key *key, struct nostr_err *err)
{
	unsigned char secret[32];
	int rc = -1;
	for (int tries = 0; tries < 8 && rc < 0; tries++) { /* an invalid draw has probability ~2^-128 */
		if (nostr_random(secret, sizeof(secret)) < 0) {
			nostr_fail(err, NOSTR_E_ARG, "random", "getrandom failed");
			break;
		}
		rc = nostr_key_from_bytes(ctx, key, secret, err);
	}
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

void nostr_key_secret(const struct nostr_ctx *ctx, const struct nostr_key *key, unsigned char out[32])
{
	if (!secp256k1_keypair_sec(ctx->secp, out, &key->pair))
		memset(out, 0, 32);
}

void nostr_key_wipe(struct nostr_key *key)
{
	explicit_bzero(key, sizeof(*key));
}

int nostr_event_sign(const struct nostr_ctx *ctx, struct nostr_event *ev, const struct nostr_key *key,
		     struct nostr_err *err)
{
	unsigned char aux[32];
	memcpy(ev->pubkey, key->pubkey, 32);
	if (nostr_event_compute_id(ev, NULL, ev->id) < 0)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "serialisation");
	ev->have_id = 1;
	if (nostr_random(aux, sizeof(aux)) < 0)
		return nostr_fail(err, NOSTR_E_ARG, "random", "getrandom failed");
	if (!secp256k1_schnorrsig_sign32(ctx->secp, ev->sig, ev->id, &key->pair, aux))
		return nostr_fail(err, NOSTR_E_ARG, "key", "signing failed");
	return 0;
}

int nostr_event_create(const struct nostr_ctx *ctx, struct nostr_event *ev, const struct nostr_key *key,
		       uint32_t kind, int64_t created_at, const struct nostr_tag *tags, size_t n_tags,
		       const char *content, size_t content_len, unsigned pow_difficulty, uint64_t max_tries,
		       struct nostr_err *err)
{
	if (nostr_event_set(ev, kind, created_at, tags, n_tags, content, content_len, err) < 0)
		return -1;
	if (pow_difficulty > 0 && nostr_event_mine(ev, key->pubkey, pow_difficulty, max_tries, err) < 0)
		return -1;
	return nostr_event_sign(ctx, ev, key, err);
}
