/* sync_tail.c — between passes, one subscription kept open on each relay and what arrives stored, batched, so those relays are seconds behind rather than an interval. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/error.h"
#include "services/sync_internal.h"

/* What the tail holds in a batch is committed at least this often. */
#define TAIL_FLUSH_MS 1000

struct sync_tail {
	struct sync_engine *e;
	const struct sync_target *t;
	struct sync_feed feed;
	struct nostr_filter filter; /* the configured filter from since on, no limit */
	struct relay_conn *conn;
	uint64_t received;
	int ended; /* the relay closed the subscription: its connection goes */
};

static void on_open(struct relay_conn *c, void *user, long long rtt_open_ms);
static void on_message(struct relay_conn *c, void *user, const char *text, size_t len);
static void on_close(struct relay_conn *c, void *user, const struct relay_conn_status *st);

static const struct relay_conn_ops ops = { .on_open = on_open, .on_message = on_message, .on_close = on_close };

/* (Re)subscribes from the last pass's start: live events may carry older times, so the filter never
 * narrows, and what a reconnection brings again is stored as a duplicate. */
static void on_open(struct relay_conn *c, void *user, long long rtt_open_ms)
{
	(void)rtt_open_ms;
	struct sync_tail *tl = user;
	struct sync_scratch *s = &tl->e->wire;
	struct nostr_err err = { 0 };
	buf_reset(&s->out);
	if (nostr_build_req(&s->out, "brotr-tail", &tl->filter, 1, &err) < 0 ||
	    relay_conn_send(c, s->out.data, s->out.len, 0) < 0)
		log_warn(&tl->e->log, "cannot subscribe for the tail", LOG_S("relay", tl->t->url));
}

static void take(struct sync_tail *tl, const struct nostr_event *ev)
{
	tl->received++;
	if (!nostr_filter_match(&tl->filter, ev)) {
		sync_pipeline_reject(tl->e->pipe, &tl->feed, "outside filter");
		return;
	}
	enum sync_add a = sync_pipeline_add(tl->e->pipe, &tl->feed, 0, ev);
	if (a == SYNC_ADD_FULL)
		sync_pipeline_commit(tl->e->pipe, &tl->feed, NULL);
	else if (a == SYNC_ADD_DB || a == SYNC_ADD_NOMEM)
		relay_conn_close(tl->conn);
}

static int ours(const struct nostr_msg *m)
{
	return m->sub_id.len == 10 && memcmp(m->sub_id.s, "brotr-tail", 10) == 0;
}

static void on_message(struct relay_conn *c, void *user, const char *text, size_t len)
{
	struct sync_tail *tl = user;
	struct sync_scratch *s = &tl->e->wire;
	struct nostr_err err = { 0 };
	int rc = nostr_msg_parse(&s->msg, &s->doc, &s->ev, text, len, &err);
	if (rc < 0) {
		sync_pipeline_reject(tl->e->pipe, &tl->feed,
				     s->msg.type == NOSTR_MSG_EVENT ? nostr_errc_name(err.code) : "malformed message");
		return;
	}
	if (s->msg.type == NOSTR_MSG_EVENT && ours(&s->msg)) {
		take(tl, &s->ev);
	} else if (s->msg.type == NOSTR_MSG_CLOSED && ours(&s->msg)) {
		log_warn(&tl->e->log, "the relay closed the tail's subscription", LOG_S("relay", tl->t->url),
			 LOG_S("reason", s->msg.message.s));
		tl->ended = 1;
		relay_conn_close(c);
	} else if (s->msg.type == NOSTR_MSG_NOTICE) {
		log_info(&tl->e->log, "relay notice", LOG_S("relay", tl->t->url), LOG_S("notice", s->msg.message.s));
	}
}

static void on_close(struct relay_conn *c, void *user, const struct relay_conn_status *st)
{
	(void)c;
	struct sync_tail *tl = user;
	sync_pipeline_commit(tl->e->pipe, &tl->feed, NULL);
	if (!st->will_reconnect || tl->ended)
		tl->conn = NULL;
	if (st->err != NET_OK)
		log_info(&tl->e->log, st->will_reconnect ? "tail connection lost, reconnecting" : "tail connection lost",
			 LOG_S("relay", tl->t->url), LOG_S("error", net_error_name(st->err)), LOG_S("reason", st->reason));
}

/* Connections to every target, subscribed from the last pass's start. Returns 0, or -1 (OOM). */
static int open_all(struct sync_engine *e, struct sync_tail *tails, const struct sync_target *targets, size_t n)
{
	struct relay_conn_opts opts = {
		.reconnect = 1, .backoff_min_ms = 1000, .backoff_max_ms = 60000, .idle_timeout_ms = -1,
	};
	for (size_t i = 0; i < n; i++) {
		struct sync_tail *tl = &tails[i];
		tl->e = e;
		tl->t = &targets[i];
		sync_pipeline_feed_init(&tl->feed, targets[i].url, targets[i].network);
		tl->filter = e->filter; /* shallow: since is the tail's own */
		tl->filter.since = e->pass_start;
		tl->filter.has_since = 1;
		tl->filter.has_until = tl->filter.has_limit = 0;
		enum net_network nw = targets[i].network == RELAY_NET_TOR ? NET_TOR : NET_CLEARNET;
		if (!(tl->conn = relay_conn_open(e->net, targets[i].url, nw, &ops, tl, &opts)))
			return -1;
	}
	return 0;
}

/* Runs the connections until the time is up, committing what arrived at least every second. */
static void run_tails(struct sync_engine *e, struct sync_tail *tails, size_t n, long long ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms, flushed = mono_ms();
	while (!*e->ctx->stop && mono_ms() < end && !sync_pipeline_failed(e->pipe)) {
		uint64_t left = end - mono_ms();
		net_run(e->net, e->ctx->stop, left < 200 ? (int)left : 200);
		sync_pipeline_collect(e->pipe);
		if (mono_ms() - flushed >= TAIL_FLUSH_MS) {
			for (size_t i = 0; i < n; i++)
				sync_pipeline_commit(e->pipe, &tails[i].feed, NULL);
			flushed = mono_ms();
		}
	}
	for (size_t i = 0; i < n; i++)
		sync_pipeline_commit(e->pipe, &tails[i].feed, NULL);
}

int sync_engine_tail(struct sync_engine *e, const struct sync_target *targets, size_t n, long long ms)
{
	char err[512];
	struct sync_tail *tails = calloc(n ? n : 1, sizeof(*tails));
	if (!tails || sync_engine_begin_io(e, "brotr-sync-tail", n, err, sizeof(err)) < 0) {
		log_error(&e->log, "cannot start the tail", LOG_S("error", tails ? err : "out of memory"));
		free(tails);
		return -1;
	}
	log_info(&e->log, "tail started", LOG_U("relays", n), LOG_I("since", e->pass_start), LOG_I("for_ms", ms));
	int rc = open_all(e, tails, targets, n);
	if (rc == 0)
		run_tails(e, tails, n, ms);
	net_free(e->net); /* open connections close without callbacks */
	e->net = NULL;
	struct sync_pipeline_totals tot;
	if (sync_pipeline_end(e->pipe, &tot, err, sizeof(err)) < 0) {
		log_error(&e->log, "the database failed during the tail", LOG_S("error", err));
		rc = -1;
	}
	uint64_t received = 0;
	for (size_t i = 0; i < n; i++)
		received += tails[i].received;
	log_info(&e->log, "tail ended", LOG_U("relays", n), LOG_U("events", received), LOG_U("stored", tot.stored),
		 LOG_U("duplicates", tot.duplicates), LOG_U("rejected", tot.rejected));
	free(tails);
	return rc;
}
