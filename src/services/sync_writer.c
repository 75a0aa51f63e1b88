/* sync_writer.c — a thread with its own database connection that commits verified batches in order. */
#include "services/sync_writer.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jobq.h"

struct sync_writer {
	struct jobq *q;
	size_t max_queued;
	struct db *db;
	const char *coverage; /* the engine's; outlives the writer */
	char error[512]; /* written by the writer thread before its batch fails */
};

static struct sync_batch *batch_of(struct jobq_job *j)
{
	return j ? (struct sync_batch *)((char *)j - offsetof(struct sync_batch, job)) : NULL;
}

/* Commits one batch on the writer thread. Returns 0, or -1 when it was not committed. */
static int write_batch(void *ctx, struct jobq_job *job, int skip)
{
	struct sync_writer *w = ctx;
	struct sync_batch *b = batch_of(job);
	memset(&b->res, 0, sizeof(b->res));
	if (skip) {
		b->rc = DB_ERR;
		return -1;
	}
	if (sync_batch_rows(b) < 0) {
		b->rc = DB_ERR;
		snprintf(w->error, sizeof(w->error), "out of memory building rows");
		return -1;
	}
	if (b->n_rows == 0 && !b->has_progress) {
		b->rc = DB_OK;
		return 0;
	}
	b->rc = db_insert_event_batch(w->db, &b->db_relay, b->rows, b->n_rows, b->seen_at, w->coverage,
				      b->has_progress ? &b->progress : NULL, &b->res, b->row_status);
	if (b->rc != DB_OK) {
		snprintf(w->error, sizeof(w->error), "%s", db_error(w->db));
		return -1;
	}
	return 0;
}

struct sync_writer *sync_writer_start(const struct db_options *opt, size_t max_queued, const char *coverage, char *err,
				      size_t errlen)
{
	struct sync_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->max_queued = max_queued ? max_queued : 1;
	w->coverage = coverage;
	if (db_open(&w->db, opt, err, errlen) != DB_OK)
		goto fail;
	if (!(w->q = jobq_start(write_batch, w, 1))) {
		snprintf(err, errlen, "cannot start the writer thread");
		db_close(w->db);
		goto fail;
	}
	return w;
fail:
	free(w);
	return NULL;
}

void sync_writer_put(struct sync_writer *w, struct sync_batch *b)
{
	jobq_wait(w->q, w->max_queued, -1);
	jobq_put(w->q, &b->job);
}

struct sync_batch *sync_writer_take(struct sync_writer *w, int wait)
{
	return batch_of(jobq_take(w->q, wait));
}

int sync_writer_failed(struct sync_writer *w, char *err, size_t errlen)
{
	int failed = jobq_failed(w->q);
	if (failed && err) /* the failed batch's thread wrote error before the queue recorded it */
		snprintf(err, errlen, "%s", w->error);
	return failed;
}

void sync_writer_stop(struct sync_writer *w)
{
	if (!w)
		return;
	struct jobq_job *left = jobq_stop(w->q);
	while (left) {
		struct jobq_job *next = left->next;
		sync_batch_free(batch_of(left));
		left = next;
	}
	db_close(w->db);
	free(w);
}
