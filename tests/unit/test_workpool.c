/* test_workpool.c — the worker pool: every item exactly once, per-worker exclusivity, reuse, split runs. */
#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/workpool.h"

#define N 100003

struct state {
	atomic_int calls[N];
	atomic_int busy[64]; /* calls in progress per worker */
	atomic_int overlap;
	atomic_int bad_worker;
	unsigned workers;
};

static void count(void *arg, size_t i, unsigned w)
{
	struct state *s = arg;
	if (w >= s->workers) {
		atomic_store(&s->bad_worker, 1);
		return;
	}
	if (atomic_fetch_add(&s->busy[w], 1) != 0)
		atomic_store(&s->overlap, 1);
	atomic_fetch_add(&s->calls[i], 1);
	atomic_fetch_sub(&s->busy[w], 1);
}

static void run_with(unsigned threads, size_t chunk)
{
	struct workpool *p = workpool_new(threads);
	ck_assert_ptr_nonnull(p);
	struct state *s = calloc(1, sizeof(*s));
	s->workers = workpool_size(p);
	ck_assert_uint_eq(s->workers, threads ? threads : workpool_cpus());
	for (int round = 0; round < 3; round++) {
		size_t n = round == 1 ? 0 : (round == 2 ? 7 : N);
		memset(s->calls, 0, sizeof(s->calls));
		if (round == 2) {
			workpool_start(p, n, chunk, count, s);
			workpool_finish(p);
		} else
			workpool_run(p, n, chunk, count, s);
		for (size_t i = 0; i < N; i++)
			ck_assert_msg(atomic_load(&s->calls[i]) == (i < n), "round %d item %zu: %d calls", round, i,
				      atomic_load(&s->calls[i]));
	}
	ck_assert_int_eq(atomic_load(&s->overlap), 0);
	ck_assert_int_eq(atomic_load(&s->bad_worker), 0);
	free(s);
	workpool_free(p);
}

START_TEST(test_one_thread) { run_with(1, 1); }
END_TEST
START_TEST(test_cpus) { run_with(0, 16); }
END_TEST
START_TEST(test_many_threads) { run_with(8, 3); }
END_TEST

int main(void)
{
	Suite *s = suite_create("workpool");
	TCase *tc = tcase_create("workpool");
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_one_thread);
	tcase_add_test(tc, test_cpus);
	tcase_add_test(tc, test_many_threads);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
