/* finder_writer.h — commits finder batches on a thread with its own connection while the next page is read. */
#ifndef BROTR_SERVICES_FINDER_WRITER_H
#define BROTR_SERVICES_FINDER_WRITER_H

#include "core/log.h"
#include "discovery.h"
#include "services/finder_batch.h"

struct finder_writer;

/* Called in the caller's thread for each committed batch, with what the database said; the
 * batch is freed when it returns. */
typedef void (*finder_committed_fn)(void *user, const struct finder_batch *b, const struct db_finder_result *r);

/* Starts the thread over db (which it uses alone from now on). NULL when out of memory or threads. */
struct finder_writer *finder_writer_start(struct db *db, const struct logger *log, finder_committed_fn done,
					  void *user);

/* Moves *b to the writer (*b is left empty), first waiting while one batch is already waiting, so at
 * most two are held. Reports committed batches first. Returns 0, or -1 once a commit has failed
 * (logged; later batches are then not committed, their events stay queued). */
int finder_writer_put(struct finder_writer *w, struct finder_batch *b) __attribute__((warn_unused_result));

/* Commits what was put, reports it, stops the thread. Returns 0, or -1 when a commit failed. */
int finder_writer_finish(struct finder_writer *w);

#endif
