/* workpool.h — a fixed set of threads that run one parallel loop at a time; the calling thread takes part. */
#ifndef BROTR_CORE_WORKPOOL_H
#define BROTR_CORE_WORKPOOL_H

#include <stddef.h>

struct workpool;

/* One call per item. worker identifies the thread (0 is the caller of workpool_run), so callers can
 * keep per-worker scratch; two calls with the same worker never overlap. */
typedef void (*workpool_fn)(void *arg, size_t item, unsigned worker);

/* The number of CPUs this process may run on (sched_getaffinity), at least 1. */
unsigned workpool_cpus(void);

/*
 * Creates a pool of n workers in total: the thread that will call workpool_run plus n - 1 threads
 * started now, which sleep between runs. n = 0 means workpool_cpus(). Returns NULL on failure.
 */
struct workpool *workpool_new(unsigned n);

unsigned workpool_size(const struct workpool *p);

/*
 * Calls fn(arg, i, worker) exactly once for every i in [0, n_items), handing out chunks of `chunk`
 * consecutive items (0 means 1) to whichever worker is free, and returns when every call has
 * returned. One run at a time per pool; call it from the thread that created the pool.
 */
void workpool_run(struct workpool *p, size_t n_items, size_t chunk, workpool_fn fn, void *arg);

/*
 * workpool_run in two halves, so the caller can do something else (I/O, say) while the other
 * workers start on the items: workpool_start hands the run to the helper threads and returns at
 * once; workpool_finish makes the caller work on the remaining items and returns when every call
 * has returned. Every start must be followed by a finish before the next start.
 */
void workpool_start(struct workpool *p, size_t n_items, size_t chunk, workpool_fn fn, void *arg);
void workpool_finish(struct workpool *p);

/* Stops and joins the threads. */
void workpool_free(struct workpool *p);

#endif
