/* test_jobq.c — the job queue: order, exactly once, skipping after a failure, ownership, waiting for room and for results. */
#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "core/jobq.h"

#define N 1000

struct job {
	struct jobq_job link;
	int index;
	int runs, skipped;
};

struct state {
	int order[N]; /* indexes in the order fn saw them */
	int seen;
	int fail_at;  /* this index fails (-1: none) */
	int freed;    /* jobs fn freed (without keep_done) */
	pthread_mutex_t gate; /* held by the test to keep fn from returning */
};

static struct job *job_of(struct jobq_job *j)
{
	return (struct job *)((char *)j - offsetof(struct job, link));
}

static int run(void *ctx, struct jobq_job *j, int skip)
{
	struct state *s = ctx;
	struct job *jb = job_of(j);
	pthread_mutex_lock(&s->gate);
	pthread_mutex_unlock(&s->gate);
	s->order[s->seen++] = jb->index;
	jb->runs++;
	jb->skipped = skip;
	return jb->index == s->fail_at ? -1 : 0;
}

static int run_and_free(void *ctx, struct jobq_job *j, int skip)
{
	struct state *s = ctx;
	int rc = run(ctx, j, skip);
	free(job_of(j));
	s->freed++;
	return rc;
}

static struct state *state_new(int fail_at)
{
	struct state *s = calloc(1, sizeof(*s));
	s->fail_at = fail_at;
	pthread_mutex_init(&s->gate, NULL);
	return s;
}

START_TEST(test_order_and_take)
{
	struct state *s = state_new(-1);
	struct jobq *q = jobq_start(run, s, 1);
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_null(jobq_take(q, 1)); /* nothing queued: no wait */
	struct job *jobs = calloc(N, sizeof(*jobs));
	for (int i = 0; i < N; i++) {
		jobs[i].index = i;
		jobq_put(q, &jobs[i].link);
	}
	for (int i = 0; i < N; i++) {
		struct jobq_job *j = jobq_take(q, 1);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(job_of(j)->index, i); /* done in the order put */
		ck_assert_int_eq(job_of(j)->runs, 1);
		ck_assert_int_eq(job_of(j)->skipped, 0);
	}
	ck_assert_ptr_null(jobq_take(q, 1));
	ck_assert_int_eq(jobq_failed(q), 0);
	ck_assert_ptr_null(jobq_stop(q));
	free(jobs);
	free(s);
}
END_TEST

START_TEST(test_failure_skips_the_rest)
{
	struct state *s = state_new(3);
	struct jobq *q = jobq_start(run, s, 1);
	struct job jobs[8] = { 0 };
	pthread_mutex_lock(&s->gate); /* queue all before any finishes */
	for (int i = 0; i < 8; i++) {
		jobs[i].index = i;
		jobq_put(q, &jobs[i].link);
	}
	pthread_mutex_unlock(&s->gate);
	struct jobq_job *left = jobq_stop(q); /* runs everything, returns what was not taken */
	int n = 0;
	for (struct jobq_job *j = left; j; j = j->next, n++)
		ck_assert_int_eq(job_of(j)->index, n);
	ck_assert_int_eq(n, 8);
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(jobs[i].runs, 1);
		ck_assert_int_eq(jobs[i].skipped, i > 3); /* the failed job itself ran; later ones are skipped */
	}
	free(s);
}
END_TEST

START_TEST(test_owned_jobs_and_wait)
{
	struct state *s = state_new(-1);
	struct jobq *q = jobq_start(run_and_free, s, 0);
	pthread_mutex_lock(&s->gate); /* the first job blocks in fn; the others stay queued */
	for (int i = 0; i < 3; i++) {
		struct job *j = calloc(1, sizeof(*j));
		j->index = i;
		jobq_put(q, &j->link);
	}
	ck_assert_int_eq(jobq_wait(q, 3, -1), 1); /* the thread takes the first: 2 stay queued */
	ck_assert_uint_eq(jobq_queued(q), 2);
	ck_assert_int_eq(jobq_wait(q, 1, 10), 0); /* still blocked: a timeout, not a wait forever */
	pthread_mutex_unlock(&s->gate);
	ck_assert_int_eq(jobq_wait(q, 1, -1), 1);
	ck_assert_ptr_null(jobq_stop(q)); /* fn owned and freed every job */
	ck_assert_int_eq(s->freed, 3);
	ck_assert_int_eq(s->order[0] + 1, s->order[1]);
	ck_assert_int_eq(s->order[1] + 1, s->order[2]);
	free(s);
}
END_TEST

START_TEST(test_wait_done)
{
	struct state *s = state_new(-1);
	struct jobq *q = jobq_start(run, s, 1);
	struct job one = { .index = 7 };
	pthread_mutex_lock(&s->gate); /* the job cannot finish yet */
	jobq_put(q, &one.link);
	ck_assert_int_eq(jobq_wait_done(q, 10), 0); /* a timeout, not a wait forever */
	ck_assert_ptr_null(jobq_take(q, 0));
	pthread_mutex_unlock(&s->gate);
	ck_assert_int_eq(jobq_wait_done(q, -1), 1);
	ck_assert_int_eq(jobq_wait_done(q, 0), 1); /* still there until taken */
	ck_assert_ptr_eq(jobq_take(q, 0), &one.link);
	ck_assert_ptr_null(jobq_stop(q));
	free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jobq");
	TCase *tc = tcase_create("jobq");
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_order_and_take);
	tcase_add_test(tc, test_failure_skips_the_rest);
	tcase_add_test(tc, test_owned_jobs_and_wait);
	tcase_add_test(tc, test_wait_done);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
