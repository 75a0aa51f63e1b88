/* negentropy.c — the negentropy reconciliation rounds: initiator and responder over one sealed storage. */
#include "nostr/negentropy.h"

#include <stdlib.h>
#include <string.h>

#define NEG_FIELD "negentropy"
#define NEG_BUCKETS 16
#define NEG_FRAME_MARGIN 200 /* the reference stops adding ranges this close to the frame limit */

enum neg_mode { NEG_MODE_SKIP = 0, NEG_MODE_FINGERPRINT = 1, NEG_MODE_IDLIST = 2 };

/* One incoming message being answered. */
struct neg_round {
	struct neg_session *s;
	struct neg_reader in;
	struct buf *out;
	struct neg_ids *have, *need;
	struct nostr_err *err;
	uint64_t ts_in, ts_out; /* timestamp delta state, reset per message */
	struct neg_bound prev_bound;
	size_t prev_index;
	int skip; /* a Skip range is pending (merged with the next ones) */
	int stop; /* the frame limit was reached */
};

void neg_ids_init(struct neg_ids *l)
{
	memset(l, 0, sizeof(*l));
}

void neg_ids_free(struct neg_ids *l)
{
	free(l->id);
	neg_ids_init(l);
}

static int ids_push(struct neg_ids *l, const unsigned char id[NEG_ID_SIZE])
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->id, cap * NEG_ID_SIZE);
		if (!p)
			return -1;
		l->id = p;
		l->cap = cap;
	}
	memcpy(l->id[l->n++], id, NEG_ID_SIZE);
	return 0;
}

/* Grows a scratch id array to hold n ids. */
static int scratch_fit(unsigned char (**a)[NEG_ID_SIZE], size_t *cap, size_t n)
{
	if (n <= *cap)
		return 0;
	void *p = realloc(*a, n * NEG_ID_SIZE);
	if (!p)
		return -1;
	*a = p;
	*cap = n;
	return 0;
}

int neg_session_init(struct neg_session *s, const struct neg_storage *st, size_t frame_limit, struct nostr_err *err)
{
	memset(s, 0, sizeof(*s));
	if (!st || !st->sealed)
		return nostr_fail(err, NOSTR_E_ARG, NEG_FIELD, "storage is not sealed");
	if (frame_limit != 0 && frame_limit < NEG_FRAME_MIN)
		return nostr_fail(err, NOSTR_E_ARG, NEG_FIELD, "frame size limit must be 0 or at least 4096");
	s->st = st;
	s->frame_limit = frame_limit;
	buf_init(&s->range_);
	return 0;
}

void neg_session_free(struct neg_session *s)
{
	buf_free(&s->range_);
	free(s->ours_);
	free(s->theirs_);
	memset(s, 0, sizeof(*s));
}

static int exceeded(const struct neg_session *s, size_t n)
{
	return s->frame_limit && n > s->frame_limit - NEG_FRAME_MARGIN;
}

/* The shortest bound that separates prev from curr (curr is the first item of the next range). */
static void minimal_bound(const struct neg_item *prev, const struct neg_item *curr, struct neg_bound *b)
{
	memset(b, 0, sizeof(*b));
	b->ts = curr->ts;
	if (curr->ts != prev->ts)
		return;
	unsigned shared = 0;
	while (shared < NEG_ID_SIZE - 1 && curr->id[shared] == prev->id[shared])
		shared++;
	b->id_len = shared + 1;
	memcpy(b->id, curr->id, b->id_len);
}

/* Describes items [lower, upper) below bound ub: one id list when few, else 16 fingerprinted buckets. */
static void split_range(const struct neg_storage *st, size_t lower, size_t upper, const struct neg_bound *ub,
			uint64_t *ts_out, struct buf *o)
{
	size_t n = upper - lower;
	if (n < 2 * NEG_BUCKETS) {
		neg_bound_put(o, ts_out, ub);
		neg_varint_put(o, NEG_MODE_IDLIST);
		neg_varint_put(o, n);
		for (size_t i = lower; i < upper; i++)
			buf_append(o, st->items[i].id, NEG_ID_SIZE);
		return;
	}
	size_t per = n / NEG_BUCKETS, extra = n % NEG_BUCKETS, curr = lower;
	for (size_t i = 0; i < NEG_BUCKETS; i++) {
		size_t size = per + (i < extra ? 1 : 0);
		unsigned char fp[NEG_FINGERPRINT_SIZE];
		neg_fingerprint(st, curr, curr + size, fp);
		curr += size;
		struct neg_bound next;
		if (curr == upper)
			next = *ub;
		else
			minimal_bound(&st->items[curr - 1], &st->items[curr], &next);
		neg_bound_put(o, ts_out, &next);
		neg_varint_put(o, NEG_MODE_FINGERPRINT);
		buf_append(o, fp, NEG_FINGERPRINT_SIZE);
	}
}

/* Emits the pending Skip range, if any, before a range that needs an answer. */
static void flush_skip(struct neg_round *r, struct buf *o)
{
	if (!r->skip)
		return;
	r->skip = 0;
	neg_bound_put(o, &r->ts_out, &r->prev_bound);
	neg_varint_put(o, NEG_MODE_SKIP);
}

static void on_fingerprint(struct neg_round *r, size_t lower, size_t upper, const struct neg_bound *cur, struct buf *o)
{
	unsigned char ours[NEG_FINGERPRINT_SIZE];
	const unsigned char *theirs = r->in.p + r->in.pos;
	r->in.pos += NEG_FINGERPRINT_SIZE; /* neg_msg_check has seen the payload */
	neg_fingerprint(r->s->st, lower, upper, ours);
	if (memcmp(ours, theirs, NEG_FINGERPRINT_SIZE) == 0) {
		r->skip = 1;
		return;
	}
	flush_skip(r, o);
	split_range(r->s->st, lower, upper, cur, &r->ts_out, o);
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, NEG_ID_SIZE);
}

/* Sorts n ids and drops repeats; returns the new count. */
static size_t sort_unique(unsigned char (*a)[NEG_ID_SIZE], size_t n)
{
	if (n < 2)
		return n;
	qsort(a, n, NEG_ID_SIZE, id_cmp);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (memcmp(a[i], a[k - 1], NEG_ID_SIZE) != 0)
			memmove(a[k++], a[i], NEG_ID_SIZE);
	return k;
}

/* Initiator, IdList range: the final answer for [lower, upper); ids only one side holds go to have/need. */
static int on_ids_initiator(struct neg_round *r, size_t lower, size_t upper, uint64_t count)
{
	struct neg_session *s = r->s;
	size_t m = (size_t)count, k = upper - lower;
	if (scratch_fit(&s->theirs_, &s->theirs_cap_, m) < 0 || scratch_fit(&s->ours_, &s->ours_cap_, k) < 0)
		return nostr_fail(r->err, NOSTR_E_NOMEM, NEG_FIELD, NULL);
	if (m)
		memcpy(s->theirs_, r->in.p + r->in.pos, m * NEG_ID_SIZE);
	r->in.pos += m * NEG_ID_SIZE;
	for (size_t i = 0; i < k; i++)
		memcpy(s->ours_[i], s->st->items[lower + i].id, NEG_ID_SIZE);
	m = sort_unique(s->theirs_, m);
	k = sort_unique(s->ours_, k);
	size_t i = 0, j = 0;
	while (i < k || j < m) {
		int c = i == k ? 1 : j == m ? -1 : memcmp(s->ours_[i], s->theirs_[j], NEG_ID_SIZE);
		int rc = 0;
		if (c < 0)
			rc = ids_push(r->have, s->ours_[i++]);
		else if (c > 0)
			rc = ids_push(r->need, s->theirs_[j++]);
		else
			i++, j++;
		if (rc < 0)
			return nostr_fail(r->err, NOSTR_E_NOMEM, NEG_FIELD, NULL);
	}
	r->skip = 1;
	return 0;
}

/* Responder, IdList range: answer with all our ids in it, cut short (and *upper moved) at the frame limit. */
static void on_ids_responder(struct neg_round *r, size_t lower, size_t *upper, const struct neg_bound *cur,
			     uint64_t count, struct buf *o)
{
	const struct neg_storage *st = r->s->st;
	r->in.pos += (size_t)count * NEG_ID_SIZE; /* their ids do not change our answer */
	flush_skip(r, o);
	struct neg_bound end = *cur;
	size_t n = 0;
	while (lower + n < *upper) {
		if (exceeded(r->s, r->out->len + n * NEG_ID_SIZE)) {
			end.ts = st->items[lower + n].ts;
			memcpy(end.id, st->items[lower + n].id, NEG_ID_SIZE);
			end.id_len = NEG_ID_SIZE;
			*upper = lower + n;
			break;
		}
		n++;
	}
	neg_bound_put(o, &r->ts_out, &end);
	neg_varint_put(o, NEG_MODE_IDLIST);
	neg_varint_put(o, n);
	for (size_t i = 0; i < n; i++)
		buf_append(o, st->items[lower + i].id, NEG_ID_SIZE);
}

/* One range of the incoming message: its answer goes to r->out, unless the frame limit ends the message. */
static int one_range(struct neg_round *r)
{
	const struct neg_storage *st = r->s->st;
	struct buf *o = &r->s->range_;
	struct neg_bound cur;
	uint64_t mode, count = 0;
	buf_reset(o);
	/* neg_msg_check has accepted the message: these reads cannot fail, but stay checked */
	if (neg_bound_get(&r->in, &r->ts_in, &cur, r->err) < 0)
		return -1;
	if (neg_varint_get(&r->in, &mode) < 0 || (mode == NEG_MODE_IDLIST && neg_varint_get(&r->in, &count) < 0))
		return nostr_fail(r->err, NOSTR_E_MESSAGE, NEG_FIELD, "truncated range");
	size_t lower = r->prev_index;
	size_t upper = neg_storage_lower_bound(st, lower, cur.ts, cur.id);
	if (mode == NEG_MODE_SKIP) {
		r->skip = 1;
	} else if (mode == NEG_MODE_FINGERPRINT) {
		on_fingerprint(r, lower, upper, &cur, o);
	} else if (r->s->role == NEG_ROLE_INITIATOR) {
		if (on_ids_initiator(r, lower, upper, count) < 0)
			return -1;
	} else {
		on_ids_responder(r, lower, &upper, &cur, count, o);
		buf_append(r->out, o->data, o->len);
		buf_reset(o);
	}
	if (exceeded(r->s, r->out->len + o->len)) {
		unsigned char fp[NEG_FINGERPRINT_SIZE];
		struct neg_bound inf = {.ts = NEG_TS_INFINITY};
		neg_fingerprint(st, upper, st->n, fp);
		neg_bound_put(r->out, &r->ts_out, &inf);
		neg_varint_put(r->out, NEG_MODE_FINGERPRINT);
		buf_append(r->out, fp, NEG_FINGERPRINT_SIZE);
		r->stop = 1;
		return 0;
	}
	buf_append(r->out, o->data, o->len);
	r->prev_index = upper;
	r->prev_bound = cur;
	return 0;
}

/* Answers msg into out (both roles). Returns 0, or -1 with *err set. */
static int process(struct neg_session *s, const unsigned char *msg, size_t len, struct buf *out, struct neg_ids *have,
		   struct neg_ids *need, struct nostr_err *err)
{
	struct neg_round r = {.s = s, .in = {msg, len, 1}, .out = out, .have = have, .need = need, .err = err};
	buf_reset(out);
	buf_putc(out, (char)NEG_PROTOCOL_V1);
	if (len < 1 || msg[0] < 0x60 || msg[0] > 0x6f)
		return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "not a negentropy message (version byte)");
	if (msg[0] != NEG_PROTOCOL_V1) {
		if (s->role == NEG_ROLE_INITIATOR)
			return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "peer asks for an unsupported protocol version");
		return out->failed ? nostr_fail(err, NOSTR_E_NOMEM, NEG_FIELD, NULL) : 0;
	}
	/* Check the whole message first: the frame limit may stop the answer before its end. */
	if (neg_msg_check(msg, len, NULL, err) < 0)
		return -1;
	while (r.in.pos < r.in.len && !r.stop)
		if (one_range(&r) < 0)
			return -1;
	if (out->failed || s->range_.failed)
		return nostr_fail(err, NOSTR_E_NOMEM, NEG_FIELD, NULL);
	return 0;
}

int neg_initiate(struct neg_session *s, struct buf *out, struct nostr_err *err)
{
	if (s->role != NEG_ROLE_NONE)
		return nostr_fail(err, NOSTR_E_ARG, NEG_FIELD, "session already started");
	s->role = NEG_ROLE_INITIATOR;
	uint64_t ts_out = 0;
	struct neg_bound inf = {.ts = NEG_TS_INFINITY};
	buf_reset(out);
	buf_putc(out, (char)NEG_PROTOCOL_V1);
	split_range(s->st, 0, s->st->n, &inf, &ts_out, out);
	if (out->failed)
		return nostr_fail(err, NOSTR_E_NOMEM, NEG_FIELD, NULL);
	return 0;
}

int neg_reconcile(struct neg_session *s, const unsigned char *msg, size_t len, struct buf *out, struct neg_ids *have,
		  struct neg_ids *need, int *done, struct nostr_err *err)
{
	*done = 0;
	if (s->role != NEG_ROLE_INITIATOR)
		return nostr_fail(err, NOSTR_E_ARG, NEG_FIELD, "reconcile needs an initiated session");
	if (process(s, msg, len, out, have, need, err) < 0)
		return -1;
	if (out->len == 1) {
		buf_reset(out);
		*done = 1;
	}
	return 0;
}

int neg_respond(struct neg_session *s, const unsigned char *msg, size_t len, struct buf *out, struct nostr_err *err)
{
	if (s->role == NEG_ROLE_INITIATOR)
		return nostr_fail(err, NOSTR_E_ARG, NEG_FIELD, "an initiator does not respond");
	s->role = NEG_ROLE_RESPONDER;
	return process(s, msg, len, out, NULL, NULL, err);
}
