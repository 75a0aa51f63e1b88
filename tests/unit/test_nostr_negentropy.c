/* test_nostr_negentropy.c — negentropy wire format, the reference's vectors, hostile messages, random reconciliations. */
#include <check.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/negentropy.h"
#include "negentropy_vectors.h"

static const unsigned char *u8(const struct buf *b)
{
	return (const unsigned char *)b->data;
}

START_TEST(test_varint)
{
	static const struct { uint64_t v; const char *hex; } known[] = {
		{0, "00"}, {1, "01"}, {127, "7f"}, {128, "8100"}, {255, "817f"}, {16383, "ff7f"}, {16384, "818000"},
		{UINT64_MAX, "81ffffffffffffffff7f"},
	};
	struct buf b, h;
	buf_init(&b);
	buf_init(&h);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		buf_reset(&b);
		buf_reset(&h);
		neg_varint_put(&b, known[i].v);
		neg_hex_put(&h, u8(&b), b.len);
		ck_assert_str_eq(h.data, known[i].hex);
	}
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 2000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t v = x >> (i % 64), got;
		buf_reset(&b);
		neg_varint_put(&b, v);
		struct neg_reader r = {u8(&b), b.len, 0};
		ck_assert_int_eq(neg_varint_get(&r, &got), 0);
		ck_assert(got == v);
		ck_assert_uint_eq(r.pos, b.len);
		for (size_t cut = 0; cut < b.len; cut++) { /* every truncation is rejected */
			struct neg_reader t = {u8(&b), cut, 0};
			ck_assert_int_eq(neg_varint_get(&t, &got), -1);
			ck_assert_uint_le(t.pos, cut);
		}
	}
	static const unsigned char big[] = {0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}; /* 2^64 */
	struct neg_reader r = {big, sizeof(big), 0};
	uint64_t got;
	ck_assert_int_eq(neg_varint_get(&r, &got), -1);
	buf_free(&b);
	buf_free(&h);
}
END_TEST

START_TEST(test_bounds)
{
	struct buf b;
	buf_init(&b);
	struct neg_bound in[40], out;
	uint64_t ts = 0, last_out = 0, last_in = 0;
	for (unsigned i = 0; i < 40; i++) {
		memset(&in[i], 0, sizeof(in[i]));
		ts += i % 3 == 0 ? 0 : (uint64_t)i * 1000003;
		in[i].ts = i == 39 ? NEG_TS_INFINITY : ts;
		in[i].id_len = i % 33;
		for (unsigned k = 0; k < in[i].id_len; k++)
			in[i].id[k] = (unsigned char)(i * 7 + k);
		neg_bound_put(&b, &last_out, &in[i]);
	}
	struct neg_reader r = {u8(&b), b.len, 0};
	for (unsigned i = 0; i < 40; i++) {
		ck_assert_int_eq(neg_bound_get(&r, &last_in, &out, NULL), 0);
		ck_assert(out.ts == in[i].ts);
		ck_assert_uint_eq(out.id_len, in[i].id_len);
		ck_assert_mem_eq(out.id, in[i].id, NEG_ID_SIZE); /* omitted bytes are zero */
	}
	ck_assert_uint_eq(r.pos, b.len);
	struct nostr_err err = {0};
	static const unsigned char long_id[] = {0x01, 0x21};                  /* id prefix of 33 bytes */
	static const unsigned char short_id[] = {0x01, 0x05, 1, 2, 3, 4};     /* 5 announced, 4 present */
	static const unsigned char overflow[] = {0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00};
	struct neg_reader a = {long_id, sizeof(long_id), 0}, c = {short_id, sizeof(short_id), 0};
	last_in = 0;
	ck_assert_int_eq(neg_bound_get(&a, &last_in, &out, &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_MESSAGE);
	ck_assert_int_eq(neg_bound_get(&c, &last_in, &out, &err), -1);
	last_in = 5; /* 5 + (2^64 - 2) does not fit */
	struct neg_reader o = {overflow, sizeof(overflow), 0};
	ck_assert_int_eq(neg_bound_get(&o, &last_in, &out, &err), -1);
	buf_free(&b);
}
END_TEST

/* Set `set` of the vector file: n items, leaving out i % skip == 1 when skip is set. */
static void vector_set(struct neg_storage *st, int set, int n, int skip)
{
	neg_storage_init(st);
	for (int i = 0; i < n; i++) {
		if (skip && i % skip == 1)
			continue;
		char s[64];
		unsigned char id[NEG_ID_SIZE];
		int len = snprintf(s, sizeof(s), "brotr neg vector %d %d", set, i);
		SHA256((const unsigned char *)s, (size_t)len, id);
		ck_assert_int_eq(neg_storage_add(st, 1000 + (uint64_t)i / 3, id, NULL), 0);
	}
	ck_assert_int_eq(neg_storage_seal(st, NULL), 0);
}

static void assert_hex(const struct buf *bin, const char *hex)
{
	struct buf h;
	buf_init(&h);
	neg_hex_put(&h, u8(bin), bin->len);
	ck_assert_str_eq(h.data ? h.data : "", hex);
	buf_free(&h);
}

START_TEST(test_reference_vectors)
{
	struct neg_storage st;
	unsigned char fp[NEG_FINGERPRINT_SIZE];
	struct buf out, fpb;
	buf_init(&out);
	buf_init(&fpb);
	vector_set(&st, 1, 100, 0);
	for (size_t i = 0; i < sizeof(fp_vectors) / sizeof(fp_vectors[0]); i++) {
		neg_fingerprint(&st, (size_t)fp_vectors[i].lo, (size_t)fp_vectors[i].hi, fp);
		buf_reset(&fpb);
		buf_append(&fpb, fp, sizeof(fp));
		assert_hex(&fpb, fp_vectors[i].hex);
	}
	neg_storage_free(&st);
	for (size_t i = 0; i < sizeof(init_vectors) / sizeof(init_vectors[0]); i++) {
		struct neg_session s;
		vector_set(&st, 1, init_vectors[i].n, 0);
		ck_assert_int_eq(neg_session_init(&s, &st, 0, NULL), 0);
		ck_assert_int_eq(neg_initiate(&s, &out, NULL), 0);
		assert_hex(&out, init_vectors[i].hex);
		neg_session_free(&s);
		neg_storage_free(&st);
	}
	buf_free(&out);
	buf_free(&fpb);
}
END_TEST

/* The reference's q1 → r1 → done exchange, byte for byte, and its need list. */
START_TEST(test_reference_exchange)
{
	struct neg_storage cs, ss;
	struct neg_session c, s;
	struct buf q, r;
	struct neg_ids have, need;
	int done = 0;
	buf_init(&q);
	buf_init(&r);
	neg_ids_init(&have);
	neg_ids_init(&need);
	vector_set(&cs, 1, 100, 10);
	vector_set(&ss, 1, 100, 0);
	ck_assert_int_eq(neg_session_init(&c, &cs, 0, NULL), 0);
	ck_assert_int_eq(neg_session_init(&s, &ss, 0, NULL), 0);
	ck_assert_int_eq(neg_initiate(&c, &q, NULL), 0);
	assert_hex(&q, vec_q1);
	ck_assert_int_eq(neg_respond(&s, u8(&q), q.len, &r, NULL), 0);
	assert_hex(&r, vec_r1);
	ck_assert_int_eq(neg_reconcile(&c, u8(&r), r.len, &q, &have, &need, &done, NULL), 0);
	ck_assert_int_eq(done, 1);
	ck_assert_uint_eq(q.len, 0);
	ck_assert_uint_eq(have.n, 0);
	ck_assert_uint_eq(need.n, 10);
	for (size_t i = 0; i < need.n; i++) { /* exactly the items i % 10 == 1 */
		int found = 0;
		for (int k = 1; k < 100; k += 10) {
			char t[64];
			unsigned char id[NEG_ID_SIZE];
			int len = snprintf(t, sizeof(t), "brotr neg vector 1 %d", k);
			SHA256((const unsigned char *)t, (size_t)len, id);
			found += memcmp(id, need.id[i], NEG_ID_SIZE) == 0;
		}
		ck_assert_int_eq(found, 1);
	}
	neg_session_free(&c);
	neg_session_free(&s);
	neg_storage_free(&cs);
	neg_storage_free(&ss);
	buf_free(&q);
	buf_free(&r);
	neg_ids_free(&have);
	neg_ids_free(&need);
}
END_TEST

/* Every prefix of msg: well formed only when cut between ranges, and both roles agree with neg_msg_check. */
static void check_prefixes(const struct neg_storage *st, const unsigned char *msg, size_t len)
{
	struct buf out;
	struct neg_ids have, need;
	size_t n_ranges = 0, accepted = 0;
	buf_init(&out);
	neg_ids_init(&have);
	neg_ids_init(&need);
	ck_assert_int_eq(neg_msg_check(msg, len, &n_ranges, NULL), 0);
	for (size_t cut = 0; cut <= len; cut++) {
		unsigned char *copy = malloc(cut ? cut : 1); /* exact size: a read past it is caught by ASan */
		memcpy(copy, msg, cut);
		struct nostr_err err = {0};
		struct neg_session srv, cli;
		struct buf init;
		int done, ok = neg_msg_check(copy, cut, NULL, &err) == 0;
		accepted += ok;
		if (!ok)
			ck_assert_int_eq(err.code, NOSTR_E_MESSAGE);
		buf_init(&init);
		ck_assert_int_eq(neg_session_init(&srv, st, 0, NULL), 0);
		ck_assert_int_eq(neg_session_init(&cli, st, 0, NULL), 0);
		ck_assert_int_eq(neg_initiate(&cli, &init, NULL), 0);
		ck_assert_int_eq(neg_respond(&srv, copy, cut, &out, NULL) == 0, ok);
		ck_assert_int_eq(neg_reconcile(&cli, copy, cut, &out, &have, &need, &done, NULL) == 0, ok);
		neg_session_free(&srv);
		neg_session_free(&cli);
		buf_free(&init);
		free(copy);
	}
	ck_assert_uint_eq(accepted, n_ranges + 1); /* the version byte alone, then after each range */
	buf_free(&out);
	neg_ids_free(&have);
	neg_ids_free(&need);
}

START_TEST(test_truncated_prefixes)
{
	struct neg_storage st, small;
	struct buf bin;
	buf_init(&bin);
	vector_set(&st, 1, 100, 0);
	vector_set(&small, 2, 20, 0);
	ck_assert_int_eq(neg_hex_get(&bin, vec_q1, strlen(vec_q1), NULL), 0);
	check_prefixes(&st, u8(&bin), bin.len);
	ck_assert_int_eq(neg_hex_get(&bin, vec_r1, strlen(vec_r1), NULL), 0);
	check_prefixes(&st, u8(&bin), bin.len);
	struct neg_session s;
	ck_assert_int_eq(neg_session_init(&s, &small, 0, NULL), 0);
	ck_assert_int_eq(neg_initiate(&s, &bin, NULL), 0); /* an id list */
	check_prefixes(&st, u8(&bin), bin.len);
	neg_session_free(&s);
	neg_storage_free(&st);
	neg_storage_free(&small);
	buf_free(&bin);
}
END_TEST

START_TEST(test_hostile_messages)
{
	struct neg_storage st;
	struct neg_session s, c;
	struct buf bin, out;
	struct neg_ids have, need;
	struct nostr_err err = {0};
	int done;
	buf_init(&bin);
	buf_init(&out);
	neg_ids_init(&have);
	neg_ids_init(&need);
	vector_set(&st, 1, 100, 0);
	ck_assert_int_eq(neg_session_init(&s, &st, 0, NULL), 0);
	ck_assert_int_eq(neg_session_init(&c, &st, 0, NULL), 0);
	ck_assert_int_eq(neg_initiate(&c, &bin, NULL), 0);
	static const struct { const char *hex; int ok; } cases[] = {
		{"", 0}, {"50", 0}, {"70", 0}, {"6100000200", 1}, {"61000003", 0}, {"6100000205", 0},
		{"610000020100", 0},   /* one id announced, none present */
		{"61000002ffffffff0f", 0}, {"6100210000", 0}, {"61000001", 0}, {"610000", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(neg_hex_get(&bin, cases[i].hex, strlen(cases[i].hex), NULL), 0);
		ck_assert_int_eq(neg_respond(&s, u8(&bin), bin.len, &out, &err) == 0, cases[i].ok);
		ck_assert_int_eq(neg_reconcile(&c, u8(&bin), bin.len, &out, &have, &need, &done, &err) == 0, cases[i].ok);
	}
	/* another protocol version: the responder names the one it speaks, the initiator gives up */
	ck_assert_int_eq(neg_hex_get(&bin, "62aabbccddeeff", 14, NULL), 0);
	ck_assert_int_eq(neg_respond(&s, u8(&bin), bin.len, &out, NULL), 0);
	assert_hex(&out, "61");
	ck_assert_int_eq(neg_reconcile(&c, u8(&bin), bin.len, &out, &have, &need, &done, &err), -1);
	ck_assert_int_eq(neg_hex_get(&bin, "6", 1, &err), -1);
	ck_assert_int_eq(neg_hex_get(&bin, "6G", 2, &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_MESSAGE);
	/* random bytes after a version byte never crash and agree with neg_msg_check */
	uint64_t x = 12345;
	unsigned char junk[64];
	for (int i = 0; i < 20000; i++) {
		size_t len = 1 + (size_t)(i % 63);
		junk[0] = NEG_PROTOCOL_V1;
		for (size_t k = 1; k < len; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			junk[k] = (unsigned char)(k % 3 == 0 ? x & 3 : x);
		}
		int ok = neg_msg_check(junk, len, NULL, NULL) == 0;
		ck_assert_int_eq(neg_respond(&s, junk, len, &out, NULL) == 0, ok);
	}
	neg_session_free(&s);
	neg_session_free(&c);
	neg_storage_free(&st);
	buf_free(&bin);
	buf_free(&out);
	neg_ids_free(&have);
	neg_ids_free(&need);
}
END_TEST

START_TEST(test_api_misuse)
{
	struct neg_storage st;
	struct neg_session s;
	struct buf out;
	struct nostr_err err = {0};
	unsigned char id[NEG_ID_SIZE] = {1};
	buf_init(&out);
	neg_storage_init(&st);
	ck_assert_int_eq(neg_session_init(&s, &st, 0, &err), -1); /* not sealed */
	ck_assert_int_eq(neg_storage_add(&st, NEG_TS_INFINITY, id, &err), -1);
	ck_assert_int_eq(neg_storage_add(&st, 5, id, &err), 0);
	ck_assert_int_eq(neg_storage_add(&st, 5, id, &err), 0);
	ck_assert_int_eq(neg_storage_seal(&st, &err), -1); /* duplicate */
	ck_assert_int_eq(err.code, NOSTR_E_ARG);
	neg_storage_free(&st);
	ck_assert_int_eq(neg_storage_add(&st, 5, id, &err), 0);
	ck_assert_int_eq(neg_storage_seal(&st, &err), 0);
	ck_assert_int_eq(neg_storage_add(&st, 6, id, &err), -1); /* sealed */
	ck_assert_int_eq(neg_session_init(&s, &st, 4095, &err), -1);
	ck_assert_int_eq(neg_session_init(&s, &st, 4096, &err), 0);
	ck_assert_int_eq(neg_initiate(&s, &out, &err), 0);
	ck_assert_int_eq(neg_initiate(&s, &out, &err), -1);
	ck_assert_int_eq(neg_respond(&s, u8(&out), out.len, &out, &err), -1);
	neg_session_free(&s);
	neg_storage_free(&st);
	buf_free(&out);
}
END_TEST

/*
 * The responder cuts an id list at the frame limit: the fingerprint it sends for the rest must start
 * at the cut, not at the end of the range, or the ids after the cut are lost when nothing else differs.
 * S holds items 0..399; C holds 200..399 and asks for the ids of [0, item 200) with an empty id list.
 */
START_TEST(test_frame_limit_cuts_id_list)
{
	struct neg_storage sv, cl;
	struct neg_session s, c;
	struct buf q, r;
	struct neg_ids have, need;
	unsigned char id[NEG_ID_SIZE], fp[NEG_FINGERPRINT_SIZE];
	int done = 0, rounds = 0;
	neg_storage_init(&sv);
	neg_storage_init(&cl);
	for (int i = 0; i < 400; i++) {
		SHA256((const unsigned char *)&i, sizeof(i), id);
		ck_assert_int_eq(neg_storage_add(&sv, 1000 + (uint64_t)i, id, NULL), 0);
		if (i >= 200)
			ck_assert_int_eq(neg_storage_add(&cl, 1000 + (uint64_t)i, id, NULL), 0);
	}
	ck_assert_int_eq(neg_storage_seal(&sv, NULL), 0);
	ck_assert_int_eq(neg_storage_seal(&cl, NULL), 0);
	buf_init(&q);
	buf_init(&r);
	neg_ids_init(&have);
	neg_ids_init(&need);
	ck_assert_int_eq(neg_session_init(&s, &sv, NEG_FRAME_MIN, NULL), 0);
	ck_assert_int_eq(neg_session_init(&c, &cl, 0, NULL), 0);
	ck_assert_int_eq(neg_initiate(&c, &q, NULL), 0);
	buf_reset(&q);
	buf_putc(&q, (char)NEG_PROTOCOL_V1);
	uint64_t last = 0;
	struct neg_bound b = {.ts = 1200}, inf = {.ts = NEG_TS_INFINITY};
	neg_bound_put(&q, &last, &b);
	neg_varint_put(&q, 2);
	neg_varint_put(&q, 0);
	neg_bound_put(&q, &last, &inf);
	neg_varint_put(&q, 1);
	neg_fingerprint(&cl, 0, cl.n, fp);
	buf_append(&q, fp, sizeof(fp));
	while (!done) {
		ck_assert_int_lt(++rounds, 100);
		ck_assert_int_eq(neg_respond(&s, u8(&q), q.len, &r, NULL), 0);
		ck_assert_uint_le(r.len, NEG_FRAME_MIN);
		ck_assert_int_eq(neg_reconcile(&c, u8(&r), r.len, &q, &have, &need, &done, NULL), 0);
	}
	ck_assert_int_gt(rounds, 1); /* the first answer was cut */
	ck_assert_uint_eq(have.n, 0);
	ck_assert_uint_eq(need.n, 200);
	neg_session_free(&s);
	neg_session_free(&c);
	neg_storage_free(&sv);
	neg_storage_free(&cl);
	buf_free(&q);
	buf_free(&r);
	neg_ids_free(&have);
	neg_ids_free(&need);
}
END_TEST

/* ---- property: random sets reconcile to exactly their differences ------------------------------- */

static uint64_t prng;
static uint64_t next_rand(void)
{
	prng ^= prng << 13, prng ^= prng >> 7, prng ^= prng << 17;
	return prng;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, NEG_ID_SIZE);
}

/* Sorted, de-duplicated copy of a list's ids, compared with the expected ones (already sorted). */
static void assert_ids(struct neg_ids *got, unsigned char (*want)[NEG_ID_SIZE], size_t n_want)
{
	if (got->n)
		qsort(got->id, got->n, NEG_ID_SIZE, cmp_id);
	size_t k = 0;
	for (size_t i = 0; i < got->n; i++)
		if (k == 0 || memcmp(got->id[i], got->id[k - 1], NEG_ID_SIZE) != 0)
			memmove(got->id[k++], got->id[i], NEG_ID_SIZE);
	ck_assert_uint_eq(k, n_want);
	for (size_t i = 0; i < k; i++)
		ck_assert_mem_eq(got->id[i], want[i], NEG_ID_SIZE);
}

struct sim {
	struct neg_storage a, b;                  /* a initiates */
	unsigned char (*only_a)[NEG_ID_SIZE], (*only_b)[NEG_ID_SIZE];
	size_t n_only_a, n_only_b;
};

/* n items; side chosen per item, per run of 50 neighbours or for one long block; few timestamps, shared id prefixes. */
static void sim_build(struct sim *m, size_t n)
{
	int clustered = next_rand() & 1;
	unsigned p_only = (unsigned)(next_rand() % 40); /* percent on one side only */
	uint64_t spread = 1 + next_rand() % (n + 1);   /* n / spread items per second on average */
	neg_storage_init(&m->a);
	neg_storage_init(&m->b);
	m->only_a = malloc((n + 1) * NEG_ID_SIZE);
	m->only_b = malloc((n + 1) * NEG_ID_SIZE);
	m->n_only_a = m->n_only_b = 0;
	/* sometimes one long block on one side: an id list answered across several frames */
	size_t block_at = n ? (size_t)(next_rand() % n) : 0, block_len = next_rand() % 4 ? 0 : 200 + next_rand() % 3000;
	int block_side = 1 + (int)(next_rand() & 1), side = 0;
	if (block_len && next_rand() % 2)
		p_only = 0; /* and nothing else differs */
	for (size_t i = 0; i < n; i++) {
		unsigned char id[NEG_ID_SIZE];
		for (int k = 0; k < NEG_ID_SIZE; k += 8) {
			uint64_t r = next_rand();
			memcpy(id + k, &r, 8);
		}
		if (i % 5 == 0) /* long shared prefixes make long bounds */
			memset(id, 0xab, 1 + next_rand() % 30);
		uint64_t ts = 1600000000 + next_rand() % spread;
		if (!clustered || i % 50 == 0)
			side = next_rand() % 100 < p_only ? 1 + (int)(next_rand() & 1) : 0;
		if (i >= block_at && i - block_at < block_len)
			side = block_side;
		if (side != 2)
			ck_assert_int_eq(neg_storage_add(&m->a, ts, id, NULL), 0);
		if (side != 1)
			ck_assert_int_eq(neg_storage_add(&m->b, ts, id, NULL), 0);
		if (side)
			memcpy(side == 1 ? m->only_a[m->n_only_a++] : m->only_b[m->n_only_b++], id, NEG_ID_SIZE);
	}
	ck_assert_int_eq(neg_storage_seal(&m->a, NULL), 0);
	ck_assert_int_eq(neg_storage_seal(&m->b, NULL), 0);
	qsort(m->only_a, m->n_only_a, NEG_ID_SIZE, cmp_id);
	qsort(m->only_b, m->n_only_b, NEG_ID_SIZE, cmp_id);
}

static void sim_run(struct sim *m, size_t frame_a, size_t frame_b)
{
	struct neg_session c, s;
	struct buf q, r;
	struct neg_ids have, need;
	int done = 0, rounds = 0;
	buf_init(&q);
	buf_init(&r);
	neg_ids_init(&have);
	neg_ids_init(&need);
	ck_assert_int_eq(neg_session_init(&c, &m->a, frame_a, NULL), 0);
	ck_assert_int_eq(neg_session_init(&s, &m->b, frame_b, NULL), 0);
	ck_assert_int_eq(neg_initiate(&c, &q, NULL), 0);
	while (!done) {
		ck_assert_int_lt(++rounds, 1000);
		ck_assert_int_eq(neg_respond(&s, u8(&q), q.len, &r, NULL), 0);
		if (frame_b)
			ck_assert_uint_le(r.len, frame_b);
		ck_assert_int_eq(neg_reconcile(&c, u8(&r), r.len, &q, &have, &need, &done, NULL), 0);
		if (frame_a)
			ck_assert_uint_le(q.len, frame_a);
	}
	assert_ids(&have, m->only_a, m->n_only_a);
	assert_ids(&need, m->only_b, m->n_only_b);
	neg_session_free(&c);
	neg_session_free(&s);
	buf_free(&q);
	buf_free(&r);
	neg_ids_free(&have);
	neg_ids_free(&need);
}

START_TEST(test_random_reconciliations)
{
	struct sim m;
	prng = 0x853c49e6748fea9bULL ^ ((uint64_t)(_i + 1) * 0x9e3779b97f4a7c15ULL);
	size_t sizes[] = {0, 1, 2, 31, 32, 33, 100, 1000, 5000};
	size_t n = _i < 9 ? sizes[_i] : (size_t)(next_rand() % 6000);
	sim_build(&m, n);
	sim_run(&m, 0, 0);
	sim_run(&m, NEG_FRAME_MIN, NEG_FRAME_MIN);
	sim_run(&m, 0, NEG_FRAME_MIN + next_rand() % 20000);
	sim_run(&m, NEG_FRAME_MIN + next_rand() % 20000, 0);
	neg_storage_free(&m.a);
	neg_storage_free(&m.b);
	free(m.only_a);
	free(m.only_b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nostr_negentropy");
	TCase *tc = tcase_create("negentropy");
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_varint);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_reference_vectors);
	tcase_add_test(tc, test_reference_exchange);
	tcase_add_test(tc, test_truncated_prefixes);
	tcase_add_test(tc, test_hostile_messages);
	tcase_add_test(tc, test_api_misuse);
	tcase_add_test(tc, test_frame_limit_cuts_id_list);
	tcase_add_loop_test(tc, test_random_reconciliations, 0, 200);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
