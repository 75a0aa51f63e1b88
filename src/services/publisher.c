/* publisher.c — NIP-66 publishing inside a monitor pass: rounds of events decided against what was published, sent to the publish relays, recorded once accepted. */
#include "services/publisher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/relay.h"
#include "nostr/json.h"
#include "nostr/message.h"
#include "nostr/relay_url.h"
#include "publications.h"

#define ANNOUNCE_EVERY_S 86400 /* the monitor's own events are announced again at least daily */

struct pub_item {
	char key[RELAY_URL_MAX + 16];
	uint32_t kind;
	unsigned char facts[32];
	int64_t expires_at;
	struct nostr_event ev; /* built when queued, signed when published */
	struct buf msg;        /* ["EVENT",...] */
	int accepted;          /* a relay took it */
	int answered;          /* a relay answered it */
};

struct pub_target {
	struct publisher *pub;
	char url[RELAY_URL_MAX + 1];
	enum net_network nw;
	struct relay_conn *conn; /* NULL once its on_close ran */
	size_t next;             /* the round's next event to send */
	size_t answered;
	unsigned char got[PUBLISHER_QUEUE]; /* answers by event, this round */
};

struct publisher {
	const struct nostr_ctx *nctx;
	const struct nostr_key *key;
	struct net *net;
	struct db *db;
	struct logger log;
	struct metrics *metrics;
	int64_t interval_s, expiration_s;
	struct pub_target targets[PUBLISHER_RELAYS_MAX];
	size_t n_targets;
	struct pub_item **queue; /* grows past PUBLISHER_QUEUE only by the checks in flight when it filled */
	size_t n_queue, cap_queue;
	struct pub_item *round[PUBLISHER_QUEUE]; /* the events of the round under way */
	size_t n_round;
	size_t targets_left;  /* targets of the round not done */
	int finishing;
	struct publisher_stats st;
	/* parsing scratch for the relays' answers */
	struct json_doc doc;
	struct nostr_msg msg;
	struct nostr_event ev;
};

/* ---- configuration ---- */

/* Splits [publisher] relays into up to PUBLISHER_RELAYS_MAX normalised URLs. Returns the count, or
 * -1 with err naming the bad entry. */
static int parse_relays(const struct config *cfg, struct relay_url *out, char *err, size_t errlen)
{
	const char *s = cfg->publisher.relays;
	unsigned flags = cfg->network.allow_local ? RELAY_URL_ALLOW_LOCAL : 0;
	int n = 0;
	while (*s) {
		s += strspn(s, " \t");
		size_t len = strcspn(s, ",");
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		const char *why = NULL;
		if (len) {
			if (n == PUBLISHER_RELAYS_MAX) {
				snprintf(err, errlen, "[publisher] relays: more than %d relays", PUBLISHER_RELAYS_MAX);
				return -1;
			}
			if (relay_url_parse(s, len, flags, &out[n], &why) < 0) {
				snprintf(err, errlen, "[publisher] relays: '%.*s': %s", (int)(len > 200 ? 200 : len), s, why);
				return -1;
			}
			n++;
		}
		s += strcspn(s, ",");
		s += *s == ',';
	}
	return n;
}

static int profile_ok(const char *profile)
{
	struct json_doc d;
	struct nostr_err e;
	json_doc_init(&d);
	int ok = json_parse(&d, profile, strlen(profile), &e) == 0 && d.tok[0].type == JSON_OBJECT;
	json_doc_free(&d);
	return ok;
}

int publisher_check_config(const struct config *cfg, char *err, size_t errlen)
{
	struct relay_url *u = calloc(PUBLISHER_RELAYS_MAX, sizeof(*u));
	int rc = -1;
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!cfg->publisher.enabled)
		rc = 0;
	else if (!*cfg->monitor.private_key)
		snprintf(err, errlen, "[publisher] enabled needs [monitor] private_key (BROTR_MONITOR_PRIVATE_KEY): "
				      "the published events are signed with it");
	else if ((rc = parse_relays(cfg, u, err, errlen)) == 0)
		snprintf(err, errlen, "[publisher] enabled needs at least one URL in [publisher] relays"), rc = -1;
	else if (rc > 0 && *cfg->publisher.profile && !profile_ok(cfg->publisher.profile))
		snprintf(err, errlen, "[publisher] profile is not a JSON object"), rc = -1;
	free(u);
	return rc < 0 ? -1 : 0;
}

/* ---- queueing ---- */

static void item_free(struct pub_item *it)
{
	if (!it)
		return;
	nostr_event_free(&it->ev);
	buf_free(&it->msg);
	free(it);
}

static struct pub_item *item_new(const char *key, uint32_t kind, int64_t expires_at)
{
	struct pub_item *it = calloc(1, sizeof(*it));
	if (!it)
		return NULL;
	snprintf(it->key, sizeof(it->key), "%s", key);
	it->kind = kind;
	it->expires_at = expires_at;
	nostr_event_init(&it->ev);
	buf_init(&it->msg);
	return it;
}

static void count(struct publisher *p, const char *name, const char *help, const char *k1, const char *v1,
		  const char *k2, const char *v2, size_t n)
{
	if (n)
		metrics_count(p->metrics, name, help, k1, v1, k2, v2, (double)n);
}

static void lost(struct publisher *p, const char *key, const char *why)
{
	p->st.failed++;
	count(p, "publisher_failures_total", "Events not published for a local reason (memory, signing, database).",
	      NULL, NULL, NULL, NULL, 1);
	log_warn(&p->log, "event not published", LOG_S("key", key), LOG_S("reason", why));
}

/* Takes it (built) into the queue. */
static int enqueue(struct publisher *p, struct pub_item *it, int built)
{
	if (built && p->n_queue == p->cap_queue) {
		size_t cap = p->cap_queue ? 2 * p->cap_queue : PUBLISHER_QUEUE;
		struct pub_item **q = realloc(p->queue, cap * sizeof(*q));
		if (q)
			p->queue = q, p->cap_queue = cap;
	}
	if (!built || p->n_queue == p->cap_queue) {
		lost(p, it->key, "out of memory");
		item_free(it);
		return -1;
	}
	p->queue[p->n_queue++] = it;
	p->st.queued++;
	return 0;
}

int publisher_add(struct publisher *p, const struct pub_relay_facts *f, int64_t now)
{
	struct nostr_err e = { 0 };
	struct pub_item *it = item_new(f->url, 30166, now + p->expiration_s);
	if (!it) {
		lost(p, f->url, "out of memory");
		return -1;
	}
	int built = pub_event_relay(&it->ev, f, now, it->expires_at, it->facts, &e) == 0;
	return enqueue(p, it, built);
}

/* The monitor's own events: 10166 always, 0 and 10002 when configured. */
static void queue_announcements(struct publisher *p, const struct config *cfg, int64_t now)
{
	struct nostr_err e = { 0 };
	struct pub_monitor_facts m = { .frequency_s = p->interval_s };
	const struct config_net_limits *c = &cfg->network.clearnet;
	static const char *const names[4] = { "open", "read", "write", "nip11" };
	const int64_t ms[4] = { c->connect_timeout_ms + c->tls_timeout_ms + c->upgrade_timeout_ms,
				c->response_timeout_ms, c->response_timeout_ms,
				c->connect_timeout_ms + c->tls_timeout_ms + c->upgrade_timeout_ms + c->response_timeout_ms };
	for (int i = 0; i < 4; i++) {
		if (i == 2 && !cfg->monitor.write_test)
			continue;
		m.timeout_checks[m.n_timeouts] = names[i];
		m.timeout_ms[m.n_timeouts++] = ms[i];
	}
	m.checks[m.n_checks++] = "open", m.checks[m.n_checks++] = "read";
	if (cfg->monitor.write_test)
		m.checks[m.n_checks++] = "write";
	m.checks[m.n_checks++] = "nip11", m.checks[m.n_checks++] = "auth", m.checks[m.n_checks++] = "ssl";
	if (cfg->monitor.nip77_test)
		m.checks[m.n_checks++] = "nip77";
	m.networks[m.n_networks++] = "clearnet";
	if (*cfg->tor.socks_proxy)
		m.networks[m.n_networks++] = "tor";
	struct pub_item *it = item_new("kind:10166", 10166, now + ANNOUNCE_EVERY_S);
	if (it)
		enqueue(p, it, pub_event_monitor(&it->ev, &m, now, it->facts, &e) == 0);
	if (*cfg->publisher.profile && (it = item_new("kind:0", 0, now + ANNOUNCE_EVERY_S)))
		enqueue(p, it, pub_event_profile(&it->ev, cfg->publisher.profile, now, it->facts, &e) == 0);
	if (cfg->publisher.relay_list && (it = item_new("kind:10002", 10002, now + ANNOUNCE_EVERY_S))) {
		const char *urls[PUBLISHER_RELAYS_MAX];
		for (size_t i = 0; i < p->n_targets; i++)
			urls[i] = p->targets[i].url;
		enqueue(p, it, pub_event_relay_list(&it->ev, urls, p->n_targets, now, it->facts, &e) == 0);
	}
}

/* ---- the publish relays ---- */

/* Sends the target's next events while fewer than PUBLISHER_WINDOW are unanswered. */
static void pump(struct pub_target *t)
{
	struct publisher *p = t->pub;
	while (t->conn && t->next < p->n_round && t->next - t->answered < PUBLISHER_WINDOW) {
		const struct pub_item *it = p->round[t->next];
		if (relay_conn_send(t->conn, it->msg.data, it->msg.len, 1) < 0)
			break; /* the send queue is full: the next answer sends more */
		t->next++;
	}
	if (t->conn && t->answered == p->n_round)
		relay_conn_close(t->conn);
}

static void t_open(struct relay_conn *c, void *user, long long rtt_open_ms)
{
	(void)c, (void)rtt_open_ms;
	pump(user);
}

/* An OK for one of the events this target was sent. */
static void answered(struct pub_target *t, const struct nostr_msg *m)
{
	struct publisher *p = t->pub;
	for (size_t i = 0; i < t->next; i++) {
		struct pub_item *it = p->round[i];
		if (t->got[i] || memcmp(it->ev.id, m->event_id, 32) != 0)
			continue;
		int dup = m->message.len >= 10 && memcmp(m->message.s, "duplicate:", 10) == 0;
		t->got[i] = 1;
		t->answered++;
		it->answered = 1;
		it->accepted |= m->accepted || dup;
		count(p, "publisher_answers_total", "OK answers of the publish relays, by relay and verdict.", "relay",
		      t->url, "accepted", m->accepted || dup ? "yes" : "no", 1);
		if (!m->accepted && !dup) {
			char why[201];
			snprintf(why, sizeof(why), "%.*s", (int)(m->message.len > 200 ? 200 : m->message.len), m->message.s);
			log_info(&p->log, "publish relay refused an event", LOG_S("relay", t->url), LOG_S("key", it->key),
				 LOG_S("reason", why));
		}
		return;
	}
}

static void t_message(struct relay_conn *c, void *user, const char *text, size_t len)
{
	struct pub_target *t = user;
	struct publisher *p = t->pub;
	struct nostr_err e = { 0 };
	(void)c;
	if (nostr_msg_parse(&p->msg, &p->doc, &p->ev, text, len, &e) == 0 && p->msg.type == NOSTR_MSG_OK)
		answered(t, &p->msg);
	pump(t);
}

static void t_close(struct relay_conn *c, void *user, const struct relay_conn_status *st)
{
	struct pub_target *t = user;
	struct publisher *p = t->pub;
	(void)c;
	t->conn = NULL;
	p->targets_left--;
	if (t->answered < p->n_round) {
		count(p, "publisher_relay_failures_total", "Rounds a publish relay ended before answering every event.",
		      "relay", t->url, NULL, NULL, 1);
		log_warn(&p->log, "publish relay did not answer every event", LOG_S("relay", t->url),
			 LOG_U("answered", t->answered), LOG_U("events", p->n_round),
			 LOG_S("reason", st->err == NET_OK ? "closed" : st->reason));
	}
}

static const struct relay_conn_ops target_ops = { .on_open = t_open, .on_message = t_message, .on_close = t_close };

/* ---- rounds ---- */

/* Reads the rows of the queue's first n and moves what must go out into the round, signed; frees
 * the rest of those n. */
static int decide(struct publisher *p, size_t n, int64_t now)
{
	const char *keys[PUBLISHER_QUEUE] = { 0 };
	int found[PUBLISHER_QUEUE];
	unsigned char facts[PUBLISHER_QUEUE][32];
	int64_t expires[PUBLISHER_QUEUE];
	struct nostr_err e = { 0 };
	for (size_t i = 0; i < n; i++)
		keys[i] = p->queue[i]->key;
	if (db_publications_get(p->db, keys, n, found, facts, expires) != DB_OK) {
		log_error(&p->log, "cannot read what was published", LOG_S("error", db_error(p->db)));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct pub_item *it = p->queue[i];
		int same = found[i] && memcmp(facts[i], it->facts, 32) == 0 && expires[i] - now > p->interval_s * 3 / 2;
		if (same) {
			p->st.unchanged++;
			item_free(it);
		} else if (nostr_event_sign(p->nctx, &it->ev, p->key, &e) < 0 || nostr_build_event(&it->msg, &it->ev, &e) < 0) {
			lost(p, it->key, "cannot sign the event");
			item_free(it);
		} else {
			p->round[p->n_round++] = it;
		}
	}
	return 0;
}

static void start_round(struct publisher *p)
{
	size_t n = p->n_queue < PUBLISHER_QUEUE ? p->n_queue : PUBLISHER_QUEUE;
	if (decide(p, n, wall_ms() / 1000) < 0)
		for (size_t i = 0; i < n; i++)
			lost(p, p->queue[i]->key, "database"), item_free(p->queue[i]);
	memmove(p->queue, p->queue + n, (p->n_queue - n) * sizeof(*p->queue));
	p->n_queue -= n;
	if (p->n_round == 0)
		return;
	p->st.published += p->n_round;
	for (size_t i = 0; i < p->n_targets; i++) {
		struct pub_target *t = &p->targets[i];
		t->next = t->answered = 0;
		memset(t->got, 0, sizeof(t->got));
		p->targets_left++;
		t->conn = relay_conn_open(p->net, t->url, t->nw, &target_ops, t, NULL);
		if (!t->conn)
			p->targets_left--; /* out of memory: the round goes on without it */
	}
}

/* Counts the finished round, records what was accepted, frees it. */
static void end_round(struct publisher *p)
{
	struct db_publication rows[PUBLISHER_QUEUE];
	size_t n = 0, recorded = 0;
	for (size_t i = 0; i < p->n_round; i++) {
		struct pub_item *it = p->round[i];
		const char *result = it->accepted ? "accepted" : it->answered ? "refused" : "unanswered";
		char kind[16];
		snprintf(kind, sizeof(kind), "%u", it->kind);
		count(p, "publisher_events_total", "Events published, by kind and result (accepted by a publish relay, "
		      "refused by all that answered, unanswered).", "kind", kind, "result", result, 1);
		p->st.accepted += it->accepted;
		p->st.refused += !it->accepted && it->answered;
		p->st.unanswered += !it->answered;
		if (it->accepted) {
			rows[n] = (struct db_publication){ .key = it->key, .kind = (int32_t)it->kind,
							   .expires_at = it->expires_at };
			memcpy(rows[n].facts, it->facts, 32);
			memcpy(rows[n++].event_id, it->ev.id, 32);
		}
	}
	if (n && db_publications_record(p->db, rows, n, wall_ms() / 1000, &recorded) != DB_OK) {
		log_error(&p->log, "cannot record what was published", LOG_S("error", db_error(p->db)));
		p->st.failed += n;
	}
	p->st.recorded += recorded;
	for (size_t i = 0; i < p->n_round; i++)
		item_free(p->round[i]);
	p->n_round = 0;
}

void publisher_poll(struct publisher *p)
{
	if (p->n_round && p->targets_left == 0)
		end_round(p);
	if (p->n_round == 0 && p->n_queue && (p->n_queue >= PUBLISHER_QUEUE || p->finishing))
		start_round(p);
}

int publisher_backlogged(const struct publisher *p)
{
	return p->n_queue >= PUBLISHER_QUEUE;
}

void publisher_finish(struct publisher *p)
{
	p->finishing = 1;
	publisher_poll(p);
}

int publisher_idle(const struct publisher *p)
{
	return p->n_queue == 0 && p->n_round == 0;
}

/* ---- life ---- */

struct publisher *publisher_new(const struct config *cfg, const struct nostr_ctx *nctx, const struct nostr_key *key,
				struct net *net, struct db *db, int64_t now, const struct logger *lg, struct metrics *m)
{
	struct publisher *p = calloc(1, sizeof(*p));
	struct relay_url *u = calloc(PUBLISHER_RELAYS_MAX, sizeof(*u));
	char err[256];
	int n = -1;
	if (p && u && (n = parse_relays(cfg, u, err, sizeof(err))) < 0)
		log_error(lg, "unusable [publisher] relays", LOG_S("error", err));
	if (!p || !u || n <= 0) {
		free(u);
		free(p);
		return NULL;
	}
	*p = (struct publisher){ .nctx = nctx, .key = key, .net = net, .db = db, .log = *lg, .metrics = m,
				 .interval_s = cfg->monitor.interval_ms / 1000 };
	p->expiration_s = p->interval_s * cfg->publisher.expiration_intervals;
	for (int i = 0; i < n; i++) {
		struct pub_target *t = &p->targets[p->n_targets++];
		t->pub = p;
		snprintf(t->url, sizeof(t->url), "%s", u[i].url);
		t->nw = u[i].network == RELAY_NET_TOR ? NET_TOR : NET_CLEARNET;
	}
	free(u);
	json_doc_init(&p->doc);
	nostr_msg_init(&p->msg);
	nostr_event_init(&p->ev);
	queue_announcements(p, cfg, now);
	return p;
}

void publisher_free(struct publisher *p, struct publisher_stats *st)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_queue; i++)
		item_free(p->queue[i]);
	free(p->queue);
	for (size_t i = 0; i < p->n_round; i++)
		item_free(p->round[i]);
	log_info(&p->log, "publisher summary", LOG_U("queued", p->st.queued), LOG_U("unchanged", p->st.unchanged),
		 LOG_U("published", p->st.published), LOG_U("accepted", p->st.accepted), LOG_U("refused", p->st.refused),
		 LOG_U("unanswered", p->st.unanswered), LOG_U("recorded", p->st.recorded), LOG_U("failed", p->st.failed));
	if (st)
		*st = p->st;
	json_doc_free(&p->doc);
	nostr_msg_free(&p->msg);
	nostr_event_free(&p->ev);
	free(p);
}
