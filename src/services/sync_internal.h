/* sync_internal.h — the synchronizer's private state, shared by sync_engine.c (the pass) and sync_relay.c (one relay). */
#ifndef BROTR_SERVICES_SYNC_INTERNAL_H
#define BROTR_SERVICES_SYNC_INTERNAL_H

#include <stdint.h>

#include "core/metrics.h"
#include "core/workpool.h"
#include "net/net.h"
#include "net/relay.h"
#include "nostr/ctx.h"
#include "nostr/message.h"
#include "nostr/verify.h"
#include "services/auth.h"
#include "services/sync_batch.h"
#include "services/sync_engine.h"
#include "services/sync_walk.h"
#include "services/sync_writer.h"

enum sync_outcome {
	SYNC_R_RUNNING,
	SYNC_R_COMPLETE, /* every walk reached its since */
	SYNC_R_FAILED,   /* the connection or the relay ended it; progress stays where it was committed */
	SYNC_R_STALLED,  /* a full page of nothing usable */
	SYNC_R_BUDGET,   /* relay_budget or pass_budget ran out */
	SYNC_R_STOPPED,  /* SIGTERM/SIGINT */
	SYNC_R__COUNT
};

/* COUNT requests (NIP-45) in flight, settling whether a second at the cap holds more. */
#define SYNC_MAX_PROBES 8

struct sync_probe {
	char sub[24];
	int64_t second;
	uint32_t returned; /* events the relay returned for that second */
};

/* Per-relay counters, also summed over the pass. */
struct sync_counts {
	uint64_t received;   /* EVENT messages for our subscriptions */
	uint64_t accepted;   /* verified and inside filter and window: sent to the database */
	uint64_t stored;     /* new events committed */
	uint64_t duplicates; /* already stored */
	uint64_t rejected;   /* every reason together */
	uint64_t pages;
	uint64_t at_cap;     /* seconds that filled the relay's cap and could not be counted: they may hold more */
	uint64_t truncated;  /* seconds COUNT showed to hold more events than the relay returns */
};

/* What the relays parse their messages into and build theirs in, one message at a time on the loop's
 * thread: used by sync_relay.c alone; the engine only makes and frees it. */
struct sync_scratch {
	struct nostr_msg msg;
	struct json_doc doc;
	struct nostr_event ev;
	struct buf out;
};

struct sync_relay {
	struct sync_engine *e;
	struct sync_target *t;
	struct sync_scratch *s;
	/* the configured filter (its arrays borrowed from the engine's) with this relay's own since,
	 * until and limit, set per page or COUNT */
	struct nostr_filter filter;
	int finished;            /* its connection is gone (or never was): the engine takes its outcome */
	struct relay_conn *conn;
	enum sync_outcome outcome;
	char reason[256];
	uint64_t started_ms;
	/* walks: first the interrupted one (if any), then [since, pass start] */
	int walk_no, n_walks;
	int64_t walk_since[2], walk_top[2], walk_from[2]; /* walk_from -1: start fresh */
	struct sync_walk walk;
	/* the page in flight */
	unsigned page_no;
	char sub[24];
	int in_page;
	uint64_t page_deadline;  /* mono ms: the page must be whole (EOSE) by then */
	int64_t page_since, page_until;
	struct sync_page page;
	uint32_t page_outside;  /* events of this page outside the filter or the window */
	struct sync_batch *batch;
	int has_pending;                 /* pages completed since the last commit: their progress */
	struct db_sync_progress pending;
	/* seconds at the cap, being counted */
	struct sync_probe probes[SYNC_MAX_PROBES];
	int n_probes;
	unsigned probe_no;
	int walks_done;          /* every page is done; waiting for COUNT answers until probe_deadline */
	uint64_t probe_deadline;
	int nip45;               /* NIP-45 as seen: 1 a COUNT answered, 0 one closed, -1 none asked or answered */
	struct sync_counts c;
	/* NIP-42 on this connection: a page closed with auth-required: waits (auth_wait, within its
	 * deadline) for the AUTH exchange, then is asked again once (auth_resent) */
	struct auth_session auth;
	int auth_wait, auth_resent;
};

struct sync_engine {
	struct service_ctx *ctx;
	const struct config_sync *cfg;
	struct logger log;
	struct db *db;
	struct nostr_ctx *nctx;
	struct auth_identity auth;  /* [auth]: answers AUTH challenges when usable */
	struct workpool *pool;
	struct nostr_verifier **ver;
	struct buf *scratch;        /* one per worker */
	struct sync_seen seen;      /* signatures verified in this process */
	struct nostr_filter filter; /* the configured filter; since/until/limit set per use */
	char coverage[65];          /* what the progress earned covers (make_coverage) */
	struct sync_verify run;     /* the verification in flight on the pool, if run_relay */
	struct sync_relay *run_relay;
	size_t batch_size;
	/* per pass */
	struct net *net;
	struct sync_writer *writer;
	struct sync_batch *free_batches;
	size_t batches, max_batches;
	int64_t pass_start;
	int db_failed;
	int stopping; /* budget or signal: no new pages */
	struct sync_scratch wire;    /* the relays' message scratch (sync_relay.c) */
	size_t active; /* relays started whose outcome is not taken yet */
	struct sync_counts total;
	uint64_t relays[SYNC_R__COUNT];
	struct metric *m_received, *m_accepted, *m_cached, *m_stored, *m_duplicates, *m_pages, *m_at_cap, *m_truncated;
	struct metric *m_relays[SYNC_R__COUNT];
};

/* sync_relay.c */
/* Starts relay r of target t. Its outcome, even a failure to start, is there once r->finished. */
void sync_relay_start(struct sync_engine *e, struct sync_relay *r, struct sync_target *t);
/* The loop ended with r's connection open (net_free closed it without callbacks): r ends stopped. */
void sync_relay_abandon(struct sync_relay *r);
/* Seconds still being counted are reported as possibly truncated (the relay did not answer). */
void sync_relay_settle_probes(struct sync_relay *r);
/* Ends relays that waited long enough for COUNT answers, or whose page is not whole in time. */
void sync_relay_check_deadline(struct sync_relay *r);
/* Ends the relay with outcome (if still running) and closes its connection. */
void sync_relay_end(struct sync_relay *r, enum sync_outcome outcome, const char *reason);
/* Verifies and commits r's batch with the progress of the pages it completed (events of a page
 * in flight are kept too; they just move no progress). */
void sync_relay_flush(struct sync_relay *r);

/* sync_engine.c: batches and accounting, used by sync_relay.c */

/* A batch for r to fill, waiting for the writer to give one back when all are in use.
 * Returns NULL when the database failed. */
struct sync_batch *sync_engine_batch(struct sync_engine *e, struct sync_relay *r);
/* Verifies the rest of r's batch (if any) and adds what it learnt to r->page: usable events and
 * the oldest. */
void sync_engine_verify(struct sync_engine *e, struct sync_relay *r);
/* Starts verifying r's newest events on the worker pool while the loop goes on receiving, once
 * enough have arrived. */
void sync_engine_verify_some(struct sync_engine *e, struct sync_relay *r);
/* Hands r's batch to the writer, with progress when it is not NULL (an empty batch carries
 * progress alone). r has no batch afterwards. */
void sync_engine_commit(struct sync_engine *e, struct sync_relay *r, const struct db_sync_progress *progress);
/* Counts a rejected event by reason. */
void sync_engine_reject(struct sync_engine *e, struct sync_relay *r, const char *reason);

#endif
