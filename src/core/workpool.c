/* workpool.c — threads (pthreads) that wait for a run, take chunks of items off an atomic counter, and report back.
 * This module starts threads: everything a workpool_fn touches must be per-item or per-worker, or read-only. */
#include "core/workpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

struct helper {
	struct workpool *pool;
	unsigned index;
	pthread_t thread;
};

struct workpool {
	pthread_mutex_t mu;
	pthread_cond_t start; /* a run began, or stop */
	pthread_cond_t done;  /* the last helper finished the run */
	unsigned n;           /* workers, the caller included */
	struct helper *helpers;
	unsigned started;     /* helper threads actually running */
	unsigned long gen;    /* run counter */
	unsigned busy;        /* helpers not yet finished with the current run */
	int stop;
	/* the current run; written under mu before gen changes */
	workpool_fn fn;
	void *arg;
	size_t n_items, chunk;
	atomic_size_t next;
};

unsigned workpool_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	return 1;
}

static void drain(struct workpool *p, unsigned worker)
{
	for (;;) {
		size_t i = atomic_fetch_add(&p->next, p->chunk);
		if (i >= p->n_items)
			return;
		size_t end = p->n_items - i < p->chunk ? p->n_items : i + p->chunk;
		for (; i < end; i++)
			p->fn(p->arg, i, worker);
	}
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct workpool *p = h->pool;
	unsigned long seen = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->gen == seen)
			pthread_cond_wait(&p->start, &p->mu);
		if (p->stop)
			break;
		seen = p->gen;
		pthread_mutex_unlock(&p->mu);
		drain(p, h->index);
		pthread_mutex_lock(&p->mu);
		if (--p->busy == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct workpool *workpool_new(unsigned n)
{
	struct workpool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->n = n ? n : workpool_cpus();
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->start, NULL);
	pthread_cond_init(&p->done, NULL);
	atomic_init(&p->next, 0);
	p->helpers = calloc(p->n, sizeof(*p->helpers));
	if (!p->helpers) {
		workpool_free(p);
		return NULL;
	}
	for (unsigned i = 1; i < p->n; i++) {
		p->helpers[i] = (struct helper){ .pool = p, .index = i };
		if (pthread_create(&p->helpers[i].thread, NULL, helper_main, &p->helpers[i]) != 0) {
			workpool_free(p);
			return NULL;
		}
		p->started = i;
	}
	return p;
}

unsigned workpool_size(const struct workpool *p)
{
	return p->n;
}

void workpool_start(struct workpool *p, size_t n_items, size_t chunk, workpool_fn fn, void *arg)
{
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->n_items = n_items;
	p->chunk = chunk ? chunk : 1;
	atomic_store(&p->next, 0);
	p->busy = p->n - 1;
	p->gen++;
	pthread_cond_broadcast(&p->start);
	pthread_mutex_unlock(&p->mu);
}

void workpool_finish(struct workpool *p)
{
	drain(p, 0);
	pthread_mutex_lock(&p->mu);
	while (p->busy > 0)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void workpool_run(struct workpool *p, size_t n_items, size_t chunk, workpool_fn fn, void *arg)
{
	workpool_start(p, n_items, chunk, fn, arg);
	workpool_finish(p);
}

void workpool_free(struct workpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->start);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 1; i <= p->started; i++)
		pthread_join(p->helpers[i].thread, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->start);
	pthread_cond_destroy(&p->done);
	free(p->helpers);
	free(p);
}
