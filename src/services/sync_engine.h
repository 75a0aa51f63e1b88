/* sync_engine.h — one synchronizer pass: archives every event of a list of relays, verified, without gaps. */
#ifndef BROTR_SERVICES_SYNC_ENGINE_H
#define BROTR_SERVICES_SYNC_ENGINE_H

#include <stddef.h>

#include "core/config.h"
#include "core/service.h"
#include "db.h"
#include "nostr/filter.h"
#include "nostr/relay_url.h"

/* A relay to archive and its progress as read before the pass. */
struct sync_target {
	char url[RELAY_URL_MAX + 1];
	enum relay_network network;
	struct db_sync_progress progress;
	int max_subscriptions; /* NIP-11's, or -1: unknown */
};

/*
 * What lives across passes (created by sync_engine_open in the service's open()): the secp256k1
 * context, the verification worker pool and its per-worker verifiers, the parsed filter, and the
 * service's database connection (for reading relays and progress).
 */
struct sync_engine;

/*
 * Checks a [synchronizer]-style section: the filter must be a NIP-01 filter object without
 * since, until or limit (the engine sets those). Returns 0, or -1 with the reason in err.
 */
int sync_check_filter(const char *section, const struct config_sync *scfg, char *err, size_t errlen);

/* Creates the engine for section scfg. Returns NULL after logging why. */
struct sync_engine *sync_engine_open(struct service_ctx *ctx, const struct config_sync *scfg);
void sync_engine_close(struct sync_engine *e);

/* The service's database connection, for reading the targets. */
struct db *sync_engine_db(struct sync_engine *e);

/* What the progress this engine reads and records covers (its filter and since, as a hex
 * fingerprint): read the targets' progress under it (db_readable_relays, db_sync_progress_get). */
const char *sync_engine_coverage(const struct sync_engine *e);

/*
 * Runs one pass over targets[0..n): connects to at most max_relays at once, pages backwards from
 * the pass's start time to each relay's progress (less the overlap) with sync_walk, verifies every
 * event on the worker pool, keeps those that match the filter and the page's window, and commits
 * them in batches with the relay's progress. Logs one line per relay and a summary; counts
 * everything in ctx->metrics. Returns 0 when the pass completed (relays that failed are counted,
 * not fatal), -1 when it could not run or the database failed (nothing uncommitted is recorded).
 */
int sync_engine_run(struct sync_engine *e, struct sync_target *targets, size_t n);

/*
 * The time between passes of --loop (sync_tail.c): keeps one subscription open on each of
 * targets[0..n) for ms, for the configured filter from the last pass's start on, and stores what
 * arrives, verified, in batches committed at least every second (events only: progress moves
 * with the passes' walks, which find these events stored). Reconnects as long as it runs.
 * Returns 0, or -1 when it could not start or the database failed.
 */
int sync_engine_tail(struct sync_engine *e, const struct sync_target *targets, size_t n, long long ms);

#endif
