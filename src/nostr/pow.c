/* pow.c — NIP-13: counting leading zero bits; mining with the hash state of the fixed prefix reused. */
#include "nostr/pow.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned nostr_pow_difficulty(const unsigned char id[32])
{
	unsigned n = 0;
	for (int i = 0; i < 32; i++) {
		if (id[i] == 0) {
			n += 8;
			continue;
		}
		for (unsigned char b = id[i]; !(b & 0x80); b <<= 1)
			n++;
		break;
	}
	return n;
}

/* Sets ev's tags to its non-nonce tags plus ["nonce", nonce, target]. */
static int set_nonce(struct nostr_event *ev, const char *nonce, const char *target, struct nostr_err *err)
{
	struct nostr_tag *tags = malloc((ev->n_tags + 1) * sizeof(*tags));
	if (!tags)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "tags");
	size_t n = 0;
	for (size_t i = 0; i < ev->n_tags; i++) {
		const struct nostr_tag *t = &ev->tags[i];
		if (!(t->n > 0 && t->items[0].len == 5 && memcmp(t->items[0].s, "nonce", 5) == 0))
			tags[n++] = *t;
	}
	struct nostr_str items[3] = { { "nonce", 5 }, { nonce, strlen(nonce) }, { target, strlen(target) } };
	tags[n++] = (struct nostr_tag){ items, 3 };
	int rc = nostr_event_set(ev, ev->kind, ev->created_at, tags, n, ev->content.s, ev->content.len, err);
	free(tags);
	return rc;
}

/* Hashes prefix (already in base) + nonce + suffix into id. */
static int try_nonce(EVP_MD_CTX *base, EVP_MD_CTX *md, const char *nonce, size_t nlen, const struct buf *ser,
		     size_t suffix_at, unsigned char id[32])
{
	unsigned int n;
	return EVP_MD_CTX_copy_ex(md, base) && EVP_DigestUpdate(md, nonce, nlen) &&
	       EVP_DigestUpdate(md, ser->data + suffix_at, ser->len - suffix_at) && EVP_DigestFinal_ex(md, id, &n);
}

/* Serialises ev with the placeholder nonce "0" and finds the bytes before and after it. */
static int split_serialisation(const struct nostr_event *ev, struct buf *ser, size_t *prefix_len)
{
	/* The nonce tag is last, so the serialisation ends with: "nonce","0","<target>"]],"<content>"] */
	struct buf tail;
	buf_init(&tail);
	nostr_event_serialize(ev, ser);
	buf_putc(&tail, ',');
	json_write_str(&tail, ev->content.s, ev->content.len);
	buf_putc(&tail, ']');
	const struct nostr_tag *t = &ev->tags[ev->n_tags - 1];
	size_t after = 3 + t->items[2].len + 3 + tail.len; /* ","<target>"]] then the tail */
	int rc = (ser->failed || tail.failed) ? -1 : 0;
	*prefix_len = ser->len - after - 1; /* minus the "0" */
	buf_free(&tail);
	return rc;
}

static int search(struct nostr_event *ev, unsigned difficulty, uint64_t max_tries, uint64_t *found,
		  struct nostr_err *err)
{
	struct buf ser;
	buf_init(&ser);
	size_t prefix_len;
	EVP_MD_CTX *base = EVP_MD_CTX_new(), *md = EVP_MD_CTX_new();
	int rc = -1;
	if (!base || !md || split_serialisation(ev, &ser, &prefix_len) < 0 ||
	    !EVP_DigestInit_ex(base, EVP_sha256(), NULL) || !EVP_DigestUpdate(base, ser.data, prefix_len)) {
		nostr_fail(err, NOSTR_E_NOMEM, NULL, "mining");
		goto out;
	}
	nostr_fail(err, NOSTR_E_ARG, "difficulty", "no nonce found within max_tries");
	for (uint64_t i = 0; i < max_tries; i++) {
		char nonce[24];
		unsigned char id[32];
		int len = snprintf(nonce, sizeof(nonce), "%llu", (unsigned long long)i);
		if (!try_nonce(base, md, nonce, (size_t)len, &ser, prefix_len + 1, id)) {
			nostr_fail(err, NOSTR_E_NOMEM, NULL, "mining");
			break;
		}
		if (nostr_pow_difficulty(id) >= difficulty) {
			*found = i;
			rc = 0;
			break;
		}
	}
out:
	EVP_MD_CTX_free(base);
	EVP_MD_CTX_free(md);
	buf_free(&ser);
	return rc;
}

int nostr_event_mine(struct nostr_event *ev, const unsigned char pubkey[32], unsigned difficulty,
		     uint64_t max_tries, struct nostr_err *err)
{
	char target[8], nonce[24];
	uint64_t found;
	if (difficulty > 256)
		return nostr_fail(err, NOSTR_E_ARG, "difficulty", "expected 0..256");
	snprintf(target, sizeof(target), "%u", difficulty);
	memcpy(ev->pubkey, pubkey, 32);
	if (set_nonce(ev, "0", target, err) < 0 || search(ev, difficulty, max_tries, &found, err) < 0)
		return -1;
	snprintf(nonce, sizeof(nonce), "%llu", (unsigned long long)found);
	if (set_nonce(ev, nonce, target, err) < 0)
		return -1;
	if (nostr_event_compute_id(ev, NULL, ev->id) < 0)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "serialisation");
	ev->have_id = 1;
	if (nostr_pow_difficulty(ev->id) < difficulty) /* the split above went wrong: never claim work not done */
		return nostr_fail(err, NOSTR_E_ARG, "difficulty", "mined id does not verify");
	return 0;
}
