/* test_sync_batch.c — the table of verified signatures and batch verification with it. */
#include <check.h>
#include <string.h>

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
	struct sync_batch *b = sync_batch_new(4);
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

int main(void)
{
	Suite *s = suite_create("sync_batch");
	TCase *tc = tcase_create("sync_batch");
	tcase_add_test(tc, seen_remembers_pairs);
	tcase_add_test(tc, verify_uses_the_table_and_still_checks_ids);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
