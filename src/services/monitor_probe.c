/* monitor_probe.c — one relay's check over the network: the NIP-11 fetch beside the websocket's open, read, write and NIP-77 steps, answering NIP-42 AUTH. */
#include "services/monitor_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/nip11.h"
#include "nostr/nip11.h"
#include "services/auth.h"

#define SUB_ID "brotr-monitor"
#define NEG_SUB "brotr-nip77"
#define NEG_KIND 20166 /* ephemeral: no relay stores it, so the set is empty on both sides */

static const char req_msg[] = "[\"REQ\",\"" SUB_ID "\",{\"limit\":1}]";
static const char close_msg[] = "[\"CLOSE\",\"" SUB_ID "\"]";

static int wait_for_auth(struct monitor_probe *p, const struct nostr_str *why);

void monitor_env_init(struct monitor_env *e)
{
	memset(e, 0, sizeof(*e));
	json_doc_init(&e->doc);
	nostr_msg_init(&e->msg);
	nostr_event_init(&e->ev);
	buf_init(&e->out);
}

void monitor_env_free(struct monitor_env *e)
{
	json_doc_free(&e->doc);
	nostr_msg_free(&e->msg);
	nostr_event_free(&e->ev);
	buf_free(&e->out);
}

static void fmt_ms(long long ms, char *out, size_t len)
{
	if (ms % 1000)
		snprintf(out, len, "%lldms", ms);
	else
		snprintf(out, len, "%llds", ms / 1000);
}

static long long step_timeout(const struct monitor_probe *p)
{
	return p->env->response_timeout_ms[p->nw];
}

/* Ends the websocket's part: closes it if open; on_close follows. */
static void finish(struct monitor_probe *p)
{
	p->step = STEP_DONE;
	if (p->conn)
		relay_conn_close(p->conn);
}

static void send_step(struct monitor_probe *p, enum monitor_step step, const char *msg, size_t len)
{
	p->step = step;
	p->sent_at = mono_ms();
	p->deadline = p->sent_at + (uint64_t)step_timeout(p);
	if (relay_conn_send(p->conn, msg, len, 0) < 0) {
		struct monitor_fail *f = step == STEP_READ ? &p->out.read : step == STEP_WRITE ? &p->out.write
											  : &p->out.nip77_fail;
		if (step == STEP_READ)
			p->out.r.readable = 0;
		else if (step == STEP_WRITE)
			p->out.r.writable = 0;
		else
			p->out.nip77 = 0;
		monitor_fail_set(f, "closed", "the request could not be sent");
		finish(p);
	}
}

/* The NIP-77 probe: NEG-OPEN for an empty set with a filter matching nothing stored. */
static void begin_nip77(struct monitor_probe *p)
{
	struct monitor_env *env = p->env;
	struct nostr_filter f;
	struct nostr_err err = { 0 };
	uint32_t kind = NEG_KIND;
	if (!env->nip77_test || !p->conn) {
		finish(p);
		return;
	}
	nostr_filter_init(&f);
	f.kinds = &kind;
	f.n_kinds = 1;
	f.has_kinds = 1;
	buf_reset(&env->out);
	if (nostr_build_neg_open(&env->out, NEG_SUB, &f, NOSTR_NEG_EMPTY_SET, &err) < 0) {
		monitor_fail_set(&p->out.nip77_fail, "internal", "out of memory");
		finish(p);
		return;
	}
	send_step(p, STEP_NIP77, env->out.data, env->out.len);
}

static void nip77_close(struct monitor_probe *p)
{
	struct nostr_err err = { 0 };
	buf_reset(&p->env->out);
	if (nostr_build_neg_close(&p->env->out, NEG_SUB, &err) == 0)
		relay_conn_send(p->conn, p->env->out.data, p->env->out.len, 0);
}

/* The NIP-77 answer: NEG-MSG in protocol v1 is support; anything else says why not. */
static void nip77_answered(struct monitor_probe *p, const struct nostr_msg *m)
{
	char why[MONITOR_REASON_MAX + 16];
	const struct nostr_str *t = &m->message;
	int n = (int)(t->len > MONITOR_REASON_MAX ? MONITOR_REASON_MAX : t->len);
	if (m->type == NOSTR_MSG_CLOSED && wait_for_auth(p, t))
		return;
	p->out.nip77 = 0;
	if (m->type == NOSTR_MSG_NEG_MSG) {
		int v1 = t->len >= 2 && (t->s[0] == '6') && (t->s[1] == '1');
		p->out.nip77 = v1;
		if (!v1) {
			snprintf(why, sizeof(why), "NEG-MSG not in protocol version 1 (0x61): %.*s", n > 16 ? 16 : n, t->s);
			monitor_fail_set(&p->out.nip77_fail, "version", why);
		}
		nip77_close(p);
	} else {
		const char *name = m->type == NOSTR_MSG_NEG_ERR ? "NEG-ERR" : m->type == NOSTR_MSG_CLOSED ? "CLOSED" : "NOTICE";
		snprintf(why, sizeof(why), "%s: %.*s", name, n, t->s);
		monitor_fail_set(&p->out.nip77_fail,
				 m->type == NOSTR_MSG_NEG_ERR ? "neg-err" : m->type == NOSTR_MSG_CLOSED ? "closed" : "notice",
				 why);
	}
	finish(p);
}

/* After the read: the write test, once the NIP-11 answer says which difficulty it needs. */
static void begin_write(struct monitor_probe *p)
{
	struct monitor_env *env = p->env;
	if (!env->signer) {
		begin_nip77(p);
		return;
	}
	p->step = STEP_WAIT;
	if (!p->nip11_done)
		return; /* on_nip11 resumes */
	if (p->min_pow > (int64_t)env->max_pow) {
		char why[160];
		snprintf(why, sizeof(why), "NIP-11 asks for NIP-13 difficulty %lld, above [monitor] max_pow (%u)",
			 (long long)p->min_pow, env->max_pow);
		monitor_fail_set(&p->out.write, "pow", why);
		begin_nip77(p);
		return;
	}
	if (monitor_signer_submit(env->signer, p, (unsigned)p->min_pow) < 0) {
		monitor_fail_set(&p->out.write, "internal", "out of memory");
		begin_nip77(p);
		return;
	}
	p->signing = 1;
}

void monitor_probe_signed(struct monitor_probe *p, struct monitor_signed *s)
{
	p->signing = 0;
	if (p->step != STEP_WAIT || !p->conn) {
		free(s->msg); /* the websocket ended meanwhile: on_close said why */
		return;
	}
	if (!s->ok) {
		monitor_fail_set(&p->out.write, "internal", s->error);
		begin_nip77(p);
		return;
	}
	memcpy(p->event_id, s->id, 32);
	p->out.pow = s->difficulty;
	p->write_msg = s->msg; /* kept: sent again once authenticated, if the relay asks */
	p->write_len = s->len;
	send_step(p, STEP_WRITE, s->msg, s->len);
}

static void on_open(struct relay_conn *c, void *user, long long rtt_open_ms)
{
	struct monitor_probe *p = user;
	(void)c;
	p->out.r.openable = 1;
	p->out.r.rtt_open = rtt_open_ms;
	p->out.r.readable = 0; /* tested from here on: true only when answered */
	send_step(p, STEP_READ, req_msg, sizeof(req_msg) - 1);
}

static void read_answered(struct monitor_probe *p)
{
	p->out.r.readable = 1;
	p->out.r.rtt_read = (int64_t)(mono_ms() - p->sent_at);
	relay_conn_send(p->conn, close_msg, sizeof(close_msg) - 1, 0);
	begin_write(p);
}

static void read_refused(struct monitor_probe *p, const struct nostr_str *why)
{
	if (wait_for_auth(p, why))
		return;
	char reason[MONITOR_REASON_MAX + 16];
	snprintf(reason, sizeof(reason), "CLOSED: %.*s", (int)(why->len > MONITOR_REASON_MAX ? MONITOR_REASON_MAX : why->len),
		 why->s);
	monitor_fail_set(&p->out.read, monitor_msg_prefix(why->s, why->len, "refused"), reason);
	begin_write(p);
}

/* Authenticated: the step that was refused with auth-required is asked again, once. */
static void resume_after_auth(struct monitor_probe *p)
{
	p->auth_wait = 0;
	p->auth_retried |= 1u << p->step;
	if (p->step == STEP_READ)
		send_step(p, STEP_READ, req_msg, sizeof(req_msg) - 1);
	else if (p->step == STEP_WRITE)
		send_step(p, STEP_WRITE, p->write_msg, p->write_len);
	else
		begin_nip77(p);
}

/* The step that waited for AUTH ends refused: why says what became of the exchange. */
static void auth_failed(struct monitor_probe *p, const char *error, const char *why)
{
	char reason[MONITOR_REASON_MAX + 32];
	p->auth_wait = 0;
	snprintf(reason, sizeof(reason), "auth-required, then %s", why);
	if (p->step == STEP_READ) {
		monitor_fail_set(&p->out.read, error, reason);
		begin_write(p);
	} else if (p->step == STEP_WRITE) {
		p->out.r.writable = 0;
		monitor_fail_set(&p->out.write, error, reason);
		begin_nip77(p);
	} else {
		p->out.nip77 = 0;
		monitor_fail_set(&p->out.nip77_fail, error, reason);
		finish(p);
	}
}

/* A refusal saying auth-required: that AUTH may still settle. Returns 1 when the step now waits
 * for the AUTH exchange (or was asked again at once, already authenticated), 0 when it is refused. */
static int wait_for_auth(struct monitor_probe *p, const struct nostr_str *why)
{
	unsigned bit = 1u << p->step;
	if (!auth_session_required(&p->auth, why->s, why->len) || !auth_session_can_answer(&p->auth) ||
	    (p->auth_retried & bit) || p->auth.state == AUTH_REFUSED)
		return 0;
	p->auth_wait = 1;
	if (p->auth.state == AUTH_ACCEPTED)
		resume_after_auth(p);
	else
		p->deadline = mono_ms() + (uint64_t)step_timeout(p); /* for the challenge and its OK */
	return 1;
}

static void write_answered(struct monitor_probe *p, const struct nostr_msg *m)
{
	if (!m->accepted && wait_for_auth(p, &m->message))
		return;
	p->out.r.writable = m->accepted ? 1 : 0;
	if (m->accepted) {
		p->out.r.rtt_write = (int64_t)(mono_ms() - p->sent_at);
	} else {
		monitor_fail_set(&p->out.write, monitor_msg_prefix(m->message.s, m->message.len, "rejected"),
				 m->message.len ? m->message.s : "OK false without a message");
	}
	begin_nip77(p);
}

/* ["AUTH", challenge]: answered when an identity is configured. */
static void on_challenge(struct monitor_probe *p, const struct nostr_msg *m)
{
	struct monitor_env *env = p->env;
	buf_reset(&env->out);
	int rc = auth_session_challenge(&p->auth, p->url, m, wall_ms() / 1000, &env->out);
	if (rc == 1 && relay_conn_send(p->conn, env->out.data, env->out.len, 0) == 0) {
		if (p->auth_wait)
			p->deadline = mono_ms() + (uint64_t)step_timeout(p); /* for its OK */
	} else if (rc != 0 && p->auth_wait) {
		auth_failed(p, "auth-required", rc < 0 ? p->auth.reason : "the AUTH message could not be sent");
	}
}

/* The OK to our AUTH: a step waiting for it goes on. */
static void on_auth_ok(struct monitor_probe *p)
{
	char why[AUTH_REASON_MAX + 32];
	if (!p->auth_wait)
		return;
	if (p->auth.state == AUTH_ACCEPTED) {
		resume_after_auth(p);
		return;
	}
	snprintf(why, sizeof(why), "AUTH refused: %s", p->auth.reason);
	auth_failed(p, "auth-required", why);
}

static void bad_message(struct monitor_probe *p, const struct nostr_err *err)
{
	char why[160];
	nostr_err_str(err, why, sizeof(why));
	log_warn(&p->env->log, "invalid relay message", LOG_S("relay", p->url), LOG_S("error", why));
	if (p->env->metrics)
		metric_add(metrics_get(p->env->metrics, METRIC_COUNTER, "monitor_invalid_messages_total",
				       "Relay messages the monitor could not parse (skipped).", NULL),
			   1);
}

static int is_sub(const struct nostr_msg *m, const char *sub)
{
	return m->sub_id.len == strlen(sub) && memcmp(m->sub_id.s, sub, m->sub_id.len) == 0;
}

/* NEG-MSG, NEG-ERR or CLOSED for the NIP-77 probe, or any NOTICE while it waits. */
static int answers_nip77(const struct monitor_probe *p, const struct nostr_msg *m)
{
	if (p->step != STEP_NIP77)
		return 0;
	if (m->type == NOSTR_MSG_NOTICE)
		return 1;
	return (m->type == NOSTR_MSG_NEG_MSG || m->type == NOSTR_MSG_NEG_ERR || m->type == NOSTR_MSG_CLOSED) &&
	       is_sub(m, NEG_SUB);
}

static void on_message(struct relay_conn *c, void *user, const char *text, size_t len)
{
	struct monitor_probe *p = user;
	struct monitor_env *env = p->env;
	struct nostr_msg *m = &env->msg;
	struct nostr_err err = { 0 };
	(void)c;
	m->type = NOSTR_MSG_UNKNOWN;
	int rc = nostr_msg_parse(m, &env->doc, &env->ev, text, len, &err);
	if (rc < 0 && m->type != NOSTR_MSG_EVENT) { /* an invalid event still answers the REQ */
		bad_message(p, &err);
		return;
	}
	int mine = is_sub(m, SUB_ID);
	if (m->type == NOSTR_MSG_AUTH)
		on_challenge(p, m);
	else if (m->type == NOSTR_MSG_OK && auth_session_ok(&p->auth, m))
		on_auth_ok(p);
	else if (p->auth_wait)
		return; /* the refused step waits for the AUTH exchange */
	else if (p->step == STEP_READ && mine && (m->type == NOSTR_MSG_EVENT || m->type == NOSTR_MSG_EOSE))
		read_answered(p);
	else if (p->step == STEP_READ && mine && m->type == NOSTR_MSG_CLOSED)
		read_refused(p, &m->message);
	else if (p->step == STEP_WRITE && m->type == NOSTR_MSG_OK && memcmp(m->event_id, p->event_id, 32) == 0)
		write_answered(p, m);
	else if (answers_nip77(p, m))
		nip77_answered(p, m);
}

static void on_close(struct relay_conn *c, void *user, const struct relay_conn_status *st)
{
	struct monitor_probe *p = user;
	struct monitor_outcome *o = &p->out;
	const char *cat = net_error_name(st->err);
	char reason[MONITOR_REASON_MAX + 32];
	(void)c;
	p->conn = NULL;
	p->conn_done = 1;
	if (st->tls && !p->tls && (p->tls = malloc(sizeof(*p->tls))))
		*p->tls = *st->tls; /* out of memory: the snapshot goes without its TLS facts */
	p->local_failure |= net_error_is_local(st->err); /* at any step: nothing about the relay */
	if (p->step == STEP_OPEN) {
		o->r.openable = 0;
		monitor_fail_set(&o->open, cat, st->reason);
	} else if (p->step == STEP_READ) {
		monitor_fail_set(&o->read, cat, st->reason);
	} else if (p->step == STEP_WRITE) {
		o->r.writable = 0;
		monitor_fail_set(&o->write, cat, st->reason);
	} else if (p->step == STEP_NIP77) {
		o->nip77 = 0;
		monitor_fail_set(&o->nip77_fail, cat, st->reason);
	}
	if ((p->step == STEP_READ && p->env->signer) || p->step == STEP_WAIT) {
		snprintf(reason, sizeof(reason), "before the write test: %s", st->reason);
		monitor_fail_set(&o->write, cat, reason);
	}
	p->step = STEP_DONE;
}

static void keep_nip11(struct monitor_probe *p, const struct nip11_doc *d)
{
	p->nip11_json = malloc(d->canonical_len + 1);
	if (!p->nip11_json) {
		monitor_fail_set(&p->out.nip11, "internal", "out of memory");
		return;
	}
	memcpy(p->nip11_json, d->canonical, d->canonical_len + 1);
	p->nip11_len = d->canonical_len;
	memcpy(p->nip11_id, d->hash, 32);
	p->nip11_ok = 1;
	const struct nip11_limitation *l = &d->limitation;
	if (d->has_limitation && l->has[NIP11_MIN_POW_DIFFICULTY] && l->value[NIP11_MIN_POW_DIFFICULTY] > 0)
		p->min_pow = l->value[NIP11_MIN_POW_DIFFICULTY];
}

static void on_nip11(void *user, const char *url, const struct net_nip11_result *r)
{
	struct monitor_probe *p = user;
	(void)url;
	p->nip11_done = 1;
	if (r->err != NET_OK) {
		monitor_fail_set(&p->out.nip11, net_error_name(r->err), r->reason);
		p->local_failure |= net_error_is_local(r->err);
	} else {
		struct nip11_doc d;
		struct nostr_err err = { 0 };
		char why[160];
		nip11_init(&d);
		if (nip11_parse(&d, r->body, r->len, &err) < 0)
			monitor_fail_set(&p->out.nip11, "invalid", nostr_err_str(&err, why, sizeof(why)));
		else
			keep_nip11(p, &d);
		nip11_free(&d);
	}
	if (p->step == STEP_WAIT && !p->signing)
		begin_write(p);
}

static const struct relay_conn_ops probe_ops = {
	.on_open = on_open,
	.on_message = on_message,
	.on_close = on_close,
};

void monitor_probe_start(struct monitor_probe *p, struct monitor_env *env, const char *url, enum net_network nw)
{
	static const struct relay_conn_opts opts = { .idle_timeout_ms = -1 };
	memset(p, 0, sizeof(*p));
	snprintf(p->url, sizeof(p->url), "%s", url);
	p->nw = nw;
	p->env = env;
	p->step = STEP_OPEN;
	monitor_outcome_init(&p->out);
	auth_session_init(&p->auth, env->auth);
	if (net_nip11_fetch(env->net, p->url, nw, on_nip11, p) < 0) {
		p->nip11_done = 1;
		p->local_failure = 1;
	}
	p->conn = relay_conn_open(env->net, p->url, nw, &probe_ops, p, &opts);
	if (!p->conn) {
		p->conn_done = 1;
		p->local_failure = 1;
		p->step = STEP_DONE;
	}
}

void monitor_probe_tick(struct monitor_probe *p, uint64_t now)
{
	char why[96], t[24];
	if ((p->step != STEP_READ && p->step != STEP_WRITE && p->step != STEP_NIP77) || now < p->deadline)
		return;
	fmt_ms(step_timeout(p), t, sizeof(t));
	if (p->auth_wait) {
		snprintf(why, sizeof(why), "no %s within %s", p->auth.state == AUTH_SENT ? "OK to the AUTH" : "AUTH challenge",
			 t);
		auth_failed(p, "timeout", why);
	} else if (p->step == STEP_NIP77) {
		snprintf(why, sizeof(why), "no NEG-MSG, NEG-ERR, CLOSED or NOTICE within %s of the NEG-OPEN", t);
		p->out.nip77 = 0;
		monitor_fail_set(&p->out.nip77_fail, "timeout", why);
		nip77_close(p);
		finish(p);
	} else if (p->step == STEP_READ) {
		snprintf(why, sizeof(why), "no EVENT, EOSE or CLOSED within %s of the REQ", t);
		monitor_fail_set(&p->out.read, "timeout", why);
		begin_write(p);
	} else {
		snprintf(why, sizeof(why), "no OK within %s of the EVENT", t);
		p->out.r.writable = 0;
		monitor_fail_set(&p->out.write, "timeout", why);
		begin_nip77(p);
	}
}

int monitor_probe_finished(const struct monitor_probe *p)
{
	return p->conn_done && p->nip11_done && !p->signing;
}

/* The NIP-42 facts of a check whose websocket opened. */
static void observe_auth(struct monitor_probe *p)
{
	struct monitor_outcome *o = &p->out;
	const struct auth_session *a = &p->auth;
	const char *why = a->reason;
	enum auth_state st = a->state;
	if (o->r.openable != 1)
		return;
	if (st == AUTH_SENT) { /* the websocket ended, or the pass moved on, before its OK */
		st = AUTH_REFUSED;
		why = "no OK to the AUTH before the check ended";
	} else if (st == AUTH_NO_KEY) {
		why = p->env->auth_disabled ? "[auth] enabled is false, so the challenge was not answered"
					    : "no [auth] private_key, so the challenge was not answered";
	}
	snprintf(o->auth, sizeof(o->auth), "%s", auth_state_name(st));
	o->auth_required = a->required;
	monitor_text(o->auth_reason, sizeof(o->auth_reason), why, strlen(why));
}

int monitor_probe_snapshot(struct monitor_probe *p, int64_t generated_at, struct monitor_snapshot *snap)
{
	struct buf doc;
	buf_init(&doc);
	memset(snap, 0, sizeof(*snap));
	snprintf(snap->url, sizeof(snap->url), "%s", p->url);
	snap->network = p->nw == NET_TOR ? DB_TOR : DB_CLEARNET;
	snap->generated_at = generated_at;
	snap->connection_ok = p->out.r.openable == 1;
	snap->nip11_ok = p->nip11_ok;
	observe_auth(p);
	if (monitor_doc_build(&p->out, &doc, snap->nip66_id) < 0) {
		buf_free(&doc);
		return -1;
	}
	snap->nip66_json = doc.data;
	snap->nip66_len = doc.len;
	if (p->tls) {
		struct buf tls;
		buf_init(&tls);
		if (monitor_tls_doc_build(p->tls, &tls, snap->tls_id) < 0) {
			buf_free(&tls);
			monitor_snapshot_clear(snap);
			return -1;
		}
		snap->tls_json = tls.data;
		snap->tls_len = tls.len;
	}
	snap->nip11_json = p->nip11_json;
	snap->nip11_len = p->nip11_len;
	memcpy(snap->nip11_id, p->nip11_id, 32);
	p->nip11_json = NULL;
	return 0;
}

void monitor_probe_free(struct monitor_probe *p)
{
	free(p->nip11_json);
	p->nip11_json = NULL;
	free(p->write_msg);
	p->write_msg = NULL;
	free(p->tls);
	p->tls = NULL;
}
