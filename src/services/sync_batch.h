/* sync_batch.h — events from one relay page, held, verified on the worker pool, turned into database rows. */
#ifndef BROTR_SERVICES_SYNC_BATCH_H
#define BROTR_SERVICES_SYNC_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/jobq.h"
#include "core/util.h"
#include "core/workpool.h"
#include "db.h"
#include "nostr/err.h"
#include "nostr/event.h"
#include "nostr/verify.h"

/*
 * A batch is flushed when what it holds reaches any of these, whatever its count. Memory is what
 * the events really occupy (their structures, strings and allocator overhead, counted when they are
 * added, before their signatures are checked) plus the tags JSON of their rows; the statement is a
 * bound of the array parameters insert_event_batch is sent; tags bound the rows the statement
 * derives from them. Peak memory of the batches is batches in flight (max_relays + 4) times
 * SYNC_BATCH_MAX_BYTES; one statement's encoding is at most SYNC_BATCH_MAX_STATEMENT.
 */
#define SYNC_BATCH_MAX_BYTES ((size_t)8 << 20)
#define SYNC_BATCH_MAX_STATEMENT ((size_t)16 << 20)
#define SYNC_BATCH_MAX_TAGS ((size_t)1 << 17)
/* An emptied batch keeps at most this much of its tags buffer for the next use. */
#define SYNC_BATCH_KEEP_BYTES ((size_t)256 << 10)

struct sync_feed; /* a relay's way into the pipeline (sync_pipeline.h) */

/*
 * Owned by one relay while it fills, then by the writer, then back on the free list. Events are
 * structure-checked and filter-matched before they are added; sync_verify_start/finish check
 * ids and signatures; the writer builds the rows from the valid ones.
 */
struct sync_batch {
	struct nostr_event *ev;
	unsigned char *valid;   /* after verification: 1 valid, 2 valid (signature verified in this process),
				 * 3 valid (signature stored in the archive), 0 rejected (errc) */
	unsigned char *stored;  /* set before verification: the archive holds the id with this signature */
	unsigned char *slot;    /* the feed slot (window) of each event's page */
	enum nostr_errc *errc;
	size_t n, cap;
	size_t verified;        /* ev[0..verified) have been checked (valid and errc are set) */
	size_t bytes;           /* memory the events and their rows occupy (sync_event_cost) */
	size_t statement;       /* bound of the encoded statement (sync_event_cost) */
	size_t n_tags;          /* tags of the events held */
	size_t max_event_tags;  /* an event with more tags is refused by sync_batch_add; 0: no cap */
	struct sync_feed *feed; /* whose events these are: the writer's outcome is counted there */
	int64_t seen_at;
	struct db_relay db_relay; /* url points into the relay's state, which outlives the batch */
	int has_progress;       /* the last batch of a page carries the walk's progress */
	struct db_sync_progress progress;
	/* built by sync_batch_rows */
	struct db_event *rows;
	struct buf tags;        /* every valid event's tags JSON, one after another */
	size_t n_rows;
	/* the writer's outcome */
	int rc;                 /* DB_OK or the db_insert_event_batch error */
	struct db_event_result res;
	unsigned char *row_status; /* enum db_reject per row */
	struct sync_batch *next; /* the engine's free list */
	struct jobq_job job;     /* the writer's queue */
};

/* A batch of cap slots refusing events of more than max_event_tags tags (0: no cap). Returns NULL
 * when out of memory. */
struct sync_batch *sync_batch_new(size_t cap, size_t max_event_tags);
void sync_batch_free(struct sync_batch *b);

/* Empties b for reuse: every event's storage is released (a copy never reuses it), and the tags
 * buffer when it grew past SYNC_BATCH_KEEP_BYTES. */
void sync_batch_reset(struct sync_batch *b);

/* Whether b must be flushed before another event is added. */
int sync_batch_full(const struct sync_batch *b);

/* What ev costs a batch: the memory it occupies there (slot, copied strings, tag and item arrays,
 * allocator overhead, its row's tags JSON), and at most what it adds to the array parameters of
 * insert_event_batch (pgc's array literals). */
struct sync_cost {
	size_t bytes, statement;
};
struct sync_cost sync_event_cost(const struct nostr_event *ev);

/* Copies ev into the next slot. Returns 0; 1 when ev has more than max_event_tags tags (not added);
 * -1 when out of memory or b has no free slot. */
int sync_batch_add(struct sync_batch *b, const struct nostr_event *ev) __attribute__((warn_unused_result));

/*
 * Signatures already verified in this process: the same event reaches the archive from many
 * relays. A (id, signature) pair found here needs only its id checked (the id commits to the
 * pubkey and the content; the signature is over the id). A fixed table: pairs are evicted as new
 * ones come in. Written only between verification runs, read by the workers during them.
 */
struct sync_seen {
	unsigned char (*pair)[96]; /* id then signature; all zero: empty */
	size_t mask;
};
/* A table of 2^bits entries. Returns 0, or -1 when out of memory. */
int sync_seen_init(struct sync_seen *s, unsigned bits);
void sync_seen_free(struct sync_seen *s);
int sync_seen_has(const struct sync_seen *s, const unsigned char id[32], const unsigned char sig[64]);
void sync_seen_add(struct sync_seen *s, const unsigned char id[32], const unsigned char sig[64]);

/*
 * Verification of ev[from..to) (id, pubkey, signature) on a worker pool, with one verifier per
 * worker (ver has workpool_size(pool) entries); it fills valid and errc for those events. An
 * event marked stored, or whose pair is in seen, has only its id checked.
 * sync_verify_start hands the range to the pool's threads and returns at once, so the caller can
 * go on receiving; sync_verify_finish joins in and returns when the range is done. Events may be
 * added to the batch meanwhile (they land in other slots); nothing else may touch it.
 */
struct sync_verify {
	struct sync_batch *b;
	size_t from, to;
	struct nostr_verifier **ver;
	struct buf *scratch;           /* one per worker, for checking ids alone */
	const struct sync_seen *seen;
	struct workpool *pool;
};
void sync_verify_start(struct sync_verify *v, struct workpool *pool, struct nostr_verifier **ver,
		       struct buf *scratch, const struct sync_seen *seen, struct sync_batch *b, size_t from,
		       size_t to);
void sync_verify_finish(struct sync_verify *v);

/* Builds rows from the valid events (tags as JSON). Returns 0, or -1 when out of memory. */
int sync_batch_rows(struct sync_batch *b);

#endif
