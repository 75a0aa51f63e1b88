/* finder.c — brotr finder: reads relay URLs out of newly archived events (finder_queue) into relay candidates. */
#include "services/services.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "discovery.h"
#include "nostr/relay_url.h"
#include "services/finder_batch.h"
#include "services/finder_http.h"
#include "services/finder_scan.h"
#include "services/finder_writer.h"
#include "services/service_db.h"

#define FLUSH_CANDIDATES 4096 /* commit early (after the event under way) once this many are pending */

enum drop { DROP_SCHEME, DROP_LOCAL, DROP_ONION, DROP_TOO_LONG, DROP_MALFORMED, DROP__COUNT };
static const char *const drop_names[DROP__COUNT] = { "scheme", "local", "onion", "too_long", "malformed" };

struct tally {
	size_t events, invalid, seen[FINDER__COUNT], dropped[DROP__COUNT], duplicate, memo;
	struct db_finder_result db;
};

struct pass {
	struct service_ctx *ctx;
	struct db *db;           /* reads */
	struct db *wdb;          /* the writer's */
	struct json_doc doc;
	struct finder_batch b;   /* being filled */
	struct finder_writer *writer;
	struct finder_memo memo;
	struct tally t;
	struct tally reported; /* what the metrics have of t (they are updated once per commit) */
	const char *event_id; /* of the event being scanned */
	unsigned url_flags;
	int oom;
	int failed;
};

static enum drop drop_reason(const char *why)
{
	if (strstr(why, "allow_local"))
		return DROP_LOCAL;
	if (strstr(why, "scheme") || strstr(why, "not a relay URL"))
		return DROP_SCHEME;
	if (strstr(why, "onion"))
		return DROP_ONION;
	if (strstr(why, "longer than"))
		return DROP_TOO_LONG;
	return DROP_MALFORMED;
}

static void dropped(struct pass *ps, enum drop d, const char *why, const char *s, size_t len)
{
	ps->t.dropped[d]++;
	log_debug(&ps->ctx->log, "URL dropped", LOG_S("event", ps->event_id), LOG_S("reason", drop_names[d]),
		  LOG_S("why", why), LOG_I("length", len), LOG_S("url", s && len <= RELAY_URL_MAX ? s : ""));
}

/* finder_scan's callback: normalise, then keep. */
static void on_url(void *user, enum finder_source src, const char *s, size_t len)
{
	struct pass *ps = user;
	struct relay_url u;
	const char *why = "URL longer than 2048 bytes";
	char text[FINDER_STR_MAX + 1];
	ps->t.seen[src]++;
	if (s) {
		memcpy(text, s, len);
		text[len] = '\0';
	}
	if (!s || relay_url_parse(s, len, ps->url_flags, &u, &why) < 0) {
		dropped(ps, drop_reason(why), why, s ? text : NULL, len);
		return;
	}
	if (finder_memo_has(&ps->memo, u.url)) {
		ps->t.memo++;
		return;
	}
	int rc = finder_batch_add(&ps->b, &u, src, ps->event_id);
	ps->oom |= rc < 0;
	ps->t.duplicate += rc == 0;
}

/* Adds to the metrics what the tally gained since the last call. */
static void report(struct pass *ps)
{
	struct metrics *m = ps->ctx->metrics;
	struct tally *t = &ps->t, *r = &ps->reported;
	for (size_t i = 0; i < FINDER__COUNT; i++)
		if (t->seen[i] > r->seen[i])
			metrics_count(m, "finder_urls_seen_total", "Relay URL strings read from archived events, by where.",
				      "source", finder_source_name((enum finder_source)i), NULL, NULL,
				      (double)(t->seen[i] - r->seen[i]));
	for (size_t i = 0; i < DROP__COUNT; i++)
		if (t->dropped[i] > r->dropped[i])
			metrics_count(m, "finder_urls_dropped_total", "URLs found that are not usable relay URLs, by reason.",
				      "reason", drop_names[i], NULL, NULL, (double)(t->dropped[i] - r->dropped[i]));
	if (t->invalid > r->invalid)
		metrics_count(m, "finder_invalid_events_total", "Archived events whose stored tags are not a JSON array.",
			      NULL, NULL, NULL, NULL, (double)(t->invalid - r->invalid));
	metrics_count(m, "finder_candidates_new_total", "Relay candidates stored for the validator.", NULL, NULL, NULL,
		      NULL, (double)(t->db.inserted - r->db.inserted));
	metrics_count(m, "finder_candidates_known_total", "URLs found that were already relays or candidates.", NULL,
		      NULL, NULL, NULL, (double)(t->db.known + t->memo - r->db.known - r->memo));
	metrics_count(m, "finder_events_scanned_total", "Archived events read by the finder (committed).", NULL, NULL,
		      NULL, NULL, (double)(t->db.events_done - r->db.events_done));
	*r = *t;
}

/* finder_writer's callback: a batch is committed. */
static void committed(void *user, const struct finder_batch *b, const struct db_finder_result *r)
{
	struct pass *ps = user;
	ps->t.db.inserted += r->inserted;
	ps->t.db.known += r->known;
	ps->t.db.events_done += r->events_done;
	report(ps);
	for (size_t i = 0; i < b->n; i++)
		finder_memo_add(&ps->memo, b->cands[i].url);
}

/* Hands the batch to the writer. Returns 0, or -1 once a commit failed (logged). */
static int commit(struct pass *ps)
{
	return finder_writer_put(ps->writer, &ps->b);
}

static void scan_one(struct pass *ps, const struct db_queued_event *q)
{
	struct finder_event ev = { q->kind, q->tags, q->content, q->tagvalues };
	ps->event_id = q->event_id;
	ps->t.events++;
	if (q->kind >= 0 && finder_scan_event(&ps->doc, &ev, on_url, ps) < 0) {
		ps->t.invalid++;
		log_warn(&ps->ctx->log, "stored tags are not a JSON array", LOG_S("event", q->event_id));
	}
}

/* Scans one page; commits once enough candidates are pending and at the page's end. Returns 1
 * when the page was full (more may follow), 0 when the queue is drained or the pass must end,
 * -1 on failure. */
static int scan_page(struct pass *ps, int64_t *after, uint64_t deadline)
{
	const struct config *cfg = ps->ctx->cfg;
	size_t limit = (size_t)cfg->database.batch_size;
	struct db_queued_page pg;
	int rc = 0;
	if (db_finder_read(ps->db, *after, limit, &pg) != DB_OK) {
		log_error(&ps->ctx->log, "cannot read the finder queue", LOG_S("error", db_error(ps->db)));
		return -1;
	}
	size_t i = 0;
	for (; i < pg.n && !*ps->ctx->stop && mono_ms() < deadline; i++) {
		scan_one(ps, &pg.rows[i]);
		if (ps->oom || finder_batch_seq(&ps->b, pg.rows[i].seq) < 0) {
			log_error(&ps->ctx->log, "out of memory");
			rc = -1;
			break;
		}
		if (ps->b.n >= FLUSH_CANDIDATES && (rc = commit(ps)) < 0)
			break;
	}
	if (rc == 0 && (ps->b.n_seqs || ps->b.n))
		rc = commit(ps);
	if (rc == 0 && i == pg.n && pg.n == limit)
		rc = 1;
	*after = i ? pg.rows[i - 1].seq : *after;
	db_queued_page_free(&pg);
	return rc;
}

/* finder_sources_fetch's callback: a source's URLs and its next fetch, committed together. */
static void on_doc(void *user, const struct finder_http_source *src, const char *body, size_t len, const char *error)
{
	struct pass *ps = user;
	const struct config *cfg = ps->ctx->cfg;
	struct db_finder_result r = { 0 };
	int64_t now = wall_ms() / 1000;
	ps->event_id = "";
	if (body && finder_scan_json(&ps->doc, body, len, src->path, on_url, ps) < 0)
		error = "the document is not JSON";
	struct db_candidate *dc = calloc(ps->b.n ? ps->b.n : 1, sizeof(*dc));
	for (size_t i = 0; dc && i < ps->b.n; i++)
		dc[i] = (struct db_candidate){ .url = ps->b.cands[i].url, .network = ps->b.cands[i].network };
	if (!dc || ps->oom ||
	    db_finder_commit_source(ps->db, src->url, error, now + cfg->finder.source_interval_ms / 1000, dc, ps->b.n, now,
				    &r) != DB_OK) {
		log_error(&ps->ctx->log, "cannot store a source's candidates", LOG_S("source", src->url),
			  LOG_S("error", dc ? db_error(ps->db) : "out of memory"));
		ps->failed = 1;
	} else {
		ps->t.db.inserted += r.inserted, ps->t.db.known += r.known;
		metrics_count(ps->ctx->metrics, "finder_sources_fetched_total", "HTTP source fetches, by result.", "result",
			      error ? "failed" : "ok", NULL, NULL, 1);
		log_info(&ps->ctx->log, "source read", LOG_S("source", src->url), LOG_U("urls", ps->b.n),
			 LOG_U("candidates_new", r.inserted), LOG_S("error", error ? error : ""));
	}
	free(dc);
	finder_batch_free(&ps->b);
}

/* The HTTP sources whose cool-down is over. Returns 0, or -1 (logged). */
static int read_sources(struct pass *ps)
{
	const struct config *cfg = ps->ctx->cfg;
	struct finder_http_source src[FINDER_SOURCES_MAX];
	size_t n = 0, due = 0;
	char err[512];
	if (!*cfg->finder.sources)
		return 0;
	if (finder_sources_parse(cfg->finder.sources, ps->url_flags, src, &n, err, sizeof(err)) < 0) {
		log_error(&ps->ctx->log, "unusable sources", LOG_S("error", err));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (db_finder_source_due(ps->db, src[i].url, wall_ms() / 1000, &src[i].due) != DB_OK) {
			log_error(&ps->ctx->log, "cannot read the sources", LOG_S("error", db_error(ps->db)));
			return -1;
		}
		due += (size_t)src[i].due;
	}
	if (due && finder_sources_fetch(cfg, &ps->ctx->log, ps->ctx->metrics, src, n, ps->ctx->stop, on_doc, ps) < 0)
		return -1;
	report(ps);
	return ps->failed ? -1 : 0;
}

static int open_pass(struct pass *ps)
{
	struct service_ctx *ctx = ps->ctx;
	if (service_db_open(ctx, "brotr-finder", &ps->db) < 0 || service_db_open(ctx, "brotr-finder-writer", &ps->wdb) < 0)
		return -1;
	if (!(ps->writer = finder_writer_start(ps->wdb, &ctx->log, committed, ps))) {
		log_error(&ctx->log, "cannot start the writer thread");
		return -1;
	}
	return 0;
}

static void summary(struct pass *ps, const char *ended)
{
	const struct tally *t = &ps->t;
	size_t seen = 0, drop = 0;
	for (size_t i = 0; i < FINDER__COUNT; i++)
		seen += t->seen[i];
	for (size_t i = 0; i < DROP__COUNT; i++)
		drop += t->dropped[i];
	log_info(&ps->ctx->log, "finder pass summary", LOG_S("ended", ended), LOG_U("events", t->db.events_done),
		 LOG_U("invalid_events", t->invalid), LOG_U("urls", seen), LOG_U("candidates_new", t->db.inserted),
		 LOG_U("known", t->db.known + t->memo), LOG_U("repeated", t->duplicate), LOG_U("dropped", drop),
		 LOG_U("dropped_scheme", t->dropped[DROP_SCHEME]), LOG_U("dropped_local", t->dropped[DROP_LOCAL]),
		 LOG_U("dropped_onion", t->dropped[DROP_ONION]), LOG_U("dropped_too_long", t->dropped[DROP_TOO_LONG]),
		 LOG_U("dropped_malformed", t->dropped[DROP_MALFORMED]), LOG_U("r_tag", t->seen[FINDER_R_TAG]),
		 LOG_U("relay_tag", t->seen[FINDER_RELAY_TAG]), LOG_U("contacts", t->seen[FINDER_CONTACTS]),
		 LOG_U("recommend", t->seen[FINDER_RECOMMEND]), LOG_U("hint", t->seen[FINDER_HINT]),
		 LOG_U("nip66", t->seen[FINDER_NIP66]));
}

static int finder_pass(struct service_ctx *ctx)
{
	struct pass ps = { .ctx = ctx };
	uint64_t deadline = mono_ms() + (uint64_t)ctx->cfg->finder.pass_budget_ms;
	int64_t after = 0;
	int rc;
	ps.url_flags = ctx->cfg->network.allow_local ? RELAY_URL_ALLOW_LOCAL : 0;
	json_doc_init(&ps.doc);
	if ((rc = open_pass(&ps)) == 0 && (rc = read_sources(&ps)) == 0)
		while ((rc = scan_page(&ps, &after, deadline)) == 1 && !*ctx->stop && mono_ms() < deadline)
			;
	const char *ended = rc < 0 ? "failed" : *ctx->stop ? "stopped" : mono_ms() >= deadline ? "budget" : "drained";
	if (finder_writer_finish(ps.writer) < 0)
		rc = -1, ended = "failed";
	summary(&ps, ended);
	finder_batch_free(&ps.b);
	finder_memo_free(&ps.memo);
	json_doc_free(&ps.doc);
	db_close(ps.db);
	db_close(ps.wdb);
	return rc < 0 ? -1 : 0;
}

static long long finder_interval(const struct config *cfg)
{
	return cfg->finder.interval_ms;
}

static int finder_check(const struct config *cfg, char *err, size_t errlen)
{
	struct finder_http_source src[FINDER_SOURCES_MAX];
	size_t n;
	if (!cfg->brotr.finder) {
		snprintf(err, errlen, "this implementation does not run the finder ([brotr] finder = false)");
		return -1;
	}
	return finder_sources_parse(cfg->finder.sources, cfg->network.allow_local ? RELAY_URL_ALLOW_LOCAL : 0, src, &n,
				    err, errlen);
}

const struct service_def finder_service = {
	.name = "finder",
	.interval_ms = finder_interval,
	.check = finder_check,
	.pass = finder_pass,
};
