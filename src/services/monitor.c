/* monitor.c — brotr monitor: checks the relays due (NIP-11; NIP-66 open, read, write; NIP-42, NIP-77 observed) and stores one snapshot per relay per pass. */
#include "services/services.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "net/net.h"
#include "nostr/ctx.h"
#include "nostr/keys.h"
#include "services/monitor_probe.h"
#include "services/monitor_store.h"
#include "services/publisher.h"
#include "services/service_db.h"

#define PAGE_SIZE 1000   /* relays per db_relays_due call (keyset paging by URL) */
#define CHUNK_SIZE 10000 /* relays read before their checks start; the next chunk once these are done */
#define SLICE_MS 100     /* event loop slice between deadline checks and hand-offs */
#define FLUSH_MS 5000    /* a partial batch of snapshots goes to the database at least this often */

/* Across passes: the secp256k1 context and the configured key. */
struct monitor_state {
	struct nostr_ctx *nctx;
	struct nostr_key key;
	int have_key;
	struct auth_identity auth; /* [auth]: answers NIP-42 challenges */
};

/* What the work list says of one due relay. */
struct due_relay {
	enum db_network network;
	int nip45; /* as the synchronizer saw it (db_relay_row) */
};

/* The relays of the current chunk, in URL order. */
struct due {
	char **urls;
	struct due_relay *rel;
	size_t n, next;
};

struct tally {
	size_t checked, opened, readable, writable, skipped, nip11_ok, mined;
	size_t tls, tls_unverified, tls_expiring; /* wss checks with TLS facts */
};

struct pass {
	struct service_ctx *ctx;
	const struct config *cfg;
	struct monitor_state *st;
	int64_t generated_at;   /* the pass's start (Unix s): every snapshot of the pass carries it */
	int64_t checked_before;
	struct db *db;
	struct nostr_key key;   /* signs the write tests: the configured key, or an ephemeral one */
	struct monitor_env env;
	struct monitor_store *store;
	struct due due;
	char *after;            /* the last URL read: where the next page starts */
	int more;               /* more relays may be due after this chunk */
	size_t budget;          /* relays this pass may still take ([monitor] max_relays) */
	struct monitor_probe **slots;
	size_t n_slots, in_flight;
	uint64_t last_flush;
	struct tally t;
	struct publisher *pub;  /* [publisher] enabled: what the checks observed goes out as NIP-66 events */
};

/* ---- metrics ---- */

static void count(struct pass *ps, const char *name, const char *help, const char *k1, const char *v1,
		  const char *k2, const char *v2, double n)
{
	metrics_count(ps->ctx->metrics, name, help, k1, v1, k2, v2, n);
}

static void gauge(struct pass *ps, const char *name, const char *help, size_t v)
{
	metric_set(metrics_get(ps->ctx->metrics, METRIC_GAUGE, name, help, NULL), (double)v);
}

static void count_rtt(struct pass *ps, const char *step, const char *net, int64_t ms)
{
	if (ms < 0)
		return;
	count(ps, "monitor_rtt_seconds_total", "Sum of measured round-trip times by step and network.", "step",
	      step, "network", net, (double)ms / 1000.0);
	count(ps, "monitor_rtt_samples_total", "Round-trip times measured, by step and network.", "step", step,
	      "network", net, 1);
}

static void count_flag(struct pass *ps, const char *name, const char *help, const char *net, int v, size_t *tally)
{
	if (v == NIP66_ABSENT)
		return;
	count(ps, name, help, "network", net, "result", v ? "yes" : "no", 1);
	*tally += v == 1;
}

/* The certificate of a wss check: verified or not, and expiring within [monitor] tls_expiry_warning. */
static void account_tls(struct pass *ps, const struct monitor_probe *p, const char *net)
{
	const struct net_tls_facts *f = p->tls;
	int expiring = f->not_after - ps->generated_at <= ps->cfg->monitor.tls_expiry_warning_ms / 1000;
	ps->t.tls++;
	ps->t.tls_unverified += !f->verified;
	ps->t.tls_expiring += expiring;
	count(ps, "monitor_tls_total", "wss checks with TLS facts, by network and whether the certificate verified.",
	      "network", net, "verified", f->verified ? "yes" : "no", 1);
	if (expiring)
		log_info(&ps->ctx->log, "relay certificate expiring", LOG_S("relay", p->url),
			 LOG_I("days_left", monitor_tls_days_left(f, ps->generated_at)), LOG_I("not_after", f->not_after));
}

/* A finished check: tallies, metrics and a debug line. */
static void account(struct pass *ps, const struct monitor_probe *p)
{
	const struct monitor_outcome *o = &p->out;
	const char *net = net_network_name(p->nw);
	ps->t.checked++;
	count(ps, "monitor_relays_checked_total", "Relays checked, by network.", "network", net, NULL, NULL, 1);
	if (o->r.openable != 1)
		count(ps, "monitor_relays_failed_total", "Relays that could not be opened, by network and category.",
		      "network", net, "error", o->open.error, 1);
	count_flag(ps, "monitor_openable_total", "Open tests by network and result.", net, o->r.openable, &ps->t.opened);
	count_flag(ps, "monitor_readable_total", "Read tests by network and result.", net, o->r.readable, &ps->t.readable);
	count_flag(ps, "monitor_writable_total", "Write tests by network and result.", net, o->r.writable, &ps->t.writable);
	count_rtt(ps, "open", net, o->r.rtt_open);
	count_rtt(ps, "read", net, o->r.rtt_read);
	count_rtt(ps, "write", net, o->r.rtt_write);
	count(ps, "monitor_nip11_total", "NIP-11 documents fetched and parsed (ok) or not (failed).", "result",
	      p->nip11_ok ? "ok" : "failed", NULL, NULL, 1);
	ps->t.nip11_ok += p->nip11_ok;
	if (o->auth[0])
		count(ps, "monitor_auth_total", "NIP-42 as observed on relays that opened, by state.", "state", o->auth,
		      "required", o->auth_required ? "yes" : "no", 1);
	if (o->nip77 != NIP66_ABSENT)
		count(ps, "monitor_nip77_total", "NIP-77 probes by network and result.", "network", net, "result",
		      o->nip77 ? "yes" : "no", 1);
	if (p->tls)
		account_tls(ps, p, net);
	if (o->pow) {
		ps->t.mined++;
		count(ps, "monitor_pow_events_total", "Write-test events mined for NIP-13 proof of work.", NULL, NULL,
		      NULL, NULL, 1);
	}
	log_debug(&ps->ctx->log, "relay checked", LOG_S("relay", p->url), LOG_I("openable", o->r.openable),
		  LOG_I("readable", o->r.readable), LOG_I("writable", o->r.writable), LOG_I("rtt_open", o->r.rtt_open),
		  LOG_I("rtt_read", o->r.rtt_read), LOG_I("rtt_write", o->r.rtt_write), LOG_B("nip11", p->nip11_ok),
		  LOG_S("open_error", o->open.error), LOG_S("read_error", o->read.error),
		  LOG_S("write_error", o->write.error));
}

static void skipped(struct pass *ps, const char *url, const char *why)
{
	ps->t.skipped++;
	count(ps, "monitor_relays_skipped_total", "Relays left due because the check could not run here.", NULL, NULL,
	      NULL, NULL, 1);
	log_warn(&ps->ctx->log, "relay not checked", LOG_S("relay", url), LOG_S("reason", why));
}

/* ---- the work list ---- */

static void due_free(struct due *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->urls[i]);
	free(d->urls);
	free(d->rel);
	memset(d, 0, sizeof(*d));
}

/* Moves the URLs of l into d. Returns 0, or -1 when out of memory. */
static int due_take(struct due *d, struct db_relay_list *l)
{
	char **u = realloc(d->urls, (d->n + l->n + 1) * sizeof(*u));
	if (u)
		d->urls = u;
	struct due_relay *w = realloc(d->rel, (d->n + l->n + 1) * sizeof(*w));
	if (w)
		d->rel = w;
	if (!u || !w)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		d->urls[d->n] = l->rows[i].url;
		d->rel[d->n++] = (struct due_relay){ l->rows[i].network, l->rows[i].nip45 };
		l->rows[i].url = NULL;
	}
	return 0;
}

/* Reads the next chunk of due relays. Returns 0, or -1 (logged). */
static int read_chunk(struct pass *ps)
{
	size_t want = ps->budget < CHUNK_SIZE ? ps->budget : CHUNK_SIZE;
	due_free(&ps->due);
	ps->more = 0;
	while (ps->due.n < want) {
		struct db_relay_list l;
		size_t lim = want - ps->due.n < PAGE_SIZE ? want - ps->due.n : PAGE_SIZE;
		if (db_relays_due(ps->db, ps->checked_before, ps->after, lim, &l) != DB_OK) {
			log_error(&ps->ctx->log, "cannot read the relays due", LOG_S("error", db_error(ps->db)));
			return -1;
		}
		int rc = due_take(&ps->due, &l);
		ps->more = l.n == lim;
		db_relay_list_free(&l);
		if (rc == 0 && ps->due.n) {
			free(ps->after);
			rc = (ps->after = strdup(ps->due.urls[ps->due.n - 1])) ? 0 : -1;
		}
		if (rc < 0) {
			log_error(&ps->ctx->log, "out of memory");
			return -1;
		}
		if (!ps->more)
			break;
	}
	ps->budget -= ps->due.n;
	if (ps->budget == 0)
		ps->more = 0;
	return 0;
}

/* ---- the checks ---- */

/* A relay whose websocket opened: its 30166 event is queued (before the snapshot gives up its NIP-11). */
static void publish(struct pass *ps, const struct monitor_probe *p, const struct monitor_snapshot *snap)
{
	struct pub_relay_facts f;
	if (!ps->pub || p->out.r.openable != 1)
		return;
	pub_relay_facts_init(&f, p->url, net_network_name(p->nw));
	monitor_pub_facts(&p->out, p->nip45, snap->nip11_json, snap->nip11_len, ps->cfg->monitor.write_kind, &f);
	publisher_add(ps->pub, &f, wall_ms() / 1000);
}

static void complete(struct pass *ps, size_t i)
{
	struct monitor_probe *p = ps->slots[i];
	struct monitor_snapshot snap;
	if (p->local_failure) {
		const struct monitor_outcome *o = &p->out;
		const char *why = o->open.error[0] ? o->open.reason : o->read.error[0] ? o->read.reason :
				  o->write.error[0] ? o->write.reason : o->nip11.reason;
		skipped(ps, p->url, *why ? why : "out of memory");
	} else {
		if (monitor_probe_snapshot(p, ps->generated_at, &snap) < 0) {
			log_error(&ps->ctx->log, "out of memory for a snapshot", LOG_S("relay", p->url));
		} else {
			publish(ps, p, &snap);
			monitor_store_add(ps->store, &snap);
		}
		account(ps, p); /* after the snapshot, which settles the NIP-42 facts */
	}
	monitor_probe_free(p);
	free(p);
	ps->slots[i] = NULL;
	ps->in_flight--;
}

static void start_one(struct pass *ps, const char *url, const struct due_relay *rel)
{
	enum db_network dn = rel->network;
	size_t i = 0;
	while (ps->slots[i])
		i++;
	enum net_network nw = dn == DB_TOR ? NET_TOR : NET_CLEARNET;
	if (strlen(url) > RELAY_URL_MAX) {
		skipped(ps, url, "URL longer than 255 bytes");
		return;
	}
	if (nw == NET_TOR && !*ps->cfg->tor.socks_proxy) {
		skipped(ps, url, "a tor relay needs [tor] socks_proxy");
		return;
	}
	struct monitor_probe *p = malloc(sizeof(*p));
	if (!p) {
		skipped(ps, url, "out of memory");
		return;
	}
	monitor_probe_start(p, &ps->env, url, nw);
	p->nip45 = rel->nip45;
	ps->slots[i] = p;
	ps->in_flight++;
}

/* Whether checks may start: no stop, and the database writer neither failed nor behind. */
static int may_start(struct pass *ps)
{
	return !*ps->ctx->stop && !monitor_store_failed(ps->store) && !monitor_store_backlogged(ps->store) &&
	       !(ps->pub && publisher_backlogged(ps->pub));
}

/* Starts checks while there is room: free slots, relays left, may_start. */
static void start_probes(struct pass *ps)
{
	struct due *d = &ps->due;
	while (ps->in_flight < ps->n_slots && d->next < d->n && may_start(ps)) {
		start_one(ps, d->urls[d->next], &d->rel[d->next]);
		d->next++;
	}
}

/* Hands signed events to their probes, applies deadlines, stores what finished. */
static void collect(struct pass *ps)
{
	struct monitor_signed s;
	while (ps->env.signer && monitor_signer_take(ps->env.signer, &s))
		monitor_probe_signed(s.token, &s);
	uint64_t now = mono_ms();
	for (size_t i = 0; i < ps->n_slots; i++) {
		if (!ps->slots[i])
			continue;
		monitor_probe_tick(ps->slots[i], now);
		if (monitor_probe_finished(ps->slots[i]))
			complete(ps, i);
	}
	if (ps->pub)
		publisher_poll(ps->pub);
	if (now - ps->last_flush >= FLUSH_MS) {
		monitor_store_flush(ps->store);
		ps->last_flush = now;
	}
}

/* Nothing on the network: the checks in flight wait for the signer. */
static void idle_wait(struct pass *ps)
{
	if (ps->env.signer) {
		monitor_signer_wait(ps->env.signer, SLICE_MS);
	} else {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Checks every relay of the chunk. Returns when done or stopped (in-flight checks are abandoned). */
static void run_chunk(struct pass *ps)
{
	const volatile sig_atomic_t *stop = ps->ctx->stop;
	for (;;) {
		start_probes(ps);
		if (ps->in_flight == 0 && (ps->due.next >= ps->due.n || *stop || monitor_store_failed(ps->store)))
			return;
		if (ps->in_flight == 0 && (!ps->pub || publisher_idle(ps->pub))) { /* the writer is behind */
			monitor_store_wait(ps->store, SLICE_MS);
			continue;
		}
		int r = net_run(ps->env.net, stop, SLICE_MS);
		if (r < 0)
			return;
		collect(ps);
		if (r == 1 && ps->in_flight)
			idle_wait(ps);
	}
}

/* ---- a pass ---- */

static int open_signing(struct pass *ps)
{
	struct nostr_err e = { 0 };
	if (!ps->cfg->monitor.write_test)
		return 0;
	if (ps->st->have_key) {
		ps->key = ps->st->key;
	} else if (nostr_key_generate(ps->st->nctx, &ps->key, &e) < 0) {
		log_error(&ps->ctx->log, "cannot generate an ephemeral key");
		return -1;
	}
	ps->env.signer = monitor_signer_new(ps->st->nctx, &ps->key, (uint32_t)ps->cfg->monitor.write_kind);
	if (!ps->env.signer) {
		log_error(&ps->ctx->log, "cannot start the signing thread");
		return -1;
	}
	return 0;
}

static int open_net(struct pass *ps)
{
	const struct config *cfg = ps->cfg;
	struct net_options o;
	char err[256];
	net_options_from_config(&o, cfg);
	ps->env.net = net_new(&o, &ps->ctx->log, ps->ctx->metrics, err, sizeof(err));
	if (!ps->env.net) {
		log_error(&ps->ctx->log, "cannot start the network layer", LOG_S("error", err));
		return -1;
	}
	ps->env.max_pow = (unsigned)cfg->monitor.max_pow;
	ps->env.auth = &ps->st->auth;
	ps->env.auth_disabled = !cfg->auth.enabled && *cfg->auth.private_key;
	ps->env.nip77_test = cfg->monitor.nip77_test;
	ps->env.response_timeout_ms[NET_CLEARNET] = cfg->network.clearnet.response_timeout_ms;
	ps->env.response_timeout_ms[NET_TOR] = cfg->network.tor.response_timeout_ms;
	ps->env.log = ps->ctx->log;
	ps->env.metrics = ps->ctx->metrics;
	ps->n_slots = (size_t)(cfg->network.clearnet.max_connections + cfg->network.tor.max_connections);
	ps->slots = calloc(ps->n_slots, sizeof(*ps->slots));
	return ps->slots ? 0 : -1;
}

static int pass_open(struct pass *ps)
{
	int64_t start_ms = wall_ms();
	ps->generated_at = start_ms / 1000;
	ps->checked_before = monitor_checked_before(start_ms, ps->cfg->monitor.interval_ms);
	ps->budget = ps->cfg->monitor.max_relays ? (size_t)ps->cfg->monitor.max_relays : SIZE_MAX;
	ps->last_flush = mono_ms();
	monitor_env_init(&ps->env);
	if (service_db_open(ps->ctx, "brotr-monitor", &ps->db) < 0 || open_signing(ps) < 0 || open_net(ps) < 0)
		return -1;
	ps->store = monitor_store_new(ps->db, (size_t)ps->cfg->database.batch_size, &ps->ctx->log, ps->ctx->metrics);
	if (!ps->store) {
		log_error(&ps->ctx->log, "cannot start the database writer");
		return -1;
	}
	if (ps->cfg->publisher.enabled &&
	    !(ps->pub = publisher_new(ps->cfg, ps->st->nctx, &ps->st->key, ps->env.net, ps->db, ps->generated_at,
				      &ps->ctx->log, ps->ctx->metrics))) {
		log_error(&ps->ctx->log, "cannot start the publisher");
		return -1;
	}
	return 0;
}

/* The checks are done: what the publisher holds goes out, within the network's timeouts. */
static void drain_publisher(struct pass *ps)
{
	if (!ps->pub)
		return;
	publisher_finish(ps->pub);
	while (!publisher_idle(ps->pub) && !*ps->ctx->stop) {
		if (net_run(ps->env.net, ps->ctx->stop, SLICE_MS) < 0)
			break;
		publisher_poll(ps->pub);
	}
}

/* Stops everything (abandoning checks in flight), then commits what is complete. Returns 0, or -1
 * when snapshots could not be stored. */
static int pass_close(struct pass *ps, struct monitor_store_stats *stats)
{
	int rc = 0;
	monitor_signer_free(ps->env.signer);
	net_free(ps->env.net); /* no callback follows: the probes and the publisher can go */
	publisher_free(ps->pub, NULL);
	for (size_t i = 0; ps->slots && i < ps->n_slots; i++) {
		if (ps->slots[i])
			monitor_probe_free(ps->slots[i]);
		free(ps->slots[i]);
	}
	free(ps->slots);
	if (ps->store)
		rc = monitor_store_finish(ps->store, stats);
	due_free(&ps->due);
	free(ps->after);
	db_close(ps->db);
	nostr_key_wipe(&ps->key); /* the pass's copy */
	monitor_env_free(&ps->env);
	return rc;
}

static void summary(struct pass *ps, const struct monitor_store_stats *s)
{
	log_info(&ps->ctx->log, "monitor pass summary", LOG_U("checked", ps->t.checked), LOG_U("open", ps->t.opened),
		 LOG_U("readable", ps->t.readable), LOG_U("writable", ps->t.writable),
		 LOG_U("failed", ps->t.checked - ps->t.opened), LOG_U("skipped", ps->t.skipped),
		 LOG_U("abandoned", ps->in_flight), LOG_U("nip11_ok", ps->t.nip11_ok), LOG_U("pow_mined", ps->t.mined),
		 LOG_U("snapshots", s->stored), LOG_U("snapshots_lost", s->lost), LOG_U("nip11_new", s->nip11_new),
		 LOG_U("nip11_shared", s->nip11_sent - s->nip11_new), LOG_U("nip66_new", s->nip66_new),
		 LOG_U("nip66_shared", s->nip66_sent - s->nip66_new), LOG_U("tls", ps->t.tls),
		 LOG_U("tls_unverified", ps->t.tls_unverified), LOG_U("tls_expiring", ps->t.tls_expiring),
		 LOG_U("tls_new", s->tls_new));
	gauge(ps, "monitor_tls_expiring_relays",
	      "wss relays checked in the last pass whose certificate expires within [monitor] tls_expiry_warning "
	      "(or has expired).", ps->t.tls_expiring);
	gauge(ps, "monitor_tls_unverified_relays",
	      "wss relays checked in the last pass whose certificate did not verify.", ps->t.tls_unverified);
}

static int monitor_pass(struct service_ctx *ctx)
{
	struct pass ps = { .ctx = ctx, .cfg = ctx->cfg, .st = ctx->state };
	struct monitor_store_stats stats = { 0 };
	int rc = pass_open(&ps);
	if (rc == 0)
		log_info(&ctx->log, "checking relays due", LOG_I("checked_before", ps.checked_before),
			 LOG_B("write_test", ctx->cfg->monitor.write_test));
	while (rc == 0 && !*ctx->stop) {
		if ((rc = read_chunk(&ps)) < 0 || ps.due.n == 0)
			break;
		run_chunk(&ps);
		if (!ps.more || monitor_store_failed(ps.store))
			break;
	}
	if (rc == 0)
		drain_publisher(&ps);
	if (pass_close(&ps, &stats) < 0)
		rc = -1;
	summary(&ps, &stats);
	return rc;
}

/* ---- the service ---- */

static long long monitor_interval(const struct config *cfg)
{
	return cfg->monitor.interval_ms;
}

static int monitor_check(const struct config *cfg, char *err, size_t errlen)
{
	if (auth_check_config(cfg, err, errlen) < 0 || publisher_check_config(cfg, err, errlen) < 0)
		return -1;
	if (!*cfg->monitor.private_key || nostr_key_check_str(cfg->monitor.private_key) == 0)
		return 0;
	snprintf(err, errlen, "[monitor] private_key (BROTR_MONITOR_PRIVATE_KEY) is not a usable secret key: "
			      "expected 64 hex characters or an nsec1... string");
	return -1;
}

static int monitor_open(struct service_ctx *ctx)
{
	struct monitor_state *st = calloc(1, sizeof(*st));
	struct nostr_err e = { 0 };
	if (!st || !(st->nctx = nostr_ctx_new())) {
		log_error(&ctx->log, "out of memory");
		free(st);
		return -1;
	}
	if (*ctx->cfg->monitor.private_key) {
		if (nostr_key_from_str(st->nctx, &st->key, ctx->cfg->monitor.private_key, &e) < 0) {
			log_error(&ctx->log, "unusable [monitor] private_key");
			nostr_ctx_free(st->nctx);
			free(st);
			return -1;
		}
		st->have_key = 1;
	}
	if (auth_identity_load(&st->auth, st->nctx, ctx->cfg) < 0) {
		log_error(&ctx->log, "unusable [auth] private_key");
		nostr_key_wipe(&st->key);
		nostr_ctx_free(st->nctx);
		free(st);
		return -1;
	}
	ctx->state = st;
	return 0;
}

static void monitor_close(struct service_ctx *ctx)
{
	struct monitor_state *st = ctx->state;
	if (!st)
		return;
	nostr_key_wipe(&st->key);
	auth_identity_wipe(&st->auth);
	nostr_ctx_free(st->nctx);
	free(st);
	ctx->state = NULL;
}

const struct service_def monitor_service = {
	.name = "monitor",
	.interval_ms = monitor_interval,
	.check = monitor_check,
	.open = monitor_open,
	.pass = monitor_pass,
	.close = monitor_close,
};
