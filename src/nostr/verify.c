/* verify.c — checking ids and signatures, with a per-thread verifier that reuses everything it can. */
#include "nostr/verify.h"

#include <openssl/evp.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <stdlib.h>
#include <string.h>

/* Parsed public keys: PK_SETS sets of PK_WAYS entries, the set chosen by the key's first bytes
 * (uniformly random for real keys), round-robin replacement within a set. About 400 KiB. */
#define PK_SETS 1024
#define PK_WAYS 4

struct pk_entry {
	unsigned char raw[32];
	secp256k1_xonly_pubkey pk;
	int used;
};

struct pk_set {
	struct pk_entry way[PK_WAYS];
	unsigned victim;
};

struct nostr_verifier {
	const struct nostr_ctx *ctx;
	struct json_doc doc;
	struct nostr_event ev;
	struct buf ser;
	EVP_MD_CTX *md;
	EVP_MD *sha256;
	struct pk_set cache[PK_SETS];
};

int nostr_verify_sig(const struct nostr_ctx *ctx, const unsigned char msg[32], const unsigned char pubkey[32],
		     const unsigned char sig[64], struct nostr_err *err)
{
	secp256k1_xonly_pubkey pk;
	if (!secp256k1_xonly_pubkey_parse(ctx->secp, &pk, pubkey))
		return nostr_fail(err, NOSTR_E_PUBKEY, NULL, "not an x coordinate on secp256k1");
	if (!secp256k1_schnorrsig_verify(ctx->secp, sig, msg, 32, &pk))
		return nostr_fail(err, NOSTR_E_SIG, NULL, NULL);
	return 0;
}

int nostr_event_verify(const struct nostr_ctx *ctx, const struct nostr_event *ev, struct nostr_err *err)
{
	if (nostr_event_check_id(ev, NULL, err) < 0)
		return -1;
	return nostr_verify_sig(ctx, ev->id, ev->pubkey, ev->sig, err);
}

struct nostr_verifier *nostr_verifier_new(const struct nostr_ctx *ctx)
{
	struct nostr_verifier *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->ctx = ctx;
	json_doc_init(&v->doc);
	nostr_event_init(&v->ev);
	buf_init(&v->ser);
	v->md = EVP_MD_CTX_new();
	v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!v->md || !v->sha256) {
		nostr_verifier_free(v);
		return NULL;
	}
	return v;
}

void nostr_verifier_free(struct nostr_verifier *v)
{
	if (!v)
		return;
	json_doc_free(&v->doc);
	nostr_event_free(&v->ev);
	buf_free(&v->ser);
	EVP_MD_CTX_free(v->md);
	EVP_MD_free(v->sha256);
	free(v);
}

static int check_id(struct nostr_verifier *v, const struct nostr_event *ev, struct nostr_err *err)
{
	unsigned char id[32];
	unsigned int n = 0;
	buf_reset(&v->ser);
	nostr_event_serialize(ev, &v->ser);
	if (v->ser.failed || !EVP_DigestInit_ex(v->md, v->sha256, NULL) ||
	    !EVP_DigestUpdate(v->md, v->ser.data, v->ser.len) || !EVP_DigestFinal_ex(v->md, id, &n) || n != 32) {
		buf_free(&v->ser); /* a failed buffer stays failed */
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "hashing");
	}
	if (memcmp(id, ev->id, 32) != 0)
		return nostr_fail(err, NOSTR_E_ID, NULL, "not the hash of the event");
	return 0;
}

/* The parsed key for raw, from the cache or parsed now. Returns NULL when raw is not on the curve. */
static const secp256k1_xonly_pubkey *pubkey(struct nostr_verifier *v, const unsigned char raw[32])
{
	struct pk_set *set = &v->cache[((unsigned)raw[0] | (unsigned)raw[1] << 8) % PK_SETS];
	for (int i = 0; i < PK_WAYS; i++)
		if (set->way[i].used && memcmp(set->way[i].raw, raw, 32) == 0)
			return &set->way[i].pk;
	struct pk_entry *e = &set->way[set->victim++ % PK_WAYS];
	if (!secp256k1_xonly_pubkey_parse(v->ctx->secp, &e->pk, raw)) {
		e->used = 0;
		return NULL;
	}
	memcpy(e->raw, raw, 32);
	e->used = 1;
	return &e->pk;
}

int nostr_verifier_check(struct nostr_verifier *v, const struct nostr_event *ev, struct nostr_err *err)
{
	if (check_id(v, ev, err) < 0)
		return -1;
	const secp256k1_xonly_pubkey *pk = pubkey(v, ev->pubkey);
	if (!pk)
		return nostr_fail(err, NOSTR_E_PUBKEY, NULL, "not an x coordinate on secp256k1");
	if (!secp256k1_schnorrsig_verify(v->ctx->secp, ev->sig, ev->id, 32, pk))
		return nostr_fail(err, NOSTR_E_SIG, NULL, NULL);
	return 0;
}

int nostr_verifier_text(struct nostr_verifier *v, const char *text, size_t len, struct nostr_err *err)
{
	if (nostr_event_parse(&v->ev, &v->doc, text, len, err) < 0)
		return -1;
	return nostr_verifier_check(v, &v->ev, err);
}

const struct nostr_event *nostr_verifier_event(const struct nostr_verifier *v)
{
	return &v->ev;
}
