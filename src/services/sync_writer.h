/* sync_writer.h — a thread with its own database connection that commits verified batches in order. */
#ifndef BROTR_SERVICES_SYNC_WRITER_H
#define BROTR_SERVICES_SYNC_WRITER_H

#include <stddef.h>

#include "db.h"
#include "services/sync_batch.h"

/*
 * Batches are committed one at a time, in the order they were put, each in one round trip
 * (db_insert_event_batch), its progress in the same statement. Written batches come back through
 * sync_writer_take with rc and res filled in. Once a batch fails (the database stayed unreachable
 * for [database] connect_wait, or refused the statement), the writer writes nothing more: later
 * batches come back with rc DB_ERR, so no progress is recorded past an uncommitted batch.
 */
struct sync_writer;

/* Connects with opt (retrying while the server is unreachable) and starts the thread. At most
 * max_queued batches wait. Progress is recorded under coverage (borrowed: it must outlive the
 * writer). Returns NULL with a reason in err. */
struct sync_writer *sync_writer_start(const struct db_options *opt, size_t max_queued, const char *coverage, char *err,
				      size_t errlen);

/* Queues b (taking it), blocking while max_queued batches wait. */
void sync_writer_put(struct sync_writer *w, struct sync_batch *b);

/* A written batch, or NULL when none has come back yet (wait: block until one does, unless
 * nothing is queued). The caller owns the returned batch again. */
struct sync_batch *sync_writer_take(struct sync_writer *w, int wait);

/* Whether a batch failed; the first failure's reason is copied into err. */
int sync_writer_failed(struct sync_writer *w, char *err, size_t errlen);

/* Writes everything queued, stops the thread and disconnects. Written batches that were not taken
 * are freed. Accepts NULL. */
void sync_writer_stop(struct sync_writer *w);

#endif
