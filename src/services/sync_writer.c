/* sync_writer.c — a thread with its own database connection that commits verified batches in order. */
#include "services/sync_writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct queue {
	struct sync_batch *head, *tail;
	size_t n;
};

struct sync_writer {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct queue todo, done;
	size_t max_queued;
	int busy;      /* a batch is being written */
	int stopping;
	int failed;
	char error[512];
	struct db *db;
	pthread_t thread;
};

static void push(struct queue *q, struct sync_batch *b)
{
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->n++;
}

static struct sync_batch *pop(struct queue *q)
{
	struct sync_batch *b = q->head;
	if (b) {
		q->head = b->next;
		if (!q->head)
			q->tail = NULL;
		q->n--;
		b->next = NULL;
	}
	return b;
}

/* Commits one batch (called without the lock). */
static void write_batch(struct sync_writer *w, struct sync_batch *b, int skip)
{
	memset(&b->res, 0, sizeof(b->res));
	if (skip) {
		b->rc = DB_ERR;
		return;
	}
	if (sync_batch_rows(b) < 0) {
		b->rc = DB_ERR;
		snprintf(w->error, sizeof(w->error), "out of memory building rows");
		return;
	}
	if (b->n_rows == 0 && !b->has_progress) {
		b->rc = DB_OK;
		return;
	}
	b->rc = db_insert_event_batch(w->db, &b->db_relay, b->rows, b->n_rows, b->seen_at,
				      b->has_progress ? &b->progress : NULL, &b->res, b->row_status);
	if (b->rc != DB_OK)
		snprintf(w->error, sizeof(w->error), "%s", db_error(w->db));
}

static void *run(void *arg)
{
	struct sync_writer *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->todo.n && !w->stopping)
			pthread_cond_wait(&w->changed, &w->lock);
		struct sync_batch *b = pop(&w->todo);
		if (!b)
			break;
		int skip = w->failed;
		w->busy = 1;
		pthread_cond_broadcast(&w->changed);
		pthread_mutex_unlock(&w->lock);
		write_batch(w, b, skip);
		pthread_mutex_lock(&w->lock);
		w->busy = 0;
		if (b->rc != DB_OK)
			w->failed = 1;
		push(&w->done, b);
		pthread_cond_broadcast(&w->changed);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct sync_writer *sync_writer_start(const struct db_options *opt, size_t max_queued, char *err, size_t errlen)
{
	struct sync_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->max_queued = max_queued ? max_queued : 1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->changed, NULL);
	if (db_open(&w->db, opt, err, errlen) != DB_OK)
		goto fail;
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		snprintf(err, errlen, "cannot start the writer thread");
		db_close(w->db);
		goto fail;
	}
	return w;
fail:
	pthread_cond_destroy(&w->changed);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}

void sync_writer_put(struct sync_writer *w, struct sync_batch *b)
{
	pthread_mutex_lock(&w->lock);
	while (w->todo.n >= w->max_queued)
		pthread_cond_wait(&w->changed, &w->lock);
	push(&w->todo, b);
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

struct sync_batch *sync_writer_take(struct sync_writer *w, int wait)
{
	pthread_mutex_lock(&w->lock);
	while (wait && !w->done.n && (w->todo.n || w->busy))
		pthread_cond_wait(&w->changed, &w->lock);
	struct sync_batch *b = pop(&w->done);
	pthread_mutex_unlock(&w->lock);
	return b;
}

int sync_writer_failed(struct sync_writer *w, char *err, size_t errlen)
{
	pthread_mutex_lock(&w->lock);
	int failed = w->failed;
	if (failed && err)
		snprintf(err, errlen, "%s", w->error);
	pthread_mutex_unlock(&w->lock);
	return failed;
}

void sync_writer_stop(struct sync_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	struct sync_batch *b;
	while ((b = pop(&w->done)) != NULL)
		sync_batch_free(b);
	db_close(w->db);
	pthread_cond_destroy(&w->changed);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
