/* sync_relay.c — one relay in a synchronizer pass: its walks, its pages (REQ ... EOSE), its messages, NIP-42 AUTH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/error.h"
#include "services/sync_internal.h"

static void on_open(struct relay_conn *c, void *user, long long rtt_open_ms);
static void on_message(struct relay_conn *c, void *user, const char *text, size_t len);
static void on_close(struct relay_conn *c, void *user, const struct relay_conn_status *st);

static const struct relay_conn_ops ops = { .on_open = on_open, .on_message = on_message, .on_close = on_close };

/* A page (REQ to EOSE) must be whole within this many response timeouts: a relay trickling whole
 * events, each within the response timeout, cannot hold its slot for the whole relay budget. */
#define PAGE_RESPONSE_TIMEOUTS 4

static long long response_timeout_ms(const struct sync_relay *r)
{
	const struct config *cfg = r->e->ctx->cfg;
	return r->t->network == RELAY_NET_TOR ? cfg->network.tor.response_timeout_ms
					      : cfg->network.clearnet.response_timeout_ms;
}

void sync_relay_end(struct sync_relay *r, enum sync_outcome outcome, const char *reason)
{
	if (r->outcome == SYNC_R_RUNNING) {
		r->outcome = outcome;
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
	}
	for (size_t i = 0; r->w && i < r->w->win.n; i++)
		r->w->req[i].in_page = 0;
	if (r->conn)
		relay_conn_close(r->conn); /* on_close follows, inside net_run */
}

static size_t walking(const struct sync_relay *r)
{
	return sync_windows_count(&r->w->win, SYNC_WIN_WALKING);
}

/* No window walks or waits: the relay is complete once the seconds at the cap are counted. */
static void walks_over(struct sync_relay *r)
{
	if (r->stalled) {
		sync_relay_end(r, SYNC_R_STALLED, "the relay filled a page with events that are invalid or outside the filter");
	} else if (r->n_probes == 0) {
		sync_relay_end(r, SYNC_R_COMPLETE, "");
	} else {
		r->walks_done = 1;
		r->probe_deadline = mono_ms() + (uint64_t)response_timeout_ms(r);
	}
}

static void request_page(struct sync_relay *r, int i);

/* Starts waiting windows while slots are free; ends the walks when none is left. */
static void pump(struct sync_relay *r)
{
	int i;
	while (r->outcome == SYNC_R_RUNNING && !r->e->stopping && walking(r) < r->slots &&
	       (i = sync_windows_next(&r->w->win)) >= 0) {
		sync_windows_start(&r->w->win, i);
		request_page(r, i);
	}
	if (r->outcome == SYNC_R_RUNNING && !r->walks_done && walking(r) == 0 &&
	    sync_windows_count(&r->w->win, SYNC_WIN_WAITING) == 0)
		walks_over(r);
}

/* Asks window i's next page; a window whose walk is over ends. */
static void request_page(struct sync_relay *r, int i)
{
	struct sync_win *w = &r->w->win.win[i];
	struct sync_req *q = &r->w->req[i];
	int64_t since, until;
	if (sync_walk_next(&w->walk, &since, &until) < 0) {
		w->state = SYNC_WIN_DONE;
		pump(r);
		return;
	}
	snprintf(q->sub, sizeof(q->sub), "brotr-%u", ++r->page_no);
	memset(&q->page, 0, sizeof(q->page));
	sync_pipeline_page_begin(&r->feed, (unsigned)i);
	q->since = r->filter.since = since;
	q->until = r->filter.until = until;
	r->filter.limit = r->e->cfg->page_limit;
	r->filter.has_since = r->filter.has_until = r->filter.has_limit = 1;
	struct nostr_err err = { 0 };
	buf_reset(&r->s->out);
	if (nostr_build_req(&r->s->out, q->sub, &r->filter, 1, &err) < 0 ||
	    relay_conn_send(r->conn, r->s->out.data, r->s->out.len, 1) < 0) {
		sync_relay_end(r, SYNC_R_FAILED, "cannot send the request");
		return;
	}
	q->in_page = 1;
	q->deadline = mono_ms() + (uint64_t)(PAGE_RESPONSE_TIMEOUTS * response_timeout_ms(r));
	q->waited0 = sync_pipeline_waited_ms(r->pipe);
	q->outside = 0;
}

/* A second at the cap that cannot be counted: it may hold more events than the relay returns. */
static void unconfirmed(struct sync_relay *r, int64_t second, uint32_t returned)
{
	r->c.at_cap++;
	log_warn(&r->e->log, "a second filled the relay's cap and the relay does not count; it may hold more events",
		 LOG_S("relay", r->t->url), LOG_I("created_at", second), LOG_U("returned", returned));
}

/* Asks the relay (NIP-45 COUNT) how many events the second holds; the answer settles it. */
static void probe_at_cap(struct sync_relay *r, int64_t second, uint32_t returned)
{
	if (r->n_probes == SYNC_MAX_PROBES) {
		unconfirmed(r, second, returned);
		return;
	}
	struct sync_probe *p = &r->probes[r->n_probes];
	snprintf(p->sub, sizeof(p->sub), "brotr-count-%u", ++r->probe_no);
	p->second = second;
	p->returned = returned;
	r->filter.since = r->filter.until = second;
	r->filter.has_since = r->filter.has_until = 1;
	r->filter.has_limit = 0;
	struct nostr_err err = { 0 };
	buf_reset(&r->s->out);
	/* No reply is required: relays without NIP-45 ignore COUNT or answer with a NOTICE. */
	if (nostr_build_count(&r->s->out, p->sub, &r->filter, 1, &err) < 0 ||
	    relay_conn_send(r->conn, r->s->out.data, r->s->out.len, 0) < 0) {
		unconfirmed(r, second, returned);
		return;
	}
	r->n_probes++;
}

/* Removes probe i, settled by count (or unsettled when count < 0). */
static void settle(struct sync_relay *r, int i, long long count)
{
	struct sync_probe p = r->probes[i];
	r->probes[i] = r->probes[--r->n_probes];
	if (count < 0)
		unconfirmed(r, p.second, p.returned);
	else if (count > (long long)p.returned) {
		r->c.truncated++;
		log_warn(&r->e->log, "a second holds more events than the relay returns; those it never returns are missed",
			 LOG_S("relay", r->t->url), LOG_I("created_at", p.second), LOG_U("returned", p.returned),
			 LOG_I("count", count));
	} else {
		log_debug(&r->e->log, "a second at the relay's cap is complete", LOG_S("relay", r->t->url),
			  LOG_I("created_at", p.second), LOG_I("count", count));
	}
	if (r->walks_done && r->n_probes == 0) {
		r->walks_done = 0;
		walks_over(r);
	}
}

void sync_relay_settle_probes(struct sync_relay *r)
{
	while (r->n_probes > 0)
		settle(r, r->n_probes - 1, -1);
}

void sync_relay_check_deadline(struct sync_relay *r)
{
	for (size_t i = 0; i < r->w->win.n && r->outcome == SYNC_R_RUNNING; i++) {
		const struct sync_req *q = &r->w->req[i];
		if (!q->in_page || mono_ms() <= q->deadline + (sync_pipeline_waited_ms(r->pipe) - q->waited0))
			continue;
		char why[200];
		snprintf(why, sizeof(why), "timeout: a page (%s) not whole within %lld ms (%d response timeouts)%s", q->sub,
			 PAGE_RESPONSE_TIMEOUTS * response_timeout_ms(r), PAGE_RESPONSE_TIMEOUTS,
			 !q->auth_wait ? "" : r->auth.state == AUTH_SENT ? ": auth-required, no OK to the AUTH"
									 : ": auth-required, no AUTH challenge");
		sync_relay_end(r, SYNC_R_FAILED, why);
		return;
	}
	if (r->walks_done && r->outcome == SYNC_R_RUNNING && mono_ms() > r->probe_deadline) {
		r->walks_done = 0;
		sync_relay_settle_probes(r);
		walks_over(r);
	}
}

static int probe_index(const struct sync_relay *r, const struct nostr_msg *m)
{
	for (int i = 0; i < r->n_probes; i++)
		if (m->sub_id.len == strlen(r->probes[i].sub) && memcmp(m->sub_id.s, r->probes[i].sub, m->sub_id.len) == 0)
			return i;
	return -1;
}

/*
 * Relays written in JavaScript often test `if (filter.until)`, so "until": 0 means no bound to
 * them and they answer with their newest events. Only the window ending at second 0 can meet
 * this: when everything such a page brought lies outside it, the second cannot be read from
 * this relay; say so and take the page as empty rather than stall on it forever.
 */
static void unreadable_second_zero(struct sync_relay *r, struct sync_req *q)
{
	if (q->until != 0 || q->page.received == 0 || q->outside != q->page.received)
		return;
	log_warn(&r->e->log, "the relay ignores \"until\": 0; events dated 0 cannot be read from it",
		 LOG_S("relay", r->t->url));
	q->page.received = 0;
}

void sync_relay_flush(struct sync_relay *r)
{
	struct db_sync_progress p;
	if (r->w)
		sync_pipeline_commit(r->pipe, &r->feed, sync_windows_progress(&r->w->win, &p) ? &p : NULL);
}

void sync_relay_release(struct sync_relay *r)
{
	free(r->w);
	r->w = NULL;
}

static void send_close(struct sync_relay *r, const char *sub)
{
	struct nostr_err err = { 0 };
	buf_reset(&r->s->out);
	if (nostr_build_close(&r->s->out, sub, &err) == 0)
		relay_conn_send(r->conn, r->s->out.data, r->s->out.len, 0);
}

/* Slots a split may fill: those the relay allows that no window walks or waits for. */
static size_t free_slots(const struct sync_relay *r)
{
	size_t busy = walking(r) + sync_windows_count(&r->w->win, SYNC_WIN_WAITING);
	return busy < r->slots ? r->slots - busy : 0;
}

/*
 * EOSE: window i's page is whole. Verify what is left and learn from the page. Its progress is
 * committed with the batch, which fills across pages (fewer, fuller round trips); a window that
 * ends commits at once. A window with much left gives part of it to free slots.
 */
static void finish_page(struct sync_relay *r, int i)
{
	struct sync_req *q = &r->w->req[i];
	struct sync_win *w = &r->w->win.win[i];
	q->in_page = 0;
	sync_pipeline_verify(r->pipe, &r->feed);
	q->page.usable = r->feed.page[i].usable;
	q->page.oldest = r->feed.page[i].oldest;
	unreadable_second_zero(r, q);
	struct sync_step step;
	enum sync_verdict v = sync_walk_page(&w->walk, &q->page, &step);
	r->c.pages++;
	q->auth_resent = 0;
	for (int k = 0; k < step.n_at_cap; k++)
		probe_at_cap(r, step.at_cap[k], step.at_cap_n[k]);
	sync_windows_step(&r->w->win, i, v, &step, q->page.usable ? r->feed.page[i].newest : -1);
	if (v == SYNC_MORE && !r->e->stopping)
		sync_windows_split(&r->w->win, i, free_slots(r));
	if (v != SYNC_MORE)
		sync_relay_flush(r);
	send_close(r, q->sub);
	r->stalled |= v == SYNC_STALLED;
	if (v == SYNC_MORE && !r->e->stopping)
		request_page(r, i);
	pump(r);
}

/* An EVENT for window i's page: count it, keep it if it fits the filter and the window. */
static void take_event(struct sync_relay *r, int i, int parsed, const struct nostr_err *err)
{
	struct sync_req *q = &r->w->req[i];
	q->page.received++;
	r->c.received++;
	if (!parsed) {
		sync_pipeline_reject(r->pipe, &r->feed, nostr_errc_name(err->code));
		return;
	}
	r->filter.since = q->since;
	r->filter.until = q->until;
	if (!nostr_filter_match(&r->filter, &r->s->ev)) {
		q->outside++;
		sync_pipeline_reject(r->pipe, &r->feed, "outside filter");
		return;
	}
	switch (sync_pipeline_add(r->pipe, &r->feed, (unsigned)i, &r->s->ev)) {
	case SYNC_ADD_DB:
		sync_relay_end(r, SYNC_R_FAILED, "the database failed");
		break;
	case SYNC_ADD_NOMEM:
		sync_relay_end(r, SYNC_R_FAILED, "out of memory");
		break;
	case SYNC_ADD_FULL:
		sync_relay_flush(r);
		break;
	default: /* added, or refused for its tags (counted) */
		break;
	}
}

/* The window whose page in flight m is for, or -1. */
static int page_of(const struct sync_relay *r, const struct nostr_msg *m)
{
	for (size_t i = 0; i < r->w->win.n; i++) {
		const struct sync_req *q = &r->w->req[i];
		if (q->in_page && m->sub_id.len == strlen(q->sub) && memcmp(m->sub_id.s, q->sub, m->sub_id.len) == 0)
			return (int)i;
	}
	return -1;
}

static int auth_waiting(const struct sync_relay *r)
{
	for (size_t i = 0; i < r->w->win.n; i++)
		if (r->w->req[i].in_page && r->w->req[i].auth_wait)
			return 1;
	return 0;
}

/* ["AUTH", challenge]: answered when [auth] gives an identity. */
static void on_challenge(struct sync_relay *r)
{
	buf_reset(&r->s->out);
	if (auth_session_challenge(&r->auth, r->t->url, &r->s->msg, wall_ms() / 1000, &r->s->out) == 1)
		relay_conn_send(r->conn, r->s->out.data, r->s->out.len, 0);
	else if (auth_waiting(r) && r->auth.state == AUTH_REFUSED)
		sync_relay_end(r, SYNC_R_FAILED, r->auth.reason);
}

/* The OK to our AUTH: the pages that waited for it are asked again, or the relay ends refused. */
static void on_auth_ok(struct sync_relay *r)
{
	char why[256];
	if (!auth_waiting(r))
		return;
	if (r->auth.state != AUTH_ACCEPTED) {
		snprintf(why, sizeof(why), "auth-required, then AUTH refused: %.200s", r->auth.reason);
		sync_relay_end(r, SYNC_R_FAILED, why);
		return;
	}
	for (size_t i = 0; i < r->w->win.n && r->outcome == SYNC_R_RUNNING; i++) {
		struct sync_req *q = &r->w->req[i];
		if (!q->in_page || !q->auth_wait)
			continue;
		q->auth_wait = 0;
		q->auth_resent = 1;
		request_page(r, (int)i);
	}
}

/* Window i's page was closed with auth-required: it waits for the AUTH exchange when one can settle it. */
static int wait_for_auth(struct sync_relay *r, int i, const struct nostr_str *msg)
{
	struct sync_req *q = &r->w->req[i];
	if (!auth_session_required(&r->auth, msg->s, msg->len) || !auth_session_can_answer(&r->auth) ||
	    q->auth_resent || r->auth.state == AUTH_REFUSED)
		return 0;
	q->auth_wait = 1; /* the page stays in flight: its deadline bounds the exchange */
	if (r->auth.state == AUTH_ACCEPTED)
		on_auth_ok(r);
	return 1;
}

/* Whether a relay's words refuse a subscription for their number ("too many concurrent REQs",
 * "max subscriptions reached", "subscription limit"). */
static int too_many_words(const struct nostr_str *msg)
{
	char t[160];
	size_t n = msg->len < sizeof(t) - 1 ? msg->len : sizeof(t) - 1;
	for (size_t k = 0; k < n; k++)
		t[k] = (char)(msg->s[k] >= 'A' && msg->s[k] <= 'Z' ? msg->s[k] + 32 : msg->s[k]);
	t[n] = 0;
	return strstr(t, "too many") ||
	       (strstr(t, "subscription") && (strstr(t, "limit") || strstr(t, "max") || strstr(t, "exceed")));
}

/* The relay refused window i's subscription as one too many: the window waits for a slot, and
 * the relay gets one subscription fewer from now on. Returns 0 when it was the only one. */
static int fewer_windows(struct sync_relay *r, int i, const char *how)
{
	size_t now = walking(r);
	if (now <= 1)
		return 0;
	r->w->req[i].in_page = 0;
	r->w->win.win[i].state = SYNC_WIN_WAITING;
	r->slots = now - 1;
	r->c.refusals++;
	log_info(&r->e->log, "the relay refused a subscription as one too many; fewer windows at once",
		 LOG_S("relay", r->t->url), LOG_S("as", how), LOG_U("windows", r->slots));
	return 1;
}

static void page_closed(struct sync_relay *r, int i, const struct nostr_str *msg)
{
	char why[256];
	if (wait_for_auth(r, i, msg))
		return;
	if (too_many_words(msg) && fewer_windows(r, i, "CLOSED"))
		return;
	snprintf(why, sizeof(why), "the relay closed the subscription: %.*s%s", (int)(msg->len > 140 ? 140 : msg->len),
		 msg->s,
		 r->auth.required && !auth_session_can_answer(&r->auth) ? " (no [auth] private_key, or [auth] enabled = false)"
									 : "");
	sync_relay_end(r, SYNC_R_FAILED, why);
}

/* A NOTICE refusing a subscription names none. A relay answers a REQ it refuses as it reads it,
 * so the refused one is taken to be the oldest page in flight that nothing has answered yet (it
 * waits for a slot; its CLOSE is sent in case the relay kept it after all). */
static void on_notice(struct sync_relay *r, const struct nostr_str *msg)
{
	log_info(&r->e->log, "relay notice", LOG_S("relay", r->t->url), LOG_S("notice", msg->s));
	if (!too_many_words(msg))
		return;
	int oldest = -1;
	unsigned oldest_no = 0;
	for (size_t i = 0; i < r->w->win.n; i++) {
		const struct sync_req *q = &r->w->req[i];
		unsigned no = (unsigned)strtoul(q->sub + 6, NULL, 10); /* "brotr-<page number>" */
		if (q->in_page && q->page.received == 0 && (oldest < 0 || no < oldest_no))
			oldest = (int)i, oldest_no = no;
	}
	if (oldest >= 0 && fewer_windows(r, oldest, "NOTICE"))
		send_close(r, r->w->req[oldest].sub);
}

static void on_message(struct relay_conn *c, void *user, const char *text, size_t len)
{
	(void)c;
	struct sync_relay *r = user;
	struct nostr_err err = { 0 };
	int rc = nostr_msg_parse(&r->s->msg, &r->s->doc, &r->s->ev, text, len, &err);
	if (rc < 0 && r->s->msg.type != NOSTR_MSG_EVENT) {
		sync_pipeline_reject(r->pipe, &r->feed, "malformed message");
		return;
	}
	int i;
	switch (r->s->msg.type) {
	case NOSTR_MSG_EVENT:
		if ((i = page_of(r, &r->s->msg)) < 0)
			sync_pipeline_reject(r->pipe, &r->feed, "not for the current subscription");
		else
			take_event(r, i, rc == 0, &err);
		break;
	case NOSTR_MSG_EOSE:
		if ((i = page_of(r, &r->s->msg)) >= 0)
			finish_page(r, i);
		break;
	case NOSTR_MSG_COUNT:
		if ((i = probe_index(r, &r->s->msg)) >= 0) {
			r->nip45 = 1;
			settle(r, i, (long long)r->s->msg.count);
		}
		break;
	case NOSTR_MSG_CLOSED:
		if ((i = probe_index(r, &r->s->msg)) >= 0) {
			r->nip45 = r->nip45 == 1; /* one answer is proof enough; a refusal alone says not */
			settle(r, i, -1);
		} else if ((i = page_of(r, &r->s->msg)) >= 0) {
			page_closed(r, i, &r->s->msg.message);
		}
		break;
	case NOSTR_MSG_AUTH:
		on_challenge(r);
		break;
	case NOSTR_MSG_OK:
		if (auth_session_ok(&r->auth, &r->s->msg))
			on_auth_ok(r);
		break;
	case NOSTR_MSG_NOTICE:
		on_notice(r, &r->s->msg.message);
		break;
	default:
		break;
	}
}

static void on_open(struct relay_conn *c, void *user, long long rtt_open_ms)
{
	(void)c;
	(void)rtt_open_ms;
	struct sync_relay *r = user;
	if (r->outcome != SYNC_R_RUNNING || r->e->stopping)
		return;
	/* after a reconnection, the pages the connection lost are asked again */
	for (size_t i = 0; i < r->w->win.n && r->outcome == SYNC_R_RUNNING; i++)
		if (r->w->win.win[i].state == SYNC_WIN_WALKING)
			request_page(r, (int)i);
	pump(r);
}

static void on_close(struct relay_conn *c, void *user, const struct relay_conn_status *st)
{
	(void)c;
	struct sync_relay *r = user;
	sync_relay_flush(r); /* the pages completed so far; those in flight are asked again */
	for (size_t i = 0; i < r->w->win.n; i++)
		r->w->req[i].in_page = r->w->req[i].auth_wait = r->w->req[i].auth_resent = 0;
	auth_session_init(&r->auth, &r->e->auth); /* a new connection gets a new challenge */
	if (st->will_reconnect) {
		log_info(&r->e->log, "relay connection lost, reconnecting", LOG_S("relay", r->t->url),
			 LOG_S("error", net_error_name(st->err)), LOG_S("reason", st->reason), LOG_I("attempt", st->attempt));
		return;
	}
	r->conn = NULL;
	if (r->outcome == SYNC_R_RUNNING) {
		char why[256];
		snprintf(why, sizeof(why), "%s: %s", net_error_name(st->err), st->reason);
		r->outcome = SYNC_R_FAILED;
		snprintf(r->reason, sizeof(r->reason), "%s", why);
	}
	r->finished = 1;
}

void sync_relay_abandon(struct sync_relay *r)
{
	r->conn = NULL;
	if (r->outcome == SYNC_R_RUNNING)
		r->outcome = SYNC_R_STOPPED;
	r->finished = 1;
}

void sync_relay_start(struct sync_engine *e, struct sync_relay *r, struct sync_target *t)
{
	r->e = e;
	r->t = t;
	r->s = &e->wire;
	r->filter = e->filter; /* shallow: since, until and limit are the relay's own */
	r->pipe = e->pipe;
	sync_pipeline_feed_init(&r->feed, t->url, t->network);
	r->outcome = SYNC_R_RUNNING;
	r->started_ms = mono_ms();
	r->nip45 = -1;
	r->slots = (size_t)e->cfg->max_windows;
	if (t->max_subscriptions > 0 && (size_t)t->max_subscriptions <= r->slots) /* one left for a COUNT */
		r->slots = t->max_subscriptions > 1 ? (size_t)t->max_subscriptions - 1 : 1;
	auth_session_init(&r->auth, &e->auth);
	if (!(r->w = calloc(1, sizeof(*r->w)))) {
		r->outcome = SYNC_R_FAILED;
		snprintf(r->reason, sizeof(r->reason), "out of memory");
		r->finished = 1;
		return;
	}
	sync_windows_plan(&r->w->win, &t->progress, e->cfg->since, e->cfg->overlap_ms / 1000, e->pass_start,
			  (uint32_t)e->cfg->page_limit);
	if (sync_windows_count(&r->w->win, SYNC_WIN_WAITING) == 0) {
		r->outcome = SYNC_R_COMPLETE;
		r->finished = 1;
		return;
	}
	struct relay_conn_opts opts = {
		.reconnect = 1, .max_attempts = 3, .backoff_min_ms = 1000, .backoff_max_ms = 10000,
	};
	enum net_network nw = r->t->network == RELAY_NET_TOR ? NET_TOR : NET_CLEARNET;
	r->conn = relay_conn_open(e->net, r->t->url, nw, &ops, r, &opts);
	if (!r->conn) {
		r->outcome = SYNC_R_FAILED;
		snprintf(r->reason, sizeof(r->reason), "out of memory");
		r->finished = 1;
	}
}
