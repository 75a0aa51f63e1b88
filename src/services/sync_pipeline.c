/* sync_pipeline.c — the synchronizer's path from a relay's events to the database: batches, verification on the worker pool, the writer, and what each relay's events came to. */
#include "services/sync_pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/workpool.h"
#include "nostr/ctx.h"
#include "nostr/verify.h"
#include "services/sync_batch.h"
#include "services/sync_writer.h"

#define WRITER_QUEUE 2   /* verified batches waiting for the database */
#define SEEN_BITS 16     /* 65536 verified signatures remembered (6 MiB) */
#define VERIFY_CHUNK 128 /* events handed to the pool at once while receiving */
/* A relay whose events the archive mostly lacks (under 1 in 20 of the last LOOKUP_WINDOW looked
 * up) has only every LOOKUP_SPARSE-th chunk looked up, until that says otherwise. */
#define LOOKUP_WINDOW 1024
#define LOOKUP_SPARSE 8

struct sync_pipeline {
	struct logger log;
	struct metrics *metrics;
	size_t batch_size, max_event_tags;
	const struct nostr_ctx *nctx; /* borrowed */
	struct workpool *pool;
	struct nostr_verifier **ver;
	struct buf *scratch;       /* one per worker */
	struct sync_seen seen;     /* signatures verified in this process */
	struct sync_verify run;    /* the verification in flight on the pool, if run_feed */
	struct sync_feed *run_feed;
	/* per pass */
	struct db *lookup;         /* asks which events the archive holds (NULL: none asked) */
	struct sync_writer *writer;
	struct sync_batch *free_batches;
	size_t batches, max_batches;
	int db_failed;
	uint64_t waited_ms; /* the relays' thread blocked on the writer (queue full, no batch given back) */
	struct sync_pipeline_totals total;
	struct metric *m_accepted, *m_cached, *m_archived, *m_stored, *m_duplicates;
};

static struct metric *counter(struct sync_pipeline *p, const char *name, const char *help)
{
	return metrics_get(p->metrics, METRIC_COUNTER, name, help, NULL);
}

static int make_verifiers(struct sync_pipeline *p)
{
	unsigned workers = workpool_size(p->pool);
	if (!(p->ver = calloc(workers, sizeof(*p->ver))) || !(p->scratch = calloc(workers, sizeof(*p->scratch))) ||
	    sync_seen_init(&p->seen, SEEN_BITS) < 0)
		return -1;
	for (unsigned i = 0; i < workers; i++) {
		buf_init(&p->scratch[i]);
		if (!(p->ver[i] = nostr_verifier_new(p->nctx)))
			return -1;
	}
	return 0;
}

struct sync_pipeline *sync_pipeline_new(const struct nostr_ctx *nctx, size_t batch_size, size_t max_event_tags,
					const struct logger *lg, struct metrics *m)
{
	struct sync_pipeline *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->log = *lg;
	p->metrics = m;
	p->batch_size = batch_size;
	p->max_event_tags = max_event_tags;
	p->nctx = nctx;
	if (!(p->pool = workpool_new(0)) || make_verifiers(p) < 0) {
		sync_pipeline_free(p);
		return NULL;
	}
	p->m_accepted = counter(p, "sync_events_accepted_total",
				"Events verified and inside the filter and window, sent to the database.");
	p->m_cached = counter(p, "sync_signatures_known_total",
			      "Events whose id and signature were already verified in this process (id checked only).");
	p->m_archived = counter(p, "sync_signatures_stored_total",
				"Events the archive already held with the same signature (id checked only).");
	p->m_stored = counter(p, "sync_events_stored_total", "New events committed.");
	p->m_duplicates = counter(p, "sync_events_duplicate_total", "Events already stored.");
	return p;
}

void sync_pipeline_free(struct sync_pipeline *p)
{
	if (!p)
		return;
	for (unsigned i = 0; p->pool && i < workpool_size(p->pool); i++) {
		if (p->ver)
			nostr_verifier_free(p->ver[i]);
		if (p->scratch)
			buf_free(&p->scratch[i]);
	}
	free(p->ver);
	free(p->scratch);
	sync_seen_free(&p->seen);
	workpool_free(p->pool);
	free(p);
}

/* ---- the writer's side ---- */

void sync_pipeline_show_progress(struct sync_pipeline *p, const char *url, const struct db_sync_state *prog)
{
	char l[2 * RELAY_URL_MAX + 16];
	metrics_labels(l, sizeof(l), "relay", url, NULL);
	if (prog->synced_until >= 0)
		metric_set(metrics_get(p->metrics, METRIC_GAUGE, "sync_relay_synced_until_timestamp_seconds",
				       "Every event of the relay created up to this time is archived (Unix time).", l),
			   (double)prog->synced_until);
	if (prog->walk_from >= 0)
		metric_set(metrics_get(p->metrics, METRIC_GAUGE, "sync_relay_walk_from_timestamp_seconds",
				       "How far down the lowest unfinished window of the relay has archived (Unix time).", l),
			   (double)prog->walk_from);
}

void sync_pipeline_reject(struct sync_pipeline *p, struct sync_feed *f, const char *reason)
{
	char l[96];
	f->rejected++;
	p->total.rejected++;
	metric_add(metrics_get(p->metrics, METRIC_COUNTER, "sync_events_rejected_total",
			       "Events and messages dropped, by reason.", metrics_labels(l, sizeof(l), "reason", reason, NULL)),
		   1);
	log_debug(&p->log, "dropped", LOG_S("relay", f->relay.url), LOG_S("reason", reason));
}

/* A batch the writer gave back: add its outcome to its feed and the pass, then keep it for reuse. */
static void account(struct sync_pipeline *p, struct sync_batch *b)
{
	struct sync_feed *f = b->feed;
	if (b->rc != DB_OK) {
		p->db_failed = 1;
	} else if (f) {
		f->stored += b->res.inserted;
		f->duplicates += b->res.duplicates;
		p->total.stored += b->res.inserted;
		p->total.duplicates += b->res.duplicates;
		metric_add(p->m_stored, (double)b->res.inserted);
		metric_add(p->m_duplicates, (double)b->res.duplicates);
		for (int k = 1; k < DB_REJECT__COUNT; k++)
			for (size_t i = 0; i < b->res.rejected[k]; i++)
				sync_pipeline_reject(p, f, db_reject_name((enum db_reject)k));
		if (b->has_progress)
			sync_pipeline_show_progress(p, b->db_relay.url, &b->res.progress);
	}
	sync_batch_reset(b);
	b->next = p->free_batches;
	p->free_batches = b;
}

/* Takes what the writer gave back; wait: at least one batch, unless none is queued; all: every one. */
static void collect(struct sync_pipeline *p, int wait, int all)
{
	struct sync_batch *b;
	while ((b = sync_writer_take(p->writer, wait)) != NULL) {
		account(p, b);
		wait = all;
	}
}

void sync_pipeline_collect(struct sync_pipeline *p)
{
	collect(p, 0, 0);
}

uint64_t sync_pipeline_waited_ms(const struct sync_pipeline *p)
{
	return p->waited_ms;
}

int sync_pipeline_failed(struct sync_pipeline *p)
{
	return p->db_failed || sync_writer_failed(p->writer, NULL, 0);
}

/* A batch for f to fill, waiting for the writer to give one back when all are in use. NULL when the
 * database failed. */
static struct sync_batch *take_batch(struct sync_pipeline *p, struct sync_feed *f)
{
	if (!p->free_batches)
		collect(p, 0, 0);
	if (!p->free_batches && p->batches < p->max_batches) {
		struct sync_batch *b = sync_batch_new(p->batch_size, p->max_event_tags);
		if (b) {
			p->batches++;
			b->next = p->free_batches;
			p->free_batches = b;
		}
	}
	if (!p->free_batches) {
		uint64_t t0 = mono_ms();
		collect(p, 1, 0);
		p->waited_ms += mono_ms() - t0;
	}
	struct sync_batch *b = p->free_batches;
	if (!b || p->db_failed)
		return NULL;
	p->free_batches = b->next;
	b->next = NULL;
	b->feed = f;
	b->db_relay = f->relay;
	return b;
}

static void settle(struct sync_pipeline *p);

/* ---- a pass ---- */

int sync_pipeline_begin(struct sync_pipeline *p, const struct db_options *dbo, struct db *lookup,
			const char *coverage, size_t max_relays, char *err, size_t errlen)
{
	p->lookup = lookup;
	memset(&p->total, 0, sizeof(p->total));
	p->db_failed = 0;
	p->batches = 0;
	p->free_batches = NULL;
	p->max_batches = max_relays + WRITER_QUEUE + 2;
	p->writer = sync_writer_start(dbo, WRITER_QUEUE, coverage, err, errlen);
	return p->writer ? 0 : -1;
}

int sync_pipeline_end(struct sync_pipeline *p, struct sync_pipeline_totals *totals, char *err, size_t errlen)
{
	/* Every batch queued is committed (or refused) and counted before the pass ends: one that fails
	 * after others were written must fail the pass, and the totals count them all. A verification
	 * still in flight (none, when every relay was flushed) is applied while its feed lives. */
	settle(p);
	collect(p, 1, 1);
	if (sync_writer_failed(p->writer, err, errlen))
		p->db_failed = 1;
	else if (p->db_failed)
		snprintf(err, errlen, "a batch could not be written");
	sync_writer_stop(p->writer);
	p->writer = NULL;
	while (p->free_batches) {
		struct sync_batch *b = p->free_batches;
		p->free_batches = b->next;
		sync_batch_free(b);
	}
	*totals = p->total;
	return p->db_failed ? -1 : 0;
}

/* ---- a relay's events ---- */

void sync_pipeline_feed_init(struct sync_feed *f, const char *url, enum relay_network network)
{
	memset(f, 0, sizeof(*f));
	f->relay.url = url;
	f->relay.network = network == RELAY_NET_TOR ? DB_TOR : DB_CLEARNET;
}

void sync_pipeline_page_begin(struct sync_feed *f, unsigned slot)
{
	f->page[slot].usable = 0;
	f->page[slot].oldest = f->page[slot].newest = 0;
}

/* Adds what verification learnt about ev[from..to) of f's batch to f's page and counts. */
static void apply(struct sync_pipeline *p, struct sync_feed *f, const struct sync_batch *b, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		if (!b->valid[i]) {
			sync_pipeline_reject(p, f, nostr_errc_name(b->errc[i]));
			continue;
		}
		struct sync_feed_page *pg = &f->page[b->slot[i]];
		if (pg->usable == 0 || b->ev[i].created_at < pg->oldest)
			pg->oldest = b->ev[i].created_at;
		if (pg->usable == 0 || b->ev[i].created_at > pg->newest)
			pg->newest = b->ev[i].created_at;
		pg->usable++;
		f->accepted++;
		p->total.accepted++;
		metric_add(p->m_accepted, 1);
		if (b->valid[i] == 2)
			metric_add(p->m_cached, 1);
		else
			sync_seen_add(&p->seen, b->ev[i].id, b->ev[i].sig);
		if (b->valid[i] == 3)
			metric_add(p->m_archived, 1);
	}
}

/* Waits for the verification in flight, helping with it, and applies its results. */
static void settle(struct sync_pipeline *p)
{
	struct sync_feed *f = p->run_feed;
	if (!f)
		return;
	sync_verify_finish(&p->run);
	apply(p, f, p->run.b, p->run.from, p->run.to);
	p->run_feed = NULL;
}

/* Marks which of ev[from..to) of f's batch the archive holds with the same signature (one
 * statement per DB_EVENTS_STORED_MAX events; a relay the archive mostly lacks is sampled). Events
 * whose pair this process verified already are not asked about: the cache settles them. A lookup
 * that fails only means those events are verified in full. */
static void look_up(struct sync_pipeline *p, struct sync_feed *f, struct sync_batch *b, size_t from, size_t to)
{
	memset(b->stored + from, 0, to - from);
	if (!p->lookup || (f->lookup_sparse && f->lookup_skip++ % LOOKUP_SPARSE != 0))
		return;
	struct db_event_key keys[DB_EVENTS_STORED_MAX];
	size_t at[DB_EVENTS_STORED_MAX];
	unsigned char found[DB_EVENTS_STORED_MAX];
	for (size_t i = from; i < to;) {
		size_t n = 0;
		for (; i < to && n < DB_EVENTS_STORED_MAX; i++)
			if (!sync_seen_has(&p->seen, b->ev[i].id, b->ev[i].sig)) {
				keys[n] = (struct db_event_key){ b->ev[i].id, b->ev[i].sig };
				at[n++] = i;
			}
		if (n == 0)
			continue;
		if (db_events_stored(p->lookup, keys, n, found) != DB_OK) {
			log_debug(&p->log, "cannot ask which events are stored; verifying them all",
				  LOG_S("error", db_error(p->lookup)));
			return;
		}
		for (size_t k = 0; k < n; k++) {
			b->stored[at[k]] = found[k];
			f->lookup_found += found[k];
		}
		f->lookup_events += (uint32_t)n;
	}
	if (f->lookup_events >= LOOKUP_WINDOW) {
		f->lookup_sparse = f->lookup_found * 20 < f->lookup_events;
		f->lookup_events = f->lookup_found = 0;
	}
}

/* Verification of ev[from..n) of f's batch starts on the pool. */
static void start_verify(struct sync_pipeline *p, struct sync_feed *f, struct sync_batch *b, size_t from)
{
	look_up(p, f, b, from, b->n);
	sync_verify_start(&p->run, p->pool, p->ver, p->scratch, &p->seen, b, from, b->n);
	p->run_feed = f;
}

static void verify_some(struct sync_pipeline *p, struct sync_feed *f)
{
	struct sync_batch *b = f->batch;
	size_t from = p->run_feed == f ? p->run.to : b->verified;
	if (b->n - from < VERIFY_CHUNK)
		return;
	settle(p);
	start_verify(p, f, b, b->verified);
}

enum sync_add sync_pipeline_add(struct sync_pipeline *p, struct sync_feed *f, unsigned slot,
			       const struct nostr_event *ev)
{
	if (!f->batch && !(f->batch = take_batch(p, f)))
		return SYNC_ADD_DB;
	int added = sync_batch_add(f->batch, ev);
	if (added > 0) {
		sync_pipeline_reject(p, f, "too many tags");
		return SYNC_ADD_TAGS;
	}
	if (added < 0)
		return SYNC_ADD_NOMEM;
	f->batch->slot[f->batch->n - 1] = (unsigned char)slot;
	if (sync_batch_full(f->batch))
		return SYNC_ADD_FULL;
	verify_some(p, f);
	return SYNC_ADDED;
}

void sync_pipeline_verify(struct sync_pipeline *p, struct sync_feed *f)
{
	settle(p);
	struct sync_batch *b = f->batch;
	if (!b || b->verified == b->n)
		return;
	start_verify(p, f, b, b->verified);
	settle(p);
}

void sync_pipeline_commit(struct sync_pipeline *p, struct sync_feed *f, const struct db_sync_progress *progress)
{
	sync_pipeline_verify(p, f);
	struct sync_batch *b = f->batch;
	if (!b && progress)
		b = take_batch(p, f);
	f->batch = NULL;
	if (!b)
		return;
	b->seen_at = wall_ms() / 1000;
	b->has_progress = progress != NULL;
	if (progress)
		b->progress = *progress;
	uint64_t t0 = mono_ms();
	sync_writer_put(p->writer, b); /* waits while the writer's queue is full */
	p->waited_ms += mono_ms() - t0;
}
