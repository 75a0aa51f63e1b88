/* sync_engine.c — the scheduler of a synchronizer pass: which relays run at once, their budgets, the stop; their events go through sync_pipeline.c. */
#include "services/sync_engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "services/sync_internal.h"

#define DRAIN_MS 3000           /* after a stop, how long closing connections may take */

static const char *outcome_name[SYNC_R__COUNT] = { "running", "complete", "failed", "stalled", "budget", "stopped" };

/* ---------------------------------------------------------------- set-up */

/* Reads the filter JSON of a [synchronizer]-style section into f (initialised, empty). */
static int read_filter(const char *json, struct nostr_filter *f, struct nostr_err *e)
{
	struct json_doc doc;
	json_doc_init(&doc);
	int rc = json_parse(&doc, json, strlen(json), e) < 0 || nostr_filter_from_json(f, &doc, 0, e) < 0 ? -1 : 0;
	json_doc_free(&doc);
	return rc;
}

int sync_check_filter(const char *section, const struct config_sync *scfg, char *err, size_t errlen)
{
	struct nostr_filter f;
	struct nostr_err e = { 0 };
	char why[256];
	nostr_filter_init(&f);
	int rc = -1;
	if (read_filter(scfg->filter, &f, &e) < 0)
		snprintf(err, errlen, "[%s] filter: %s", section, nostr_err_str(&e, why, sizeof(why)));
	else if (f.has_since || f.has_until || f.has_limit)
		snprintf(err, errlen, "[%s] filter: since, until and limit are set by the synchronizer (use [%s] since)",
			 section, section);
	else
		rc = 0;
	nostr_filter_free(&f);
	return rc;
}

/*
 * What the progress this engine earns covers: the hex sha256 of its effective filter (as parsed
 * and written back, so spacing and key order do not matter) and since. A pass reads only the
 * progress earned under the same coverage; progress under another one is replaced (see
 * relay_sync_progress.coverage in sql/10_tables.sql). The synchronizer and the priority
 * synchronizer share progress exactly when their filter and since are the same.
 */
static int make_coverage(struct sync_engine *e)
{
	struct buf b;
	buf_init(&b);
	/* What decides which events a walk stores: the filter and since, and the limits that refuse an
	 * event (raising one must fetch what it refused before). */
	buf_printf(&b, "brotr sync coverage 1; since %lld; max_event_tags %lld; max_message_size %lld; filter ",
		   e->cfg->since, e->cfg->max_event_tags, e->ctx->cfg->network.max_message_size);
	size_t at = b.len;
	nostr_filter_json(&e->filter, &b);
	int rc = b.failed ? -1 : 0;
	if (rc == 0) {
		unsigned char md[SHA256_DIGEST_LENGTH];
		SHA256((const unsigned char *)b.data, b.len, md);
		hex_encode(md, sizeof(md), e->coverage);
		log_info(&e->log, "progress coverage", LOG_S("coverage", e->coverage), LOG_I("since", e->cfg->since),
			 LOG_S("filter", b.data + at));
	}
	buf_free(&b);
	return rc;
}

const char *sync_engine_coverage(const struct sync_engine *e)
{
	return e->coverage;
}

static struct metric *counter(struct sync_engine *e, const char *name, const char *help, const char *labels)
{
	return metrics_get(e->ctx->metrics, METRIC_COUNTER, name, help, labels);
}

static void make_metrics(struct sync_engine *e)
{
	e->m_received = counter(e, "sync_events_received_total", "EVENT messages received for our subscriptions.", NULL);
	e->m_pages = counter(e, "sync_pages_total", "REQ pages completed (EOSE).", NULL);
	e->m_at_cap = counter(e, "sync_seconds_at_cap_total",
			      "Seconds that filled a relay's cap and that it would not count (NIP-45): they may hold "
			      "more events than it returns.",
			      NULL);
	e->m_truncated = counter(e, "sync_seconds_truncated_total",
				 "Seconds that COUNT showed to hold more events than the relay returns.", NULL);
	e->m_refused = counter(e, "sync_subscriptions_refused_total",
			       "Subscriptions relays refused as one too many (each left the relay a window fewer).", NULL);
	for (int o = SYNC_R_COMPLETE; o < SYNC_R__COUNT; o++) {
		char l[64];
		e->m_relays[o] = counter(e, "sync_relays_total", "Relays processed, by outcome.",
					 metrics_labels(l, sizeof(l), "outcome", outcome_name[o], NULL));
	}
}

struct sync_engine *sync_engine_open(struct service_ctx *ctx, const struct config_sync *scfg)
{
	struct sync_engine *e = calloc(1, sizeof(*e));
	if (!e)
		goto oom;
	e->ctx = ctx;
	e->cfg = scfg;
	e->log = ctx->log;
	nostr_filter_init(&e->filter);
	nostr_msg_init(&e->wire.msg);
	json_doc_init(&e->wire.doc);
	nostr_event_init(&e->wire.ev);
	buf_init(&e->wire.out);
	struct nostr_err ferr = { 0 };
	/* sync_check_filter already accepted the filter; parse it once for the engine */
	if (read_filter(scfg->filter, &e->filter, &ferr) < 0 || make_coverage(e) < 0 || !(e->nctx = nostr_ctx_new()) ||
	    !(e->pipe = sync_pipeline_new(e->nctx, (size_t)ctx->cfg->database.batch_size, (size_t)scfg->max_event_tags,
					  &e->log, ctx->metrics)))
		goto oom;
	if (auth_identity_load(&e->auth, e->nctx, ctx->cfg) < 0) { /* the service's check refused it already */
		log_error(&ctx->log, "unusable [auth] private_key");
		sync_engine_close(e);
		return NULL;
	}
	make_metrics(e);
	struct db_options opt;
	db_options_from_config(&opt, ctx->cfg);
	opt.stop = ctx->stop;
	opt.log = &e->log;
	opt.application_name = "brotr-sync";
	char err[512];
	if (db_open(&e->db, &opt, err, sizeof(err)) != DB_OK) {
		log_error(&e->log, "cannot connect to the database", LOG_S("error", err));
		sync_engine_close(e);
		return NULL;
	}
	return e;
oom:
	log_error(&ctx->log, "cannot set up the synchronizer (out of memory or no randomness)");
	sync_engine_close(e);
	return NULL;
}

void sync_engine_close(struct sync_engine *e)
{
	if (!e)
		return;
	db_close(e->db);
	sync_pipeline_free(e->pipe);
	auth_identity_wipe(&e->auth);
	nostr_ctx_free(e->nctx);
	nostr_filter_free(&e->filter);
	nostr_msg_free(&e->wire.msg);
	json_doc_free(&e->wire.doc);
	nostr_event_free(&e->wire.ev);
	buf_free(&e->wire.out);
	free(e);
}

struct db *sync_engine_db(struct sync_engine *e)
{
	return e->db;
}

/* ---------------------------------------------------------------- relays done */

/* A done relay's walk counters into the pass total (what became of its events, the pipeline
 * counts: the writer's results can come back after the relay is done). */
static void add_counts(struct sync_counts *to, const struct sync_counts *c)
{
	to->received += c->received;
	to->pages += c->pages;
	to->at_cap += c->at_cap;
	to->truncated += c->truncated;
	to->refusals += c->refusals;
}

/* r's connection is gone: logs its line and counts its outcome. */
static void relay_done(struct sync_engine *e, struct sync_relay *r)
{
	sync_relay_settle_probes(r);
	sync_relay_flush(r);
	sync_relay_release(r);
	e->active--;
	e->relays[r->outcome]++;
	metric_add(e->m_relays[r->outcome], 1);
	metric_add(e->m_received, (double)r->c.received);
	metric_add(e->m_pages, (double)r->c.pages);
	metric_add(e->m_at_cap, (double)r->c.at_cap);
	metric_add(e->m_truncated, (double)r->c.truncated);
	metric_add(e->m_refused, (double)r->c.refusals);
	add_counts(&e->total, &r->c);
	struct logger *lg = &e->log;
	if (r->nip45 >= 0 && db_relay_nip45_set(e->db, r->t->url, r->nip45, wall_ms() / 1000) != DB_OK)
		log_warn(lg, "cannot record the relay's NIP-45 support", LOG_S("relay", r->t->url),
			 LOG_S("error", db_error(e->db)));
	if (r->outcome == SYNC_R_COMPLETE)
		log_info(lg, "relay synchronized", LOG_S("relay", r->t->url), LOG_U("events", r->c.received),
			 LOG_U("accepted", r->feed.accepted), LOG_U("rejected", r->feed.rejected), LOG_U("pages", r->c.pages),
			 LOG_U("at_cap", r->c.at_cap), LOG_U("truncated", r->c.truncated), LOG_U("refused", r->c.refusals),
			 LOG_U("duration_ms", mono_ms() - r->started_ms));
	else
		log_warn(lg, "relay not finished", LOG_S("relay", r->t->url), LOG_S("outcome", outcome_name[r->outcome]),
			 LOG_S("reason", r->reason), LOG_U("events", r->c.received), LOG_U("accepted", r->feed.accepted),
			 LOG_U("pages", r->c.pages), LOG_U("duration_ms", mono_ms() - r->started_ms));
}

/* ---------------------------------------------------------------- the pass */

static void end_all(struct sync_engine *e, struct sync_relay *rs, size_t n, enum sync_outcome o, const char *why)
{
	e->stopping = 1;
	for (size_t i = 0; i < n; i++)
		if (rs[i].e && rs[i].outcome == SYNC_R_RUNNING)
			sync_relay_end(&rs[i], o, why);
}

/* Ends relays past their budget, and everything past the pass's budget, a stop or a failed database. */
static void check_limits(struct sync_engine *e, struct sync_relay *rs, size_t n, uint64_t pass_started)
{
	if (e->stopping)
		return;
	if (*e->ctx->stop)
		end_all(e, rs, n, SYNC_R_STOPPED, "stop requested");
	else if (sync_pipeline_failed(e->pipe))
		end_all(e, rs, n, SYNC_R_FAILED, "the database failed");
	else if ((long long)(mono_ms() - pass_started) > e->cfg->pass_budget_ms)
		end_all(e, rs, n, SYNC_R_BUDGET, "pass budget spent");
	for (size_t i = 0; i < n && !e->stopping; i++) {
		if (!rs[i].e || rs[i].outcome != SYNC_R_RUNNING)
			continue;
		sync_relay_check_deadline(&rs[i]);
		if (rs[i].outcome == SYNC_R_RUNNING && (long long)(mono_ms() - rs[i].started_ms) > e->cfg->relay_budget_ms)
			sync_relay_end(&rs[i], SYNC_R_BUDGET, "relay budget spent");
	}
}

/* Takes the outcome of every relay of rs[0..n) that finished since the last call (taken[i] marks it). */
static void reap(struct sync_engine *e, struct sync_relay *rs, size_t n, unsigned char *taken)
{
	for (size_t i = 0; i < n; i++)
		if (rs[i].finished && !taken[i]) {
			taken[i] = 1;
			relay_done(e, &rs[i]);
		}
}

/* Runs the loop until every started relay is done (or, after a stop, until DRAIN_MS passed). */
static void run_loop(struct sync_engine *e, struct sync_relay *rs, struct sync_target *targets, size_t n,
		     unsigned char *taken)
{
	uint64_t started = mono_ms(), drain_until = 0;
	size_t next = 0;
	for (;;) {
		while (!e->stopping && e->active < (size_t)e->cfg->max_relays && next < n) {
			e->active++;
			sync_relay_start(e, &rs[next], &targets[next]);
			reap(e, rs + next, 1, taken + next); /* one with nothing to do is done at once */
			next++;
		}
		if (e->active == 0 && (next >= n || e->stopping))
			break;
		if (e->stopping && !drain_until)
			drain_until = mono_ms() + DRAIN_MS;
		if (drain_until && mono_ms() > drain_until)
			break;
		net_run(e->net, e->stopping ? NULL : e->ctx->stop, 200);
		sync_pipeline_collect(e->pipe);
		check_limits(e, rs, n, started);
		reap(e, rs, next, taken);
	}
}

static void log_summary(struct sync_engine *e, size_t n, uint64_t ms)
{
	const struct sync_counts *t = &e->total;
	const struct sync_pipeline_totals *p = &e->piped;
	log_info(&e->log, "pass summary", LOG_U("relays", n), LOG_U("complete", e->relays[SYNC_R_COMPLETE]),
		 LOG_U("failed", e->relays[SYNC_R_FAILED] + e->relays[SYNC_R_STALLED]),
		 LOG_U("budget", e->relays[SYNC_R_BUDGET]), LOG_U("stopped", e->relays[SYNC_R_STOPPED]),
		 LOG_U("events", t->received), LOG_U("stored", p->stored), LOG_U("duplicates", p->duplicates),
		 LOG_U("rejected", p->rejected), LOG_U("at_cap", t->at_cap), LOG_U("truncated", t->truncated),
		 LOG_U("pages", t->pages),
		 LOG_U("duration_ms", ms), LOG_U("events_per_s", ms ? p->accepted * 1000 / ms : 0));
}

static void reset_pass(struct sync_engine *e)
{
	memset(&e->total, 0, sizeof(e->total));
	memset(&e->piped, 0, sizeof(e->piped));
	memset(e->relays, 0, sizeof(e->relays));
	e->stopping = 0;
	e->active = 0;
	e->pass_start = wall_ms() / 1000;
}

int sync_engine_begin_io(struct sync_engine *e, const char *application_name, size_t feeds, char *err,
			 size_t errlen)
{
	struct net_options no;
	net_options_from_config(&no, e->ctx->cfg);
	struct db_options dbo;
	db_options_from_config(&dbo, e->ctx->cfg);
	dbo.stop = e->ctx->stop;
	dbo.log = &e->log;
	dbo.application_name = application_name;
	if (!(e->net = net_new(&no, &e->log, e->ctx->metrics, err, errlen)) ||
	    sync_pipeline_begin(e->pipe, &dbo, e->cfg->verify_stored ? NULL : e->db, e->coverage, feeds, err, errlen) < 0) {
		net_free(e->net);
		e->net = NULL;
		return -1;
	}
	return 0;
}

int sync_engine_run(struct sync_engine *e, struct sync_target *targets, size_t n)
{
	char err[512];
	uint64_t t0 = mono_ms();
	reset_pass(e);
	struct sync_relay *rs = calloc(n ? n : 1, sizeof(*rs));
	unsigned char *taken = calloc(n ? n : 1, 1);
	if (!rs || !taken ||
	    sync_engine_begin_io(e, "brotr-sync-writer", (size_t)e->cfg->max_relays, err, sizeof(err)) < 0) {
		log_error(&e->log, "cannot start the pass", LOG_S("error", rs && taken ? err : "out of memory"));
		free(rs);
		free(taken);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct sync_windows w; /* the gauges from what is recorded, as a relay's plan reads it */
		sync_windows_plan(&w, &targets[i].progress, e->cfg->since, 0, -1, 1);
		struct db_sync_state st = { targets[i].progress.synced_until, sync_windows_walk_from(&w) };
		sync_pipeline_show_progress(e->pipe, targets[i].url, &st);
	}
	run_loop(e, rs, targets, n, taken);
	net_free(e->net); /* connections still open after the drain close without callbacks */
	e->net = NULL;
	for (size_t i = 0; i < n; i++)
		if (rs[i].e && !rs[i].finished)
			sync_relay_abandon(&rs[i]);
	reap(e, rs, n, taken);
	int rc = sync_pipeline_end(e->pipe, &e->piped, err, sizeof(err));
	if (rc < 0)
		log_error(&e->log, "the database failed; progress stays at the last committed batch", LOG_S("error", err));
	log_summary(e, n, mono_ms() - t0);
	free(rs);
	free(taken);
	return rc;
}
