/* sync_internal.h — the synchronizer's private state: the pass (sync_engine.c, the scheduler), one relay's walk (sync_relay.c) and the tail between passes (sync_tail.c); calls go scheduler → relay → pipeline. */
#ifndef BROTR_SERVICES_SYNC_INTERNAL_H
#define BROTR_SERVICES_SYNC_INTERNAL_H

#include <stdint.h>

#include "core/metrics.h"
#include "net/net.h"
#include "net/relay.h"
#include "nostr/ctx.h"
#include "nostr/message.h"
#include "services/auth.h"
#include "services/sync_engine.h"
#include "services/sync_pipeline.h"
#include "services/sync_walk.h"
#include "services/sync_windows.h"

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

/* Per-relay counters of the walk, also summed over the pass (what became of the events is the
 * pipeline's: struct sync_feed). */
struct sync_counts {
	uint64_t received;   /* EVENT messages for our subscriptions */
	uint64_t pages;
	uint64_t at_cap;     /* seconds that filled the relay's cap and could not be counted: they may hold more */
	uint64_t truncated;  /* seconds COUNT showed to hold more events than the relay returns */
	uint64_t refusals;   /* subscriptions the relay refused as too many: its windows were fewer */
};

/* What the relays parse their messages into and build theirs in, one message at a time on the loop's
 * thread: used by sync_relay.c alone; the engine only makes and frees it. */
struct sync_scratch {
	struct nostr_msg msg;
	struct json_doc doc;
	struct nostr_event ev;
	struct buf out;
};

/* One window's page in flight (REQ ... EOSE) on the relay's connection. */
struct sync_req {
	char sub[24];
	int in_page;
	uint64_t deadline;       /* mono ms: the page must be whole (EOSE) by then, plus the time */
	uint64_t waited0;        /* ... the pipeline has waited for the database since (at the request) */
	int64_t since, until;
	struct sync_page page;
	uint32_t outside;        /* events of this page outside the filter or the window */
	/* NIP-42: the page was closed with auth-required: it waits (auth_wait, within its deadline)
	 * for the AUTH exchange, then is asked again once (auth_resent) */
	int auth_wait, auth_resent;
};

/* The windows of a relay's range and their pages in flight (req[i] is window i's): held only while
 * the relay runs, so a pass over thousands of relays keeps a few kilobytes for each of those at once. */
struct sync_relay_walk {
	struct sync_windows win;
	struct sync_req req[DB_SYNC_WINDOWS_MAX];
};

struct sync_relay {
	struct sync_engine *e;
	struct sync_target *t;
	struct sync_scratch *s;
	struct sync_pipeline *pipe;
	struct sync_feed feed;   /* this relay's events in the pipeline; window i's pages are its slot i */
	/* the configured filter (its arrays borrowed from the engine's) with this relay's own since,
	 * until and limit, set per page or COUNT */
	struct nostr_filter filter;
	int finished;            /* its connection is gone (or never was): the engine takes its outcome */
	struct relay_conn *conn;
	enum sync_outcome outcome;
	char reason[256];
	uint64_t started_ms;
	struct sync_relay_walk *w; /* while it runs (sync_relay_start to sync_relay_release) */
	size_t slots;            /* windows walked at once: max_windows, lowered when the relay refuses more */
	unsigned page_no;
	int stalled;             /* a window filled a page with nothing usable: the relay ends stalled */
	/* seconds at the cap, being counted */
	struct sync_probe probes[SYNC_MAX_PROBES];
	int n_probes;
	unsigned probe_no;
	int walks_done;          /* every page is done; waiting for COUNT answers until probe_deadline */
	uint64_t probe_deadline;
	int nip45;               /* NIP-45 as seen: 1 a COUNT answered, 0 one closed, -1 none asked or answered */
	struct sync_counts c;
	struct auth_session auth; /* NIP-42 on this connection */
};

struct sync_engine {
	struct service_ctx *ctx;
	const struct config_sync *cfg;
	struct logger log;
	struct db *db;
	struct nostr_ctx *nctx;
	struct auth_identity auth;  /* [auth]: answers AUTH challenges when usable */
	struct sync_pipeline *pipe; /* batches, verification, the writer */
	struct nostr_filter filter; /* the configured filter; each relay copies it for its pages */
	char coverage[65];          /* what the progress earned covers (make_coverage) */
	/* per pass */
	struct net *net;
	int64_t pass_start;
	int stopping; /* budget or signal: no new pages */
	struct sync_scratch wire;    /* the relays' message scratch (sync_relay.c) */
	size_t active; /* relays started whose outcome is not taken yet */
	struct sync_counts total;
	struct sync_pipeline_totals piped; /* what the pipeline made of the pass's events */
	uint64_t relays[SYNC_R__COUNT];
	struct metric *m_received, *m_pages, *m_at_cap, *m_truncated, *m_refused;
	struct metric *m_relays[SYNC_R__COUNT];
};

/* sync_engine.c */
/* The network and the pipeline's writer (its connection named application_name) of a pass or a
 * tail, for feeds relays at once. Returns 0, or -1 with err (nothing is left open). */
int sync_engine_begin_io(struct sync_engine *e, const char *application_name, size_t feeds, char *err,
			 size_t errlen);

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
/* Commits r's batch with the progress of the pages it completed (events of a page in flight are
 * kept too; they just move no progress). */
void sync_relay_flush(struct sync_relay *r);
/* After its last flush: frees what only a running relay holds (its feed stays for the pass). */
void sync_relay_release(struct sync_relay *r);

#endif
