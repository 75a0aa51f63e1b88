/* sync_relay.c — one relay in a synchronizer pass: its walks, its pages (REQ ... EOSE), its messages, NIP-42 AUTH. */
#include <stdio.h>
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

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/*
 * The walks this pass makes: first the one a previous pass left unfinished (it ends at that
 * pass's start), then one from just below the progress (less the overlap, for events that
 * reached the relay late) up to this pass's start.
 */
static void plan_walks(struct sync_relay *r)
{
	const struct config_sync *cfg = r->e->cfg;
	const struct db_sync_progress *p = &r->t->progress;
	int64_t overlap = cfg->overlap_ms / 1000;
	int64_t base = p->synced_until >= 0 ? max64(p->synced_until + 1 - overlap, cfg->since) : cfg->since;
	int n = 0;
	if (p->walk_top >= base && p->walk_from >= 0) {
		r->walk_since[n] = base;
		r->walk_top[n] = p->walk_top;
		r->walk_from[n] = p->walk_from;
		n++;
		base = max64(p->walk_top + 1 - overlap, cfg->since);
	}
	if (r->e->pass_start >= base) {
		r->walk_since[n] = base;
		r->walk_top[n] = r->e->pass_start;
		r->walk_from[n] = -1;
		n++;
	}
	r->n_walks = n;
	r->walk_no = 0;
}

static void setup_walk(struct sync_relay *r)
{
	int i = r->walk_no;
	uint32_t limit = (uint32_t)r->e->cfg->page_limit;
	if (r->walk_from[i] >= 0)
		sync_walk_resume(&r->walk, r->walk_since[i], r->walk_top[i], r->walk_from[i], limit, 0);
	else
		sync_walk_start(&r->walk, r->walk_since[i], r->walk_top[i], limit, 0);
}

void sync_relay_end(struct sync_relay *r, enum sync_outcome outcome, const char *reason)
{
	if (r->outcome == SYNC_R_RUNNING) {
		r->outcome = outcome;
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
	}
	r->in_page = 0;
	if (r->conn)
		relay_conn_close(r->conn); /* on_close follows, inside net_run */
}

/* Asks for the walk's next page, moving to the next walk when one is done. */
static void request_page(struct sync_relay *r)
{
	struct sync_engine *e = r->e;
	int64_t since, until;
	while (sync_walk_next(&r->walk, &since, &until) < 0) {
		if (++r->walk_no >= r->n_walks) {
			if (r->n_probes == 0) {
				sync_relay_end(r, SYNC_R_COMPLETE, "");
			} else {
				r->walks_done = 1;
				r->probe_deadline = mono_ms() + (uint64_t)response_timeout_ms(r);
			}
			return;
		}
		setup_walk(r);
	}
	snprintf(r->sub, sizeof(r->sub), "brotr-%u", ++r->page_no);
	memset(&r->page, 0, sizeof(r->page));
	sync_pipeline_page_begin(&r->feed);
	r->page_since = since;
	r->page_until = until;
	r->filter.since = since;
	r->filter.until = until;
	r->filter.limit = e->cfg->page_limit;
	r->filter.has_since = r->filter.has_until = r->filter.has_limit = 1;
	struct nostr_err err = { 0 };
	buf_reset(&r->s->out);
	if (nostr_build_req(&r->s->out, r->sub, &r->filter, 1, &err) < 0 ||
	    relay_conn_send(r->conn, r->s->out.data, r->s->out.len, 1) < 0) {
		sync_relay_end(r, SYNC_R_FAILED, "cannot send the request");
		return;
	}
	r->in_page = 1;
	r->page_deadline = mono_ms() + (uint64_t)(PAGE_RESPONSE_TIMEOUTS * response_timeout_ms(r));
	r->page_outside = 0;
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
	if (r->walks_done && r->n_probes == 0)
		sync_relay_end(r, SYNC_R_COMPLETE, "");
}

void sync_relay_settle_probes(struct sync_relay *r)
{
	while (r->n_probes > 0)
		settle(r, r->n_probes - 1, -1);
}

void sync_relay_check_deadline(struct sync_relay *r)
{
	if (r->in_page && r->outcome == SYNC_R_RUNNING && mono_ms() > r->page_deadline) {
		char why[160];
		snprintf(why, sizeof(why), "timeout: page %u not whole within %lld ms (%d response timeouts)%s", r->page_no,
			 PAGE_RESPONSE_TIMEOUTS * response_timeout_ms(r), PAGE_RESPONSE_TIMEOUTS,
			 !r->auth_wait ? "" : r->auth.state == AUTH_SENT ? ": auth-required, no OK to the AUTH"
									 : ": auth-required, no AUTH challenge");
		sync_relay_end(r, SYNC_R_FAILED, why);
		return;
	}
	if (r->walks_done && r->outcome == SYNC_R_RUNNING && mono_ms() > r->probe_deadline) {
		r->walks_done = 0;
		sync_relay_settle_probes(r);
		sync_relay_end(r, SYNC_R_COMPLETE, "");
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
static void unreadable_second_zero(struct sync_relay *r)
{
	if (r->page_until != 0 || r->page.received == 0 || r->page_outside != r->page.received)
		return;
	log_warn(&r->e->log, "the relay ignores \"until\": 0; events dated 0 cannot be read from it",
		 LOG_S("relay", r->t->url));
	r->page.received = 0;
}

void sync_relay_flush(struct sync_relay *r)
{
	sync_pipeline_commit(r->pipe, &r->feed, r->has_pending ? &r->pending : NULL);
	r->has_pending = 0;
}

/*
 * EOSE: the page is whole. Verify what is left and learn from the page. Its progress is committed
 * with the batch, which fills across pages (fewer, fuller round trips); a walk that ends commits
 * at once.
 */
static void finish_page(struct sync_relay *r)
{
	struct sync_engine *e = r->e;
	r->in_page = 0;
	sync_pipeline_verify(r->pipe, &r->feed);
	r->page.usable = r->feed.usable;
	r->page.oldest = r->feed.oldest;
	unreadable_second_zero(r);
	struct sync_step step;
	enum sync_verdict v = sync_walk_page(&r->walk, &r->page, &step);
	r->c.pages++;
	r->auth_resent = 0;
	for (int i = 0; i < step.n_at_cap; i++)
		probe_at_cap(r, step.at_cap[i], step.at_cap_n[i]);
	if (v != SYNC_STALLED) {
		r->pending = (struct db_sync_progress){ -1, r->walk.top, step.complete_from };
		if (v == SYNC_DONE)
			r->pending = (struct db_sync_progress){ r->walk.top, -1, -1 };
		r->has_pending = 1;
	}
	if (v != SYNC_MORE)
		sync_relay_flush(r);
	struct nostr_err err = { 0 };
	buf_reset(&r->s->out);
	if (nostr_build_close(&r->s->out, r->sub, &err) == 0)
		relay_conn_send(r->conn, r->s->out.data, r->s->out.len, 0);
	if (v == SYNC_STALLED)
		sync_relay_end(r, SYNC_R_STALLED, "the relay filled a page with events that are invalid or outside the filter");
	else if (!e->stopping)
		request_page(r);
}

/* An EVENT for the page in flight: count it, keep it if it fits the filter and the window. */
static void take_event(struct sync_relay *r, int parsed, const struct nostr_err *err)
{
	r->page.received++;
	r->c.received++;
	if (!parsed) {
		sync_pipeline_reject(r->pipe, &r->feed, nostr_errc_name(err->code));
		return;
	}
	r->filter.since = r->page_since;
	r->filter.until = r->page_until;
	if (!nostr_filter_match(&r->filter, &r->s->ev)) {
		r->page_outside++;
		sync_pipeline_reject(r->pipe, &r->feed, "outside filter");
		return;
	}
	switch (sync_pipeline_add(r->pipe, &r->feed, &r->s->ev)) {
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

static int for_page(const struct sync_relay *r, const struct nostr_msg *m)
{
	return r->in_page && m->sub_id.len == strlen(r->sub) && memcmp(m->sub_id.s, r->sub, m->sub_id.len) == 0;
}

/* ["AUTH", challenge]: answered when [auth] gives an identity. */
static void on_challenge(struct sync_relay *r)
{
	buf_reset(&r->s->out);
	if (auth_session_challenge(&r->auth, r->t->url, &r->s->msg, wall_ms() / 1000, &r->s->out) == 1)
		relay_conn_send(r->conn, r->s->out.data, r->s->out.len, 0);
	else if (r->auth_wait && r->auth.state == AUTH_REFUSED)
		sync_relay_end(r, SYNC_R_FAILED, r->auth.reason);
}

/* The OK to our AUTH: the page that waited for it is asked again, or the relay ends refused. */
static void on_auth_ok(struct sync_relay *r)
{
	char why[256];
	if (!r->auth_wait)
		return;
	r->auth_wait = 0;
	if (r->auth.state == AUTH_ACCEPTED) {
		r->auth_resent = 1;
		request_page(r);
		return;
	}
	snprintf(why, sizeof(why), "auth-required, then AUTH refused: %.200s", r->auth.reason);
	sync_relay_end(r, SYNC_R_FAILED, why);
}

/* The page was closed with auth-required: it waits for the AUTH exchange when one can settle it. */
static int wait_for_auth(struct sync_relay *r, const struct nostr_str *msg)
{
	if (!auth_session_required(&r->auth, msg->s, msg->len) || !auth_session_can_answer(&r->auth) ||
	    r->auth_resent || r->auth.state == AUTH_REFUSED)
		return 0;
	r->auth_wait = 1; /* the page stays in flight: its deadline bounds the exchange */
	if (r->auth.state == AUTH_ACCEPTED)
		on_auth_ok(r);
	return 1;
}

static void page_closed(struct sync_relay *r, const struct nostr_str *msg)
{
	char why[256];
	if (wait_for_auth(r, msg))
		return;
	snprintf(why, sizeof(why), "the relay closed the subscription: %.*s%s", (int)(msg->len > 140 ? 140 : msg->len),
		 msg->s,
		 r->auth.required && !auth_session_can_answer(&r->auth) ? " (no [auth] private_key, or [auth] enabled = false)"
									 : "");
	sync_relay_end(r, SYNC_R_FAILED, why);
}

static void on_message(struct relay_conn *c, void *user, const char *text, size_t len)
{
	(void)c;
	struct sync_relay *r = user;
	struct sync_engine *e = r->e;
	struct nostr_err err = { 0 };
	int rc = nostr_msg_parse(&r->s->msg, &r->s->doc, &r->s->ev, text, len, &err);
	if (rc < 0 && r->s->msg.type != NOSTR_MSG_EVENT) {
		sync_pipeline_reject(r->pipe, &r->feed, "malformed message");
		return;
	}
	int i;
	switch (r->s->msg.type) {
	case NOSTR_MSG_EVENT:
		if (!for_page(r, &r->s->msg))
			sync_pipeline_reject(r->pipe, &r->feed, "not for the current subscription");
		else
			take_event(r, rc == 0, &err);
		break;
	case NOSTR_MSG_EOSE:
		if (for_page(r, &r->s->msg))
			finish_page(r);
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
		} else if (for_page(r, &r->s->msg)) {
			page_closed(r, &r->s->msg.message);
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
		log_info(&e->log, "relay notice", LOG_S("relay", r->t->url), LOG_S("notice", r->s->msg.message.s));
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
	request_page(r); /* after a reconnection, the page the connection lost is asked again */
}

static void on_close(struct relay_conn *c, void *user, const struct relay_conn_status *st)
{
	(void)c;
	struct sync_relay *r = user;
	sync_relay_flush(r); /* the pages completed so far; the one in flight is asked again */
	r->in_page = 0;
	auth_session_init(&r->auth, &r->e->auth); /* a new connection gets a new challenge */
	r->auth_wait = r->auth_resent = 0;
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
	auth_session_init(&r->auth, &e->auth);
	plan_walks(r);
	if (r->n_walks == 0) {
		r->outcome = SYNC_R_COMPLETE;
		r->finished = 1;
		return;
	}
	setup_walk(r);
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
