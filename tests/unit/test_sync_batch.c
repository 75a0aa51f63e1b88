/* test_sync_batch.c — what a batch counts of its events, the table of verified signatures and batch verification with it. */
#include <check.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"

#include "nostr/keys.h"
#include "services/sync_batch.h"

START_TEST(seen_remembers_pairs)
{
	struct sync_seen s;
	ck_assert_int_eq(sync_seen_init(&s, 4), 0);
	unsigned char id[32], sig[64];
	memset(id, 7, sizeof(id));
	memset(sig, 9, sizeof(sig));
	ck_assert(!sync_seen_has(&s, id, sig));
	sync_seen_add(&s, id, sig);
	ck_assert(sync_seen_has(&s, id, sig));
	sig[63] ^= 1; /* the same id with another signature is not known */
	ck_assert(!sync_seen_has(&s, id, sig));
	/* many pairs on one index: the table keeps 4 and evicts, never mixing them up */
	for (int k = 0; k < 20; k++) {
		id[31] = (unsigned char)k;
		sync_seen_add(&s, id, sig);
	}
	int kept = 0;
	for (int k = 0; k < 20; k++) {
		id[31] = (unsigned char)k;
		kept += sync_seen_has(&s, id, sig);
	}
	ck_assert_int_ge(kept, 1);
	ck_assert_int_le(kept, 4);
	sync_seen_free(&s);
}
END_TEST

/* A known pair skips the signature, not the id: a changed content is still caught. */
START_TEST(verify_uses_the_table_and_still_checks_ids)
{
	struct nostr_ctx *ctx = nostr_ctx_new();
	struct nostr_key key;
	struct nostr_err err = { 0 };
	ck_assert_int_eq(nostr_key_generate(ctx, &key, &err), 0);
	struct sync_batch *b = sync_batch_new(4, 0);
	struct nostr_event ev;
	nostr_event_init(&ev);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(nostr_event_create(ctx, &ev, &key, 1, 1000 + i, NULL, 0, "hello", 5, 0, 0, &err), 0);
		ck_assert_int_eq(sync_batch_add(b, &ev), 0);
	}
	/* the third is tampered after signing: same id and sig, other content */
	ck_assert_int_eq(nostr_event_set(&b->ev[2], 1, 1002, NULL, 0, "HELLO", 5, &err), 0);
	struct workpool *pool = workpool_new(2);
	struct nostr_verifier *ver[2] = { nostr_verifier_new(ctx), nostr_verifier_new(ctx) };
	struct buf scratch[2];
	buf_init(&scratch[0]);
	buf_init(&scratch[1]);
	struct sync_seen seen;
	ck_assert_int_eq(sync_seen_init(&seen, 8), 0);
	sync_seen_add(&seen, b->ev[0].id, b->ev[0].sig);
	sync_seen_add(&seen, b->ev[2].id, b->ev[2].sig);
	struct sync_verify v;
	sync_verify_start(&v, pool, ver, scratch, &seen, b, 0, b->n);
	sync_verify_finish(&v);
	ck_assert_int_eq(b->valid[0], 2); /* known: id checked only */
	ck_assert_int_eq(b->valid[1], 1); /* unknown: fully verified */
	ck_assert_int_eq(b->valid[2], 0); /* known pair, but the id no longer matches */
	ck_assert_int_eq(b->errc[2], NOSTR_E_ID);
	ck_assert_uint_eq(b->verified, 3);
	sync_seen_free(&seen);
	buf_free(&scratch[0]);
	buf_free(&scratch[1]);
	nostr_verifier_free(ver[0]);
	nostr_verifier_free(ver[1]);
	workpool_free(pool);
	nostr_event_free(&ev);
	sync_batch_free(b);
	nostr_key_wipe(&key);
	nostr_ctx_free(ctx);
}
END_TEST

/* An event of n_tags tags of `items` strings of `len` bytes each (bytes from `alphabet`), and content. */
static void make_event(struct nostr_event *ev, size_t n_tags, size_t items, size_t len, const char *alphabet,
		       size_t content_len)
{
	struct nostr_tag *tags = calloc(n_tags ? n_tags : 1, sizeof(*tags));
	struct nostr_str *it = calloc(items ? items : 1, sizeof(*it));
	char *s = malloc(len + content_len + 1);
	size_t na = strlen(alphabet);
	for (size_t k = 0; k < len + content_len; k++)
		s[k] = alphabet[(size_t)rand() % na];
	for (size_t j = 0; j < items; j++)
		it[j] = (struct nostr_str){ s, len };
	for (size_t i = 0; i < n_tags; i++)
		tags[i] = (struct nostr_tag){ it, items };
	struct nostr_err err = { 0 };
	ck_assert_int_eq(nostr_event_set(ev, 1, 1700000000, tags, n_tags, s + len, content_len, &err), 0);
	free(tags);
	free(it);
	free(s);
}

/* Heap bytes in use (0 under a sanitizer's allocator, which keeps its own books). */
static size_t heap_used(void)
{
	return mallinfo2().uordblks;
}

/*
 * A batch counts what its events really occupy: a 1 MiB event of 340000 empty tags takes over
 * 5 MB of tag structures (it used to count as 200 bytes, so a batch of such forged events could
 * take gigabytes). Whatever the shape, the count covers the heap the copy took.
 */
START_TEST(counts_real_memory)
{
	static const struct { size_t tags, items, len, content; } shapes[] = {
		{ 340000, 0, 0, 0 }, { 60000, 3, 1, 0 }, { 10, 2, 64, 100 }, { 0, 0, 0, 900000 }, { 1, 100000, 0, 0 },
	};
	for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		struct nostr_event ev;
		nostr_event_init(&ev);
		make_event(&ev, shapes[k].tags, shapes[k].items, shapes[k].len, "ab", shapes[k].content);
		struct sync_batch *b = sync_batch_new(4, 0);
		size_t before = heap_used();
		ck_assert_int_eq(sync_batch_add(b, &ev), 0);
		size_t took = heap_used() - before;
		ck_assert_uint_ge(b->bytes, took);
		ck_assert_uint_ge(b->bytes, shapes[k].tags * sizeof(struct nostr_tag) +
						    shapes[k].tags * shapes[k].items * sizeof(struct nostr_str));
		ck_assert_uint_ge(b->bytes, shapes[k].content);
		sync_batch_free(b);
		nostr_event_free(&ev);
	}
	/* so a batch of tag bombs is full after a couple of them */
	struct nostr_event ev;
	nostr_event_init(&ev);
	make_event(&ev, 340000, 0, 0, "a", 0);
	struct sync_batch *b = sync_batch_new(1000, 0);
	int added = 0;
	while (!sync_batch_full(b)) {
		ck_assert_int_eq(sync_batch_add(b, &ev), 0);
		added++;
	}
	ck_assert_int_le(added, 2);
	sync_batch_free(b);
	nostr_event_free(&ev);
}
END_TEST

START_TEST(caps_tags_per_event_and_batch)
{
	struct nostr_event ev;
	nostr_event_init(&ev);
	struct sync_batch *b = sync_batch_new(10000, 1000);
	make_event(&ev, 1001, 1, 1, "a", 0);
	ck_assert_int_eq(sync_batch_add(b, &ev), 1); /* refused, nothing held */
	ck_assert_uint_eq(b->n, 0);
	ck_assert_uint_eq(b->bytes, 0);
	make_event(&ev, 1000, 1, 1, "a", 0);
	size_t added = 0;
	while (!sync_batch_full(b)) {
		ck_assert_int_eq(sync_batch_add(b, &ev), 0);
		added++;
	}
	/* full by its tags (1000 per event) before its bytes or its slots */
	ck_assert_uint_eq(b->n_tags, SYNC_BATCH_MAX_TAGS - SYNC_BATCH_MAX_TAGS % 1000 + 1000);
	ck_assert_uint_lt(b->bytes, SYNC_BATCH_MAX_BYTES);
	ck_assert_uint_lt(added, 10000);
	sync_batch_free(b);
	nostr_event_free(&ev);
}
END_TEST

/* An emptied batch gives back every event's storage and a tags buffer that grew. */
START_TEST(reset_returns_storage)
{
	struct nostr_event ev;
	nostr_event_init(&ev);
	struct sync_batch *b = sync_batch_new(8, 0);
	for (int i = 0; i < 8; i++) {
		make_event(&ev, (size_t)(i % 2 ? 20000 : 3), 2, 30, "xyz", (size_t)i * 1000);
		ck_assert_int_eq(sync_batch_add(b, &ev), 0);
		b->valid[i] = 1;
	}
	ck_assert_int_eq(sync_batch_rows(b), 0);
	ck_assert_uint_gt(b->tags.cap, SYNC_BATCH_KEEP_BYTES);
	size_t before = heap_used();
	sync_batch_reset(b);
	for (int i = 0; i < 8; i++) {
		ck_assert_ptr_null(b->ev[i].mem_);
		ck_assert_ptr_null(b->ev[i].tag_mem_);
		ck_assert_ptr_null(b->ev[i].item_mem_);
	}
	ck_assert_uint_le(b->tags.cap, SYNC_BATCH_KEEP_BYTES);
	ck_assert_uint_le(heap_used(), before);
	ck_assert_uint_eq(b->bytes + b->statement + b->n_tags + b->n, 0);
	sync_batch_free(b);
	nostr_event_free(&ev);
}
END_TEST

/* The statement bound covers the array literals pgc builds for insert_event_batch, for any bytes
 * (quotes, backslashes and control characters expand), and is close to them. */
START_TEST(statement_bound_covers_the_encoding)
{
	static const char *alphabets[] = { "a", "\"\\", "\x01\n\x1f\t", "a\"\x02\x7f" };
	srand(7);
	for (int round = 0; round < 40; round++) {
		struct sync_batch *b = sync_batch_new(16, 0);
		struct nostr_event ev;
		nostr_event_init(&ev);
		size_t n = 1 + (size_t)rand() % 16;
		for (size_t i = 0; i < n; i++) {
			const char *abc = alphabets[(size_t)rand() % 4];
			make_event(&ev, (size_t)rand() % 50, (size_t)rand() % 4, (size_t)rand() % 40, abc, (size_t)rand() % 3000);
			ev.kind = (uint32_t)rand() % 65536;
			ck_assert_int_eq(sync_batch_add(b, &ev), 0);
			b->valid[i] = 1;
		}
		ck_assert_int_eq(sync_batch_rows(b), 0);
		struct pgarr a;
		pgarr_init(&a);
		size_t total = 0;
		for (int col = 0; col < 7; col++) {
			pgarr_begin(&a);
			for (size_t k = 0; k < b->n_rows; k++) {
				const struct db_event *r = &b->rows[k];
				switch (col) {
				case 0: pgarr_hex(&a, r->id, 32); break;
				case 1: pgarr_hex(&a, r->pubkey, 32); break;
				case 2: pgarr_int(&a, r->created_at); break;
				case 3: pgarr_int(&a, r->kind); break;
				case 4: ck_assert_int_eq(pgarr_text(&a, r->tags, r->tags_len), 0); break;
				case 5: ck_assert_int_eq(pgarr_text(&a, r->content, r->content_len), 0); break;
				default: pgarr_hex(&a, r->sig, 64);
				}
			}
			total += strlen(pgarr_end(&a));
		}
		pgarr_free(&a);
		ck_assert_uint_ge(b->statement, total);
		ck_assert_uint_le(b->statement, total + 40 * n);
		nostr_event_free(&ev);
		sync_batch_free(b);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sync_batch");
	TCase *tc = tcase_create("sync_batch");
	tcase_add_test(tc, seen_remembers_pairs);
	tcase_add_test(tc, verify_uses_the_table_and_still_checks_ids);
	tcase_add_test(tc, counts_real_memory);
	tcase_add_test(tc, caps_tags_per_event_and_batch);
	tcase_add_test(tc, reset_returns_storage);
	tcase_add_test(tc, statement_bound_covers_the_encoding);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
