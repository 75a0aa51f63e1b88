/* jobq.h — one thread that runs queued jobs in order; after a failure the rest are skipped. */
#ifndef BROTR_CORE_JOBQ_H
#define BROTR_CORE_JOBQ_H

#include <stddef.h>

/* Embedded in the caller's job structure; the queue links jobs through it. */
struct jobq_job {
	struct jobq_job *next;
};

/*
 * Runs one job on the queue's thread, without the queue's lock held. skip is 1 once an earlier
 * job failed: the job must then not be done (only accounted for). Returns 0, or -1 when the job
 * failed, which makes every later job a skipped one.
 */
typedef int (*jobq_fn)(void *ctx, struct jobq_job *job, int skip);

struct jobq;

/*
 * Starts the thread. With keep_done, a job that has run waits in a done list until jobq_take
 * returns it to the caller; otherwise fn owns the job once called (and frees it, say).
 * Returns NULL when out of memory or threads.
 */
struct jobq *jobq_start(jobq_fn fn, void *ctx, int keep_done);

/* Appends job (the queue holds it until fn is called). Never blocks. */
void jobq_put(struct jobq *q, struct jobq_job *job);

/* The jobs put and not yet started. */
size_t jobq_queued(struct jobq *q);

/* Waits until fewer than `below` jobs are queued, at most ms milliseconds (ms < 0: no limit).
 * Returns 1 when fewer are queued, 0 on timeout. */
int jobq_wait(struct jobq *q, size_t below, long long ms);

/* With keep_done: waits until a job that has run is waiting to be taken, at most ms milliseconds
 * (ms < 0: no limit). Returns 1 when one is, 0 on timeout. */
int jobq_wait_done(struct jobq *q, long long ms);

/* With keep_done: a job that has run, or NULL when none has yet (wait: block until one has,
 * unless none is queued or running). The caller owns the returned job again. */
struct jobq_job *jobq_take(struct jobq *q, int wait);

/* 1 once a job has failed. */
int jobq_failed(struct jobq *q);

/*
 * Runs (or skips) every queued job, joins the thread and frees the queue. Returns the done jobs
 * not taken (keep_done), linked through next, for the caller to free; NULL otherwise. Accepts NULL.
 */
struct jobq_job *jobq_stop(struct jobq *q);

#endif
