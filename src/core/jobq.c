/* jobq.c — one thread that runs queued jobs in order; after a failure the rest are skipped. */
#include "core/jobq.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/util.h"

struct list {
	struct jobq_job *head, *tail;
	size_t n;
};

struct jobq {
	jobq_fn fn;
	void *ctx;
	int keep_done;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a job was put, started or finished, or the queue is stopping */
	struct list todo, done;
	int running;            /* fn is being called */
	int stopping, failed;
	pthread_t thread;
};

static void push(struct list *l, struct jobq_job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->n++;
}

static struct jobq_job *pop(struct list *l)
{
	struct jobq_job *j = l->head;
	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
		l->n--;
		j->next = NULL;
	}
	return j;
}

static void *thread_main(void *arg)
{
	struct jobq *q = arg;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->todo.n && !q->stopping)
			pthread_cond_wait(&q->changed, &q->lock);
		struct jobq_job *j = pop(&q->todo);
		if (!j)
			break; /* stopping, and nothing left */
		int skip = q->failed;
		q->running = 1;
		pthread_cond_broadcast(&q->changed);
		pthread_mutex_unlock(&q->lock);
		int rc = q->fn(q->ctx, j, skip);
		pthread_mutex_lock(&q->lock);
		q->running = 0;
		if (rc < 0)
			q->failed = 1;
		if (q->keep_done)
			push(&q->done, j);
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct jobq *jobq_start(jobq_fn fn, void *ctx, int keep_done)
{
	struct jobq *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->fn = fn;
	q->ctx = ctx;
	q->keep_done = keep_done;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->changed, NULL);
	if (pthread_create(&q->thread, NULL, thread_main, q) != 0) {
		pthread_cond_destroy(&q->changed);
		pthread_mutex_destroy(&q->lock);
		free(q);
		return NULL;
	}
	return q;
}

void jobq_put(struct jobq *q, struct jobq_job *job)
{
	pthread_mutex_lock(&q->lock);
	push(&q->todo, job);
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

size_t jobq_queued(struct jobq *q)
{
	pthread_mutex_lock(&q->lock);
	size_t n = q->todo.n;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* Waits on changed until ready(q) holds, at most ms (ms < 0: no limit). Called with the lock held. */
static void wait_until(struct jobq *q, int (*ready)(const struct jobq *, size_t), size_t arg, long long ms)
{
	struct timespec until;
	if (ms >= 0)
		deadline_in_ms(&until, ms);
	while (!ready(q, arg)) {
		if (ms < 0)
			pthread_cond_wait(&q->changed, &q->lock);
		else if (pthread_cond_timedwait(&q->changed, &q->lock, &until) != 0)
			break;
	}
}

static int fewer_queued(const struct jobq *q, size_t below)
{
	return q->todo.n < below;
}

static int any_done(const struct jobq *q, size_t unused)
{
	(void)unused;
	return q->done.n > 0;
}

int jobq_wait(struct jobq *q, size_t below, long long ms)
{
	pthread_mutex_lock(&q->lock);
	wait_until(q, fewer_queued, below, ms);
	int ok = fewer_queued(q, below);
	pthread_mutex_unlock(&q->lock);
	return ok;
}

int jobq_wait_done(struct jobq *q, long long ms)
{
	pthread_mutex_lock(&q->lock);
	wait_until(q, any_done, 0, ms);
	int ok = any_done(q, 0);
	pthread_mutex_unlock(&q->lock);
	return ok;
}

struct jobq_job *jobq_take(struct jobq *q, int wait)
{
	pthread_mutex_lock(&q->lock);
	while (wait && !q->done.n && (q->todo.n || q->running))
		pthread_cond_wait(&q->changed, &q->lock);
	struct jobq_job *j = pop(&q->done);
	pthread_mutex_unlock(&q->lock);
	return j;
}

int jobq_failed(struct jobq *q)
{
	pthread_mutex_lock(&q->lock);
	int failed = q->failed;
	pthread_mutex_unlock(&q->lock);
	return failed;
}

struct jobq_job *jobq_stop(struct jobq *q)
{
	if (!q)
		return NULL;
	pthread_mutex_lock(&q->lock);
	q->stopping = 1;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	struct jobq_job *left = q->done.head;
	pthread_cond_destroy(&q->changed);
	pthread_mutex_destroy(&q->lock);
	free(q);
	return left;
}
