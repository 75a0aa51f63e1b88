/* finder_writer.c — commits finder batches on a thread with its own connection while the next page is read. */
#include "services/finder_writer.h"

#include <stdlib.h>

#include "core/jobq.h"
#include "core/util.h"

struct job {
	struct jobq_job link; /* first */
	struct finder_batch b;
	struct db_finder_result r;
	int committed;
};

struct finder_writer {
	struct db *db;
	const struct logger *log;
	finder_committed_fn done;
	void *user;
	struct jobq *q;
	int failed;
};

/* On the writer's thread: one statement for the batch's candidates and queue rows. */
static int run(void *ctx, struct jobq_job *jj, int skip)
{
	struct finder_writer *w = ctx;
	struct job *j = (struct job *)jj;
	struct finder_batch *b = &j->b;
	if (skip)
		return 0;
	struct db_candidate *dc = malloc((b->n ? b->n : 1) * sizeof(*dc));
	if (!dc) {
		log_error(w->log, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < b->n; i++)
		dc[i] = (struct db_candidate){ .url = b->cands[i].url, .network = b->cands[i].network,
					       .source = finder_source_name(b->cands[i].source),
					       .event_id = b->cands[i].event_id };
	int rc = db_finder_commit(w->db, b->seqs, b->n_seqs, dc, b->n, wall_ms() / 1000, &j->r);
	free(dc);
	if (rc != DB_OK) {
		log_error(w->log, "cannot store candidates", LOG_S("error", db_error(w->db)));
		return -1;
	}
	j->committed = 1;
	return 0;
}

/* Reports and frees one job that has run (or was skipped). */
static void settle(struct finder_writer *w, struct job *j)
{
	if (j->committed)
		w->done(w->user, &j->b, &j->r);
	finder_batch_free(&j->b);
	free(j);
}

static void collect(struct finder_writer *w)
{
	struct jobq_job *j;
	while ((j = jobq_take(w->q, 0)))
		settle(w, (struct job *)j);
	w->failed |= jobq_failed(w->q);
}

struct finder_writer *finder_writer_start(struct db *db, const struct logger *log, finder_committed_fn done,
					  void *user)
{
	struct finder_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	*w = (struct finder_writer){ .db = db, .log = log, .done = done, .user = user };
	if (!(w->q = jobq_start(run, w, 1))) {
		free(w);
		return NULL;
	}
	return w;
}

int finder_writer_put(struct finder_writer *w, struct finder_batch *b)
{
	jobq_wait(w->q, 1, -1);
	collect(w);
	if (w->failed)
		return -1;
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		log_error(w->log, "out of memory");
		return -1;
	}
	j->b = *b;
	*b = (struct finder_batch){ 0 };
	jobq_put(w->q, &j->link);
	return 0;
}

int finder_writer_finish(struct finder_writer *w)
{
	if (!w)
		return 0;
	struct jobq_job *j = jobq_stop(w->q), *next;
	for (; j; j = next) {
		next = j->next;
		if (!((struct job *)j)->committed)
			w->failed = 1;
		settle(w, (struct job *)j);
	}
	int rc = w->failed ? -1 : 0;
	free(w);
	return rc;
}
