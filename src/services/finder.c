/* finder.c — brotr finder: reads relay URLs out of newly archived events (finder_queue) into relay candidates. */
#include "services/services.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "discovery.h"
#include "nostr/relay_url.h"
#include "services/finder_scan.h"

#define FLUSH_CANDIDATES 4096 /* commit early (after the event under way) once this many are pending */
#define MEMO_MAX 65536        /* URLs remembered as committed in this pass (exact strings) */

enum drop { DROP_SCHEME, DROP_LOCAL, DROP_ONION, DROP_TOO_LONG, DROP_MALFORMED, DROP__COUNT };
static const char *const drop_names[DROP__COUNT] = { "scheme", "local", "onion", "too_long", "malformed" };

struct cand {
	char url[RELAY_URL_MAX + 1];
	enum db_network network;
	enum finder_source source;
	char event_id[65];
};

/* The candidates of the batch under way, each URL once (open addressing over cands). */
struct batch {
	struct cand *cands;
	size_t n, cap;
	uint32_t *slot;  /* index + 1, 0: empty; hcap slots, a power of two, at least twice cap */
	size_t hcap;
	int64_t *seqs;   /* the queue rows the batch consumes */
	size_t n_seqs, seq_cap;
};

/* URLs this pass already committed (as candidates, or found already known): not sent again. At
 * most MEMO_MAX of them, exact strings, so a popular relay costs the database one probe per pass. */
struct memo {
	char **keys; /* MEMO_MAX * 2 slots */
	size_t n;
};

struct tally {
	size_t events, invalid, seen[FINDER__COUNT], dropped[DROP__COUNT], duplicate, memo;
	struct db_finder_result db;
};

struct pass {
	struct service_ctx *ctx;
	struct db *db;
	struct json_doc doc;
	struct batch b;
	struct memo memo;
	struct tally t;
	struct tally reported; /* what the metrics have of t (they are updated once per commit) */
	const char *event_id; /* of the event being scanned */
	unsigned url_flags;
	int oom;
};

static void count(struct pass *ps, const char *name, const char *help, const char *k, const char *v, double n)
{
	char labels[96];
	metric_add(metrics_get(ps->ctx->metrics, METRIC_COUNTER, name, help,
			       metrics_labels(labels, sizeof(labels), k, v, NULL)),
		   n);
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Grows the candidate array and rebuilds the table. Returns 0 or -1. */
static int batch_grow(struct batch *b)
{
	size_t cap = b->cap ? b->cap * 2 : 256, hcap = cap * 2;
	struct cand *c = realloc(b->cands, cap * sizeof(*c));
	if (!c)
		return -1;
	b->cands = c;
	uint32_t *slot = calloc(hcap, sizeof(*slot));
	if (!slot)
		return -1;
	free(b->slot);
	b->slot = slot, b->hcap = hcap, b->cap = cap;
	for (size_t i = 0; i < b->n; i++) {
		size_t h = hash(b->cands[i].url) & (hcap - 1);
		while (slot[h])
			h = (h + 1) & (hcap - 1);
		slot[h] = (uint32_t)i + 1;
	}
	return 0;
}

/* Adds u unless the batch has it. Returns 1 added, 0 already there, -1 out of memory. */
static int batch_add(struct batch *b, const struct relay_url *u, enum finder_source src, const char *event_id)
{
	if (b->n == b->cap && batch_grow(b) < 0)
		return -1;
	size_t h = hash(u->url) & (b->hcap - 1);
	for (; b->slot[h]; h = (h + 1) & (b->hcap - 1))
		if (strcmp(b->cands[b->slot[h] - 1].url, u->url) == 0)
			return 0;
	struct cand *c = &b->cands[b->n];
	memcpy(c->url, u->url, sizeof(c->url));
	c->network = u->network == RELAY_NET_TOR ? DB_TOR : DB_CLEARNET;
	c->source = src;
	snprintf(c->event_id, sizeof(c->event_id), "%s", event_id);
	b->slot[h] = (uint32_t)++b->n;
	return 1;
}

/* The slot of url in m: where it is, or the empty slot where it would go. */
static size_t memo_slot(const struct memo *m, const char *url)
{
	size_t h = hash(url) & (MEMO_MAX * 2 - 1);
	while (m->keys[h] && strcmp(m->keys[h], url) != 0)
		h = (h + 1) & (MEMO_MAX * 2 - 1);
	return h;
}

static int memo_has(const struct memo *m, const char *url)
{
	return m->keys && m->keys[memo_slot(m, url)];
}

/* Remembers url while there is room (out of memory: it is simply not remembered). */
static void memo_add(struct memo *m, const char *url)
{
	if (!m->keys && !(m->keys = calloc(MEMO_MAX * 2, sizeof(*m->keys))))
		return;
	size_t h = memo_slot(m, url);
	if (m->n < MEMO_MAX && !m->keys[h] && (m->keys[h] = strdup(url)))
		m->n++;
}

static void memo_free(struct memo *m)
{
	for (size_t i = 0; m->keys && i < MEMO_MAX * 2; i++)
		free(m->keys[i]);
	free(m->keys);
	memset(m, 0, sizeof(*m));
}

static int batch_seq(struct batch *b, int64_t seq)
{
	if (b->n_seqs == b->seq_cap) {
		size_t cap = b->seq_cap ? b->seq_cap * 2 : 1024;
		int64_t *s = realloc(b->seqs, cap * sizeof(*s));
		if (!s)
			return -1;
		b->seqs = s, b->seq_cap = cap;
	}
	b->seqs[b->n_seqs++] = seq;
	return 0;
}

static void batch_reset(struct batch *b)
{
	b->n = b->n_seqs = 0;
	if (b->slot)
		memset(b->slot, 0, b->hcap * sizeof(*b->slot));
}

static void batch_free(struct batch *b)
{
	free(b->cands);
	free(b->slot);
	free(b->seqs);
	memset(b, 0, sizeof(*b));
}

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
	if (memo_has(&ps->memo, u.url)) {
		ps->t.memo++;
		return;
	}
	int rc = batch_add(&ps->b, &u, src, ps->event_id);
	ps->oom |= rc < 0;
	ps->t.duplicate += rc == 0;
}

/* Adds to the metrics what the tally gained since the last call. */
static void report(struct pass *ps)
{
	struct tally *t = &ps->t, *r = &ps->reported;
	for (size_t i = 0; i < FINDER__COUNT; i++)
		if (t->seen[i] > r->seen[i])
			count(ps, "finder_urls_seen_total", "Relay URL strings read from archived events, by where.",
			      "source", finder_source_name((enum finder_source)i), (double)(t->seen[i] - r->seen[i]));
	for (size_t i = 0; i < DROP__COUNT; i++)
		if (t->dropped[i] > r->dropped[i])
			count(ps, "finder_urls_dropped_total", "URLs found that are not usable relay URLs, by reason.",
			      "reason", drop_names[i], (double)(t->dropped[i] - r->dropped[i]));
	if (t->invalid > r->invalid)
		count(ps, "finder_invalid_events_total", "Archived events whose stored tags are not a JSON array.", NULL,
		      NULL, (double)(t->invalid - r->invalid));
	*r = *t;
}

/* Commits the batch: its candidates and its queue rows together. Returns 0, or -1 (logged). */
static int commit(struct pass *ps)
{
	struct batch *b = &ps->b;
	struct db_candidate *dc = malloc((b->n ? b->n : 1) * sizeof(*dc));
	struct db_finder_result r = { 0 };
	int rc = -1;
	if (!dc) {
		log_error(&ps->ctx->log, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < b->n; i++)
		dc[i] = (struct db_candidate){ .url = b->cands[i].url, .network = b->cands[i].network,
					       .source = finder_source_name(b->cands[i].source),
					       .event_id = b->cands[i].event_id };
	if (db_finder_commit(ps->db, b->seqs, b->n_seqs, dc, b->n, wall_ms() / 1000, &r) != DB_OK) {
		log_error(&ps->ctx->log, "cannot store candidates", LOG_S("error", db_error(ps->db)));
		goto out;
	}
	ps->t.db.inserted += r.inserted;
	ps->t.db.known += r.known;
	ps->t.db.events_done += r.events_done;
	count(ps, "finder_candidates_new_total", "Relay candidates stored for the validator.", NULL, NULL,
	      (double)r.inserted);
	count(ps, "finder_candidates_known_total", "URLs found that were already relays or candidates.", NULL, NULL,
	      (double)r.known);
	count(ps, "finder_events_scanned_total", "Archived events read by the finder (committed).", NULL, NULL,
	      (double)r.events_done);
	report(ps);
	for (size_t i = 0; i < b->n; i++)
		memo_add(&ps->memo, b->cands[i].url);
	batch_reset(b);
	rc = 0;
out:
	free(dc);
	return rc;
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
		if (ps->oom || batch_seq(&ps->b, pg.rows[i].seq) < 0) {
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

static int open_db(struct pass *ps)
{
	struct db_options opt;
	char err[512];
	db_options_from_config(&opt, ps->ctx->cfg);
	opt.application_name = "brotr-finder";
	opt.stop = ps->ctx->stop;
	opt.log = &ps->ctx->log;
	if (db_open(&ps->db, &opt, err, sizeof(err)) != DB_OK) {
		log_error(&ps->ctx->log, "database unavailable", LOG_S("error", err));
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
	if ((rc = open_db(&ps)) == 0)
		while ((rc = scan_page(&ps, &after, deadline)) == 1 && !*ctx->stop && mono_ms() < deadline)
			;
	summary(&ps, rc < 0 ? "failed" : *ctx->stop ? "stopped" : mono_ms() >= deadline ? "budget" : "drained");
	batch_free(&ps.b);
	memo_free(&ps.memo);
	json_doc_free(&ps.doc);
	db_close(ps.db);
	return rc < 0 ? -1 : 0;
}

static long long finder_interval(const struct config *cfg)
{
	return cfg->finder.interval_ms;
}

static int finder_check(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->brotr.finder)
		return 0;
	snprintf(err, errlen, "this implementation does not run the finder ([brotr] finder = false)");
	return -1;
}

const struct service_def finder_service = {
	.name = "finder",
	.interval_ms = finder_interval,
	.check = finder_check,
	.pass = finder_pass,
};
