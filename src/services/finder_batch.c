/* finder_batch.c — the finder's URL sets: one commit's candidates with their queue rows, and what the pass already committed. */
#include "services/finder_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Grows the candidate array and rebuilds the table. Returns 0 or -1. */
static int grow(struct finder_batch *b)
{
	size_t cap = b->cap ? b->cap * 2 : 256, hcap = cap * 2;
	struct finder_cand *c = realloc(b->cands, cap * sizeof(*c));
	if (!c)
		return -1;
	b->cands = c;
	uint32_t *slot = calloc(hcap, sizeof(*slot));
	if (!slot)
		return -1;
	free(b->slot_);
	b->slot_ = slot, b->hcap_ = hcap, b->cap = cap;
	for (size_t i = 0; i < b->n; i++) {
		size_t h = hash(b->cands[i].url) & (hcap - 1);
		while (slot[h])
			h = (h + 1) & (hcap - 1);
		slot[h] = (uint32_t)i + 1;
	}
	return 0;
}

int finder_batch_add(struct finder_batch *b, const struct relay_url *u, enum finder_source src, const char *event_id)
{
	if (b->n == b->cap && grow(b) < 0)
		return -1;
	size_t h = hash(u->url) & (b->hcap_ - 1);
	for (; b->slot_[h]; h = (h + 1) & (b->hcap_ - 1))
		if (strcmp(b->cands[b->slot_[h] - 1].url, u->url) == 0)
			return 0;
	struct finder_cand *c = &b->cands[b->n];
	memcpy(c->url, u->url, sizeof(c->url));
	c->network = u->network == RELAY_NET_TOR ? DB_TOR : DB_CLEARNET;
	c->source = src;
	snprintf(c->event_id, sizeof(c->event_id), "%s", event_id);
	b->slot_[h] = (uint32_t)++b->n;
	return 1;
}

int finder_batch_seq(struct finder_batch *b, int64_t seq)
{
	if (b->n_seqs == b->seq_cap_) {
		size_t cap = b->seq_cap_ ? b->seq_cap_ * 2 : 1024;
		int64_t *s = realloc(b->seqs, cap * sizeof(*s));
		if (!s)
			return -1;
		b->seqs = s, b->seq_cap_ = cap;
	}
	b->seqs[b->n_seqs++] = seq;
	return 0;
}

void finder_batch_free(struct finder_batch *b)
{
	free(b->cands);
	free(b->slot_);
	free(b->seqs);
	memset(b, 0, sizeof(*b));
}

#define SLOTS (FINDER_MEMO_MAX * 2)

/* The slot of url in m: where it is, or the empty slot where it would go. */
static size_t memo_slot(const struct finder_memo *m, const char *url)
{
	size_t h = hash(url) & (SLOTS - 1);
	while (m->keys_[h] && strcmp(m->keys_[h], url) != 0)
		h = (h + 1) & (SLOTS - 1);
	return h;
}

int finder_memo_has(const struct finder_memo *m, const char *url)
{
	return m->keys_ && m->keys_[memo_slot(m, url)];
}

void finder_memo_add(struct finder_memo *m, const char *url)
{
	if (!m->keys_ && !(m->keys_ = calloc(SLOTS, sizeof(*m->keys_))))
		return;
	size_t h = memo_slot(m, url);
	if (m->n < FINDER_MEMO_MAX && !m->keys_[h] && (m->keys_[h] = strdup(url)))
		m->n++;
}

void finder_memo_free(struct finder_memo *m)
{
	for (size_t i = 0; m->keys_ && i < SLOTS; i++)
		free(m->keys_[i]);
	free(m->keys_);
	memset(m, 0, sizeof(*m));
}
