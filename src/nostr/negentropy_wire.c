/* negentropy_wire.c — negentropy items, fingerprints and wire format: varints, bounds, message structure, hex. */
#include "nostr/negentropy.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#define NEG_FIELD "negentropy"

void neg_storage_init(struct neg_storage *st)
{
	memset(st, 0, sizeof(*st));
}

void neg_storage_free(struct neg_storage *st)
{
	free(st->items);
	neg_storage_init(st);
}

int neg_storage_add(struct neg_storage *st, uint64_t ts, const unsigned char id[NEG_ID_SIZE], struct nostr_err *err)
{
	if (st->sealed)
		return nostr_fail(err, NOSTR_E_ARG, NEG_FIELD, "storage is sealed");
	if (ts == NEG_TS_INFINITY)
		return nostr_fail(err, NOSTR_E_ARG, NEG_FIELD, "timestamp 2^64-1 is reserved");
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 1024;
		struct neg_item *p = realloc(st->items, cap * sizeof(*p));
		if (!p)
			return nostr_fail(err, NOSTR_E_NOMEM, NEG_FIELD, NULL);
		st->items = p;
		st->cap = cap;
	}
	st->items[st->n].ts = ts;
	memcpy(st->items[st->n].id, id, NEG_ID_SIZE);
	st->n++;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct neg_item *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return memcmp(x->id, y->id, NEG_ID_SIZE);
}

int neg_storage_seal(struct neg_storage *st, struct nostr_err *err)
{
	if (st->sealed)
		return nostr_fail(err, NOSTR_E_ARG, NEG_FIELD, "storage is already sealed");
	if (st->n > 1)
		qsort(st->items, st->n, sizeof(*st->items), item_cmp);
	for (size_t i = 1; i < st->n; i++)
		if (item_cmp(&st->items[i - 1], &st->items[i]) == 0)
			return nostr_fail(err, NOSTR_E_ARG, NEG_FIELD, "duplicate item");
	st->sealed = 1;
	return 0;
}

size_t neg_storage_lower_bound(const struct neg_storage *st, size_t from, uint64_t ts, const unsigned char id[NEG_ID_SIZE])
{
	size_t lo = from, hi = st->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct neg_item *it = &st->items[mid];
		if (it->ts < ts || (it->ts == ts && memcmp(it->id, id, NEG_ID_SIZE) < 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Writes v as a varint into out (at most 10 bytes); returns its length. */
static size_t varint_encode(uint64_t v, unsigned char out[10])
{
	unsigned char tmp[10];
	size_t n = 0;
	do {
		tmp[n++] = (unsigned char)(v & 0x7f);
		v >>= 7;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(tmp[n - 1 - i] | (i + 1 < n ? 0x80 : 0));
	return n;
}

static uint64_t load_le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void neg_fingerprint(const struct neg_storage *st, size_t lo, size_t hi, unsigned char out[NEG_FINGERPRINT_SIZE])
{
	uint64_t sum[4] = {0, 0, 0, 0};
	for (size_t i = lo; i < hi; i++) {
		const unsigned char *id = st->items[i].id;
		uint64_t carry = 0;
		for (int k = 0; k < 4; k++) {
			uint64_t a = load_le64(id + 8 * k);
			uint64_t s = sum[k] + a;
			uint64_t c = s < a;
			sum[k] = s + carry;
			carry = c | (sum[k] < s);
		}
	}
	unsigned char in[NEG_ID_SIZE + 10], digest[SHA256_DIGEST_LENGTH];
	for (int k = 0; k < 4; k++)
		for (int b = 0; b < 8; b++)
			in[8 * k + b] = (unsigned char)(sum[k] >> (8 * b));
	size_t n = varint_encode((uint64_t)(hi - lo), in + NEG_ID_SIZE);
	SHA256(in, NEG_ID_SIZE + n, digest);
	memcpy(out, digest, NEG_FINGERPRINT_SIZE);
}

void neg_varint_put(struct buf *out, uint64_t v)
{
	unsigned char be[10];
	buf_append(out, be, varint_encode(v, be));
}

int neg_varint_get(struct neg_reader *r, uint64_t *v)
{
	uint64_t acc = 0;
	while (r->pos < r->len) {
		unsigned char c = r->p[r->pos++];
		if (acc > (UINT64_MAX >> 7))
			return -1;
		acc = acc << 7 | (c & 0x7f);
		if (!(c & 0x80)) {
			*v = acc;
			return 0;
		}
	}
	return -1;
}

void neg_bound_put(struct buf *out, uint64_t *last_ts, const struct neg_bound *b)
{
	if (b->ts == NEG_TS_INFINITY) {
		neg_varint_put(out, 0);
		*last_ts = NEG_TS_INFINITY;
	} else {
		neg_varint_put(out, 1 + (b->ts - *last_ts));
		*last_ts = b->ts;
	}
	neg_varint_put(out, b->id_len);
	buf_append(out, b->id, b->id_len);
}

int neg_bound_get(struct neg_reader *r, uint64_t *last_ts, struct neg_bound *b, struct nostr_err *err)
{
	uint64_t enc, len;
	if (neg_varint_get(r, &enc) < 0)
		return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "truncated or oversized bound timestamp");
	if (enc == 0 || *last_ts == NEG_TS_INFINITY) {
		b->ts = NEG_TS_INFINITY;
	} else {
		if (enc - 1 > NEG_TS_INFINITY - *last_ts)
			return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "bound timestamp overflows");
		b->ts = *last_ts + (enc - 1);
	}
	*last_ts = b->ts;
	if (neg_varint_get(r, &len) < 0)
		return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "truncated bound id length");
	if (len > NEG_ID_SIZE)
		return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "bound id prefix longer than 32 bytes");
	if (r->len - r->pos < len)
		return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "truncated bound id prefix");
	memset(b->id, 0, NEG_ID_SIZE);
	memcpy(b->id, r->p + r->pos, (size_t)len);
	b->id_len = (unsigned)len;
	r->pos += (size_t)len;
	return 0;
}

/* Steps over one range's payload for its mode. */
static int skip_payload(struct neg_reader *r, uint64_t mode, struct nostr_err *err)
{
	uint64_t n;
	switch (mode) {
	case 0:
		return 0;
	case 1:
		if (r->len - r->pos < NEG_FINGERPRINT_SIZE)
			return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "truncated fingerprint");
		r->pos += NEG_FINGERPRINT_SIZE;
		return 0;
	case 2:
		if (neg_varint_get(r, &n) < 0)
			return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "truncated id list length");
		if (n > (r->len - r->pos) / NEG_ID_SIZE)
			return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "id list longer than the message");
		r->pos += (size_t)n * NEG_ID_SIZE;
		return 0;
	default:
		return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "unknown range mode");
	}
}

int neg_msg_check(const unsigned char *msg, size_t len, size_t *n_ranges, struct nostr_err *err)
{
	struct neg_reader r = {msg, len, 0};
	uint64_t last = 0, mode;
	struct neg_bound b;
	size_t n = 0;
	if (len < 1)
		return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "empty message");
	if (msg[0] != NEG_PROTOCOL_V1)
		return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "not protocol version 1");
	r.pos = 1;
	while (r.pos < r.len) {
		if (neg_bound_get(&r, &last, &b, err) < 0)
			return -1;
		if (neg_varint_get(&r, &mode) < 0)
			return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "truncated range mode");
		if (skip_payload(&r, mode, err) < 0)
			return -1;
		n++;
	}
	if (n_ranges)
		*n_ranges = n;
	return 0;
}

void neg_hex_put(struct buf *hex, const unsigned char *bin, size_t len)
{
	if (buf_reserve(hex, 2 * len + 1) < 0)
		return;
	hex_encode(bin, len, hex->data + hex->len);
	hex->len += 2 * len;
}

int neg_hex_get(struct buf *bin, const char *text, size_t len, struct nostr_err *err)
{
	buf_reset(bin);
	if (len % 2)
		return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "odd number of hex digits");
	if (buf_reserve(bin, len / 2 + 1) < 0)
		return nostr_fail(err, NOSTR_E_NOMEM, NEG_FIELD, NULL);
	if (hex_decode(text, (unsigned char *)bin->data, len / 2) < 0)
		return nostr_fail(err, NOSTR_E_MESSAGE, NEG_FIELD, "not lower-case hex");
	bin->len = len / 2;
	bin->data[bin->len] = '\0';
	return 0;
}
