/* monitor_probe.c — one relay's check over the network: the NIP-11 fetch beside the websocket's open, read and write steps. */
#include "services/monitor_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/nip11.h"
#include "nostr/nip11.h"

#define SUB_ID "brotr-monitor"

static const char req_msg[] = "[\"REQ\",\"" SUB_ID "\",{\"limit\":1}]";
static const char close_msg[] = "[\"CLOSE\",\"" SUB_ID "\"]";

void monitor_env_init(struct monitor_env *e)
{
	memset(e, 0, sizeof(*e));
	json_doc_init(&e->doc);
	nostr_msg_init(&e->msg);
	nostr_event_init(&e->ev);
}

void monitor_env_free(struct monitor_env *e)
{
	json_doc_free(&e->doc);
	nostr_msg_free(&e->msg);
	nostr_event_free(&e->ev);
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
		struct monitor_fail *f = step == STEP_READ ? &p->out.read : &p->out.write;
		if (step == STEP_READ)
			p->out.r.readable = 0;
		else
			p->out.r.writable = 0;
		monitor_fail_set(f, "closed", "the request could not be sent");
		finish(p);
	}
}

/* After the read: the write test, once the NIP-11 answer says which difficulty it needs. */
static void begin_write(struct monitor_probe *p)
{
	struct monitor_env *env = p->env;
	if (!env->signer) {
		finish(p);
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
		finish(p);
		return;
	}
	if (monitor_signer_submit(env->signer, p, (unsigned)p->min_pow) < 0) {
		monitor_fail_set(&p->out.write, "internal", "out of memory");
		finish(p);
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
		finish(p);
		return;
	}
	memcpy(p->event_id, s->id, 32);
	p->out.pow = s->difficulty;
	send_step(p, STEP_WRITE, s->msg, s->len);
	free(s->msg);
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
	char reason[MONITOR_REASON_MAX + 16];
	snprintf(reason, sizeof(reason), "CLOSED: %.*s", (int)(why->len > MONITOR_REASON_MAX ? MONITOR_REASON_MAX : why->len),
		 why->s);
	monitor_fail_set(&p->out.read, monitor_msg_prefix(why->s, why->len, "refused"), reason);
	begin_write(p);
}

static void write_answered(struct monitor_probe *p, const struct nostr_msg *m)
{
	p->out.r.writable = m->accepted ? 1 : 0;
	if (m->accepted) {
		p->out.r.rtt_write = (int64_t)(mono_ms() - p->sent_at);
	} else {
		monitor_fail_set(&p->out.write, monitor_msg_prefix(m->message.s, m->message.len, "rejected"),
				 m->message.len ? m->message.s : "OK false without a message");
	}
	finish(p);
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

static int is_sub(const struct nostr_msg *m)
{
	return m->sub_id.len == sizeof(SUB_ID) - 1 && memcmp(m->sub_id.s, SUB_ID, m->sub_id.len) == 0;
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
	if (m->type == NOSTR_MSG_AUTH)
		p->out.auth = 1;
	else if (p->step == STEP_READ && is_sub(m) && (m->type == NOSTR_MSG_EVENT || m->type == NOSTR_MSG_EOSE))
		read_answered(p);
	else if (p->step == STEP_READ && is_sub(m) && m->type == NOSTR_MSG_CLOSED)
		read_refused(p, &m->message);
	else if (p->step == STEP_WRITE && m->type == NOSTR_MSG_OK && memcmp(m->event_id, p->event_id, 32) == 0)
		write_answered(p, m);
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
	p->local_failure |= net_error_is_local(st->err); /* at any step: nothing about the relay */
	if (p->step == STEP_OPEN) {
		o->r.openable = 0;
		monitor_fail_set(&o->open, cat, st->reason);
	} else if (p->step == STEP_READ) {
		monitor_fail_set(&o->read, cat, st->reason);
	} else if (p->step == STEP_WRITE) {
		o->r.writable = 0;
		monitor_fail_set(&o->write, cat, st->reason);
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
	if ((p->step != STEP_READ && p->step != STEP_WRITE) || now < p->deadline)
		return;
	fmt_ms(step_timeout(p), t, sizeof(t));
	if (p->step == STEP_READ) {
		snprintf(why, sizeof(why), "no EVENT, EOSE or CLOSED within %s of the REQ", t);
		monitor_fail_set(&p->out.read, "timeout", why);
		begin_write(p);
	} else {
		snprintf(why, sizeof(why), "no OK within %s of the EVENT", t);
		p->out.r.writable = 0;
		monitor_fail_set(&p->out.write, "timeout", why);
		finish(p);
	}
}

int monitor_probe_finished(const struct monitor_probe *p)
{
	return p->conn_done && p->nip11_done && !p->signing;
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
	if (monitor_doc_build(&p->out, &doc, snap->nip66_id) < 0) {
		buf_free(&doc);
		return -1;
	}
	snap->nip66_json = doc.data;
	snap->nip66_len = doc.len;
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
}
