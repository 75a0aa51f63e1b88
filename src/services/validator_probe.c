/* validator_probe.c — does a candidate speak Nostr? Its websocket opened, a REQ sent, the first answer judged. */
#include "services/validator_probe.h"

#include <stdio.h>
#include <string.h>

#define SUB_ID "brotr-validator"

static const char req_msg[] = "[\"REQ\",\"" SUB_ID "\",{\"limit\":1}]";

void validator_env_init(struct validator_env *e)
{
	memset(e, 0, sizeof(*e));
	json_doc_init(&e->doc);
	nostr_msg_init(&e->msg);
	nostr_event_init(&e->ev);
}

void validator_env_free(struct validator_env *e)
{
	json_doc_free(&e->doc);
	nostr_msg_free(&e->msg);
	nostr_event_free(&e->ev);
}

/* Records the verdict (the first one counts) and closes the websocket if it is open. */
static void decide(struct validator_probe *p, enum validator_verdict v, const char *category, const char *fmt,
		   const char *arg)
{
	if (p->verdict != VERDICT_PENDING)
		return;
	p->verdict = v;
	p->category = category;
	snprintf(p->reason, sizeof(p->reason), fmt, arg);
	if (p->conn)
		relay_conn_close(p->conn);
}

static void on_open(struct relay_conn *c, void *user, long long rtt_open_ms)
{
	struct validator_probe *p = user;
	p->opened = 1;
	p->rtt_open_ms = rtt_open_ms;
	p->deadline = mono_ms() + (uint64_t)p->env->response_timeout_ms[p->nw];
	if (relay_conn_send(c, req_msg, sizeof(req_msg) - 1, 0) < 0)
		decide(p, VERDICT_LOCAL, "internal", "%s", "cannot send the REQ");
}

static int is_sub(const struct nostr_msg *m)
{
	return m->sub_id.len == sizeof(SUB_ID) - 1 && memcmp(m->sub_id.s, SUB_ID, m->sub_id.len) == 0;
}

/* A printable excerpt of a message for the reason. */
static void excerpt(const char *text, size_t len, char *out, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < len && k + 1 < n && k < 60; i++)
		out[k++] = (unsigned char)text[i] >= 0x20 && (unsigned char)text[i] < 0x7f ? text[i] : '?';
	out[k] = '\0';
}

/* Something that is not a Nostr answer: kept as the reason should no answer follow. */
static void note(struct validator_probe *p, const char *what)
{
	if (!p->noted)
		snprintf(p->note, sizeof(p->note), "%s", what);
	p->noted = 1;
}

static void on_message(struct relay_conn *c, void *user, const char *text, size_t len)
{
	struct validator_probe *p = user;
	struct validator_env *env = p->env;
	struct nostr_msg *m = &env->msg;
	struct nostr_err err = { 0 };
	char ex[64], what[128];
	(void)c;
	m->type = NOSTR_MSG_UNKNOWN;
	int rc = nostr_msg_parse(m, &env->doc, &env->ev, text, len, &err);
	int answer = (m->type == NOSTR_MSG_EVENT || m->type == NOSTR_MSG_EOSE || m->type == NOSTR_MSG_CLOSED) && is_sub(m);
	if (answer && (rc == 0 || m->type == NOSTR_MSG_EVENT)) { /* an invalid event still answers the REQ */
		decide(p, VERDICT_RELAY, "relay", "answered the REQ with %s",
		       m->type == NOSTR_MSG_EVENT ? "EVENT" : m->type == NOSTR_MSG_EOSE ? "EOSE" : "CLOSED");
	} else if (rc == 0 && (m->type == NOSTR_MSG_NOTICE || m->type == NOSTR_MSG_AUTH)) {
		decide(p, VERDICT_RELAY, "relay", "sent %s", m->type == NOSTR_MSG_NOTICE ? "NOTICE" : "AUTH");
	} else if (len == sizeof(req_msg) - 1 && memcmp(text, req_msg, len) == 0) {
		decide(p, VERDICT_NOT_RELAY, "echo", "%s", "a websocket that echoes what it is sent");
	} else {
		excerpt(text, len, ex, sizeof(ex));
		snprintf(what, sizeof(what), "only messages that are not Nostr, e.g. %s", ex);
		note(p, what);
	}
}

static void on_dropped(struct relay_conn *c, void *user, const char *reason, size_t len)
{
	struct validator_probe *p = user;
	char what[96];
	(void)c, (void)len;
	snprintf(what, sizeof(what), "only messages that are not Nostr, e.g. a %s one", reason);
	note(p, what);
}

static void on_close(struct relay_conn *c, void *user, const struct relay_conn_status *st)
{
	struct validator_probe *p = user;
	(void)c;
	p->conn = NULL;
	if (st->err == NET_ERR_LIMIT || st->err == NET_ERR_STOPPED)
		decide(p, VERDICT_LOCAL, net_error_name(st->err), "%s", st->reason);
	else if (p->noted)
		decide(p, VERDICT_NOT_RELAY, "not_nostr", "%s", p->note);
	else if (p->opened)
		decide(p, VERDICT_NOT_RELAY, net_error_name(st->err), "closed before answering the REQ: %s", st->reason);
	else
		decide(p, VERDICT_NOT_RELAY, net_error_name(st->err), "%s", st->reason);
}

static const struct relay_conn_ops probe_ops = {
	.on_open = on_open,
	.on_message = on_message,
	.on_dropped = on_dropped,
	.on_close = on_close,
};

void validator_probe_start(struct validator_probe *p, struct validator_env *env, const char *url,
			   enum net_network nw)
{
	static const struct relay_conn_opts opts = { .idle_timeout_ms = -1 };
	memset(p, 0, sizeof(*p));
	snprintf(p->url, sizeof(p->url), "%s", url);
	p->nw = nw;
	p->env = env;
	p->conn = relay_conn_open(env->net, p->url, nw, &probe_ops, p, &opts);
	if (!p->conn)
		decide(p, VERDICT_LOCAL, "internal", "%s", "out of memory");
}

void validator_probe_tick(struct validator_probe *p, uint64_t now)
{
	char t[32];
	if (!p->opened || p->verdict != VERDICT_PENDING || now < p->deadline)
		return;
	snprintf(t, sizeof(t), "%lldms", p->env->response_timeout_ms[p->nw]);
	if (p->noted)
		decide(p, VERDICT_NOT_RELAY, "not_nostr", "%s", p->note);
	else
		decide(p, VERDICT_NOT_RELAY, "silent", "no Nostr message within %s of the REQ", t);
}

int validator_probe_finished(const struct validator_probe *p)
{
	return p->verdict != VERDICT_PENDING && !p->conn;
}
