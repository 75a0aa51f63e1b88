/* sync_batch.c — events from one relay page, held, verified on the worker pool, turned into database rows. */
#include "services/sync_batch.h"

#include <stdlib.h>
#include <string.h>

struct sync_batch *sync_batch_new(size_t cap, size_t max_event_tags)
{
	struct sync_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->cap = cap ? cap : 1;
	b->max_event_tags = max_event_tags;
	b->ev = calloc(b->cap, sizeof(*b->ev));
	b->valid = calloc(b->cap, sizeof(*b->valid));
	b->slot = calloc(b->cap, sizeof(*b->slot));
	b->stored = calloc(b->cap, sizeof(*b->stored));
	b->errc = calloc(b->cap, sizeof(*b->errc));
	b->rows = calloc(b->cap, sizeof(*b->rows));
	b->row_status = calloc(b->cap, sizeof(*b->row_status));
	if (!b->ev || !b->valid || !b->slot || !b->stored || !b->errc || !b->rows || !b->row_status) {
		sync_batch_free(b);
		return NULL;
	}
	for (size_t i = 0; i < b->cap; i++)
		nostr_event_init(&b->ev[i]);
	buf_init(&b->tags);
	return b;
}

void sync_batch_free(struct sync_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; b->ev && i < b->cap; i++)
		nostr_event_free(&b->ev[i]);
	free(b->ev);
	free(b->valid);
	free(b->slot);
	free(b->stored);
	free(b->errc);
	free(b->rows);
	free(b->row_status);
	buf_free(&b->tags);
	free(b);
}

void sync_batch_reset(struct sync_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		nostr_event_free(&b->ev[i]);
		nostr_event_init(&b->ev[i]);
	}
	if (b->tags.cap > SYNC_BATCH_KEEP_BYTES)
		buf_free(&b->tags);
	buf_reset(&b->tags);
	b->n = b->n_rows = b->bytes = b->statement = b->n_tags = b->verified = 0;
	b->feed = NULL;
	b->has_progress = 0;
	b->rc = 0;
	memset(&b->res, 0, sizeof(b->res));
	b->next = NULL;
}

int sync_batch_full(const struct sync_batch *b)
{
	return b->n >= b->cap || b->bytes >= SYNC_BATCH_MAX_BYTES || b->statement >= SYNC_BATCH_MAX_STATEMENT ||
	       b->n_tags >= SYNC_BATCH_MAX_TAGS;
}

/* Length of byte c of a tag string in the tags JSON (json_write_str's escapes). */
static size_t json_len(unsigned char c)
{
	if (c >= 0x20)
		return 1 + (c == '"' || c == '\\');
	return c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t' ? 2 : 6;
}

/* How many of those characters are '"' or '\\', which the array literal escapes once more. */
static size_t pg_extra(unsigned char c)
{
	return c >= 0x20 ? 2 * (c == '"' || c == '\\') : 1;
}

/* Length of ev's tags JSON (nostr_event_tags_json), and in *pg the extra escapes of its literal. */
static size_t tags_json_len(const struct nostr_event *ev, size_t *pg)
{
	size_t n = 2 + (ev->n_tags ? ev->n_tags - 1 : 0), extra = 0;
	for (size_t i = 0; i < ev->n_tags; i++) {
		const struct nostr_tag *t = &ev->tags[i];
		n += 2 + (t->n ? t->n - 1 : 0);
		for (size_t j = 0; j < t->n; j++) {
			const unsigned char *s = (const unsigned char *)t->items[j].s;
			n += 2;
			extra += 2;
			for (size_t k = 0; k < t->items[j].len; k++)
				n += json_len(s[k]), extra += pg_extra(s[k]);
		}
	}
	*pg = extra;
	return n;
}

static size_t n_items(const struct nostr_event *ev, size_t *bytes)
{
	size_t n = 0, b = 0;
	for (size_t i = 0; i < ev->n_tags; i++) {
		n += ev->tags[i].n;
		for (size_t j = 0; j < ev->tags[i].n; j++)
			b += ev->tags[i].items[j].len + 1;
	}
	*bytes = b;
	return n;
}

/* What malloc adds to each of an event's three allocations (glibc: a size word, 16-byte alignment). */
#define MALLOC_OVERHEAD 32

struct sync_cost sync_event_cost(const struct nostr_event *ev)
{
	size_t strings, pg, quotes = 0;
	size_t items = n_items(ev, &strings), json = tags_json_len(ev, &pg);
	for (size_t k = 0; k < ev->content.len; k++)
		quotes += ev->content.s[k] == '"' || ev->content.s[k] == '\\';
	struct sync_cost c;
	c.bytes = sizeof(struct nostr_event) + sizeof(struct db_event) + sizeof(enum nostr_errc) + 2 +
		  3 * MALLOC_OVERHEAD + ev->content.len + 1 + strings + ev->n_tags * sizeof(struct nostr_tag) +
		  items * sizeof(struct nostr_str) + json;
	/* each element and its ',': id, pubkey and sig in hex, created_at and kind in decimal, then the
	 * tags JSON and the content as quoted, backslash-escaped text */
	c.statement = (64 + 1) + (64 + 1) + (128 + 1) + (20 + 1) + (5 + 1) + (json + pg + 2 + 1) +
		      (ev->content.len + quotes + 2 + 1);
	return c;
}

int sync_batch_add(struct sync_batch *b, const struct nostr_event *ev)
{
	if (b->max_event_tags && ev->n_tags > b->max_event_tags)
		return 1;
	if (b->n >= b->cap || nostr_event_copy(&b->ev[b->n], ev) < 0)
		return -1;
	struct sync_cost c = sync_event_cost(ev);
	b->bytes += c.bytes;
	b->statement += c.statement;
	b->n_tags += ev->n_tags;
	b->n++;
	return 0;
}

int sync_seen_init(struct sync_seen *s, unsigned bits)
{
	s->mask = ((size_t)1 << bits) - 1;
	s->pair = calloc(s->mask + 1, sizeof(*s->pair));
	return s->pair ? 0 : -1;
}

void sync_seen_free(struct sync_seen *s)
{
	free(s->pair);
	s->pair = NULL;
}

/* Ids are hashes: their first bytes are a fine index. Each pair may sit in one of 4 slots. */
static size_t seen_slot(const struct sync_seen *s, const unsigned char id[32], unsigned way)
{
	uint64_t h;
	memcpy(&h, id, sizeof(h));
	return (size_t)(h + way) & s->mask;
}

int sync_seen_has(const struct sync_seen *s, const unsigned char id[32], const unsigned char sig[64])
{
	for (unsigned way = 0; way < 4; way++) {
		const unsigned char *p = s->pair[seen_slot(s, id, way)];
		if (memcmp(p, id, 32) == 0 && memcmp(p + 32, sig, 64) == 0)
			return 1;
	}
	return 0;
}

void sync_seen_add(struct sync_seen *s, const unsigned char id[32], const unsigned char sig[64])
{
	static const unsigned char empty[32];
	unsigned way = 0;
	for (; way < 4; way++) {
		const unsigned char *p = s->pair[seen_slot(s, id, way)];
		if (memcmp(p, id, 32) == 0 && memcmp(p + 32, sig, 64) == 0)
			return;
		if (memcmp(p, empty, 32) == 0)
			break;
	}
	unsigned char *p = s->pair[seen_slot(s, id, way < 4 ? way : id[31] & 3u)];
	memcpy(p, id, 32);
	memcpy(p + 32, sig, 64);
}

static void verify_one(void *arg, size_t i, unsigned worker)
{
	struct sync_verify *v = arg;
	struct nostr_err err = { 0 };
	size_t k = v->from + i;
	const struct nostr_event *ev = &v->b->ev[k];
	int stored = v->b->stored[k];
	if ((stored || (v->seen && sync_seen_has(v->seen, ev->id, ev->sig))) &&
	    nostr_event_check_id(ev, &v->scratch[worker], &err) == 0) {
		v->b->valid[k] = stored ? 3 : 2;
		v->b->errc[k] = NOSTR_OK;
		return;
	}
	v->b->valid[k] = nostr_verifier_check(v->ver[worker], ev, &err) == 0;
	v->b->errc[k] = err.code;
}

void sync_verify_start(struct sync_verify *v, struct workpool *pool, struct nostr_verifier **ver,
		       struct buf *scratch, const struct sync_seen *seen, struct sync_batch *b, size_t from,
		       size_t to)
{
	*v = (struct sync_verify){ .b = b, .from = from, .to = to, .ver = ver, .scratch = scratch, .seen = seen,
				   .pool = pool };
	workpool_start(pool, to - from, 8, verify_one, v);
}

void sync_verify_finish(struct sync_verify *v)
{
	workpool_finish(v->pool);
	v->b->verified = v->to;
}

int sync_batch_rows(struct sync_batch *b)
{
	size_t *offs = malloc((b->n ? b->n : 1) * 2 * sizeof(*offs));
	if (!offs)
		return -1;
	buf_reset(&b->tags);
	b->n_rows = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (!b->valid[i])
			continue;
		offs[2 * b->n_rows] = b->tags.len;
		nostr_event_tags_json(&b->ev[i], &b->tags);
		offs[2 * b->n_rows + 1] = b->tags.len;
		struct db_event *r = &b->rows[b->n_rows++];
		const struct nostr_event *e = &b->ev[i];
		memcpy(r->id, e->id, 32);
		memcpy(r->pubkey, e->pubkey, 32);
		memcpy(r->sig, e->sig, 64);
		r->created_at = e->created_at;
		r->kind = (int32_t)e->kind;
		r->content = e->content.s;
		r->content_len = e->content.len;
	}
	int rc = b->tags.failed ? -1 : 0;
	/* The tags buffer may have moved while it grew: point the rows into it only now. */
	for (size_t k = 0; rc == 0 && k < b->n_rows; k++) {
		b->rows[k].tags = b->tags.data + offs[2 * k];
		b->rows[k].tags_len = offs[2 * k + 1] - offs[2 * k];
	}
	free(offs);
	return rc;
}
