/* sync_pipeline.h — the synchronizer's path from a relay's events to the database: batches, verification on the worker pool, the writer, and what each relay's events came to. */
#ifndef BROTR_SERVICES_SYNC_PIPELINE_H
#define BROTR_SERVICES_SYNC_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "core/metrics.h"
#include "db.h"
#include "nostr/ctx.h"
#include "nostr/event.h"
#include "nostr/relay_url.h"

/*
 * One relay's way into the pipeline. Written by sync_pipeline.c only: the relay reads it (each
 * slot's usable and oldest for the walk of its window, the counts for its report). Batches come back from the writer after
 * their relay may be done, so a feed must live for the whole pass.
 */
/* A feed carries the pages of up to this many windows of its relay at once, each in its slot. */
#define SYNC_FEED_SLOTS DB_SYNC_WINDOWS_MAX

struct sync_feed_page {
	uint32_t usable;        /* verified events of the slot's page since sync_pipeline_page_begin */
	int64_t oldest, newest; /* the oldest and newest of them (meaningless while usable is 0) */
};

struct sync_feed {
	struct db_relay relay;     /* url borrowed from the relay, network */
	struct sync_batch *batch;  /* being filled; NULL: none yet */
	struct sync_feed_page page[SYNC_FEED_SLOTS];
	uint64_t accepted;         /* verified and inside filter and window: sent to the database */
	uint64_t stored, duplicates; /* what the database made of them */
	uint64_t rejected;         /* every reason together (sync_pipeline_reject) */
	/* which events the archive holds: the last lookups' counts, and whether to sample */
	uint32_t lookup_events, lookup_found, lookup_skip;
	int lookup_sparse;
};

/* The pass's totals of what the pipeline counts. */
struct sync_pipeline_totals {
	uint64_t accepted, stored, duplicates, rejected;
};

struct sync_pipeline;

/* The pipeline of an engine: worker pool, verifiers (on nctx, which must outlive it) and the cache
 * of verified signatures, kept across passes; batch_size events per batch of at most max_event_tags
 * tags each. NULL on OOM. */
struct sync_pipeline *sync_pipeline_new(const struct nostr_ctx *nctx, size_t batch_size, size_t max_event_tags,
					const struct logger *lg, struct metrics *m);
void sync_pipeline_free(struct sync_pipeline *p);

/* A pass: the writer on its own connection (dbo), progress recorded under coverage, at most
 * max_relays relays filling batches. lookup (NULL: none; used on the caller's thread, while the
 * pass runs) is asked which events the archive already holds with the same signature: those have
 * only their id checked. Returns 0, or -1 with err. */
int sync_pipeline_begin(struct sync_pipeline *p, const struct db_options *dbo, struct db *lookup,
			const char *coverage, size_t max_relays, char *err, size_t errlen);
/* Takes back every batch from the writer, stops it. Returns 0, or -1 when the database failed
 * (err says why); *totals gets the pass's counts. */
int sync_pipeline_end(struct sync_pipeline *p, struct sync_pipeline_totals *totals, char *err, size_t errlen);
/* The gauges of a relay's committed progress: everything it sent up to synced_until is archived;
 * the lowest of its unfinished windows has reached down to walk_from (-1: none). */
void sync_pipeline_show_progress(struct sync_pipeline *p, const char *url, const struct db_sync_state *prog);
/* Counts what the writer has given back so far. */
void sync_pipeline_collect(struct sync_pipeline *p);
/* How long, in all, the caller was blocked waiting for the writer to give a batch back (a slow or
 * unavailable database): time that page deadlines must not charge to the relays. */
uint64_t sync_pipeline_waited_ms(const struct sync_pipeline *p);
/* 1 once a batch could not be written: relays should stop. */
int sync_pipeline_failed(struct sync_pipeline *p);

void sync_pipeline_feed_init(struct sync_feed *f, const char *url, enum relay_network network);
/* A new page in slot (< SYNC_FEED_SLOTS): its usable and oldest start again. */
void sync_pipeline_page_begin(struct sync_feed *f, unsigned slot);

enum sync_add { SYNC_ADDED, SYNC_ADD_FULL, SYNC_ADD_TAGS, SYNC_ADD_DB, SYNC_ADD_NOMEM };
/* Adds ev, of the page in slot, to f's batch (a batch is taken when f has none; verification of the
 * newest events starts on the pool as they arrive). SYNC_ADD_FULL: added, and the batch is full (commit it);
 * SYNC_ADD_TAGS: refused for too many tags (counted); SYNC_ADD_DB: the database failed;
 * SYNC_ADD_NOMEM: out of memory. */
enum sync_add sync_pipeline_add(struct sync_pipeline *p, struct sync_feed *f, unsigned slot,
			       const struct nostr_event *ev);
/* Verifies the rest of f's batch, so every slot's usable and oldest count every event received. */
void sync_pipeline_verify(struct sync_pipeline *p, struct sync_feed *f);
/* Verifies f's batch and hands it to the writer with progress when not NULL (with no batch, an
 * empty one carries progress alone). f has no batch afterwards. */
void sync_pipeline_commit(struct sync_pipeline *p, struct sync_feed *f, const struct db_sync_progress *progress);
/* Counts a rejected event of f by reason. */
void sync_pipeline_reject(struct sync_pipeline *p, struct sync_feed *f, const char *reason);

#endif
