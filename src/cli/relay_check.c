/* relay_check.c — `brotr relay check`: open, read and NIP-11 of each relay through the configured path, one line each. */
#include "cli/relay_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "net/nip11.h"
#include "net/relay.h"
#include "nostr/message.h"
#include "nostr/nip11.h"

#define SUB_ID "brotr-check"

/* What every check shares: the REQ and the message parser's scratch (callbacks run one at a time). */
struct check_run {
	/* per network: silence after a message that is not the answer (NOTICE, AUTH) ends the check
	 * after the response timeout too, not the longer idle timeout */
	struct relay_conn_opts opts[NET_NETWORKS];
	struct buf req;
	struct nostr_msg msg;
	struct json_doc doc;
	struct nostr_event ev;
};

struct check {
	struct check_run *run;
	const char *arg;         /* as given */
	const char *rejected;    /* why relay_url_parse refused arg, else NULL */
	struct relay_url u;      /* arg normalised */
	enum net_network nw;
	uint64_t req_sent;
	long long open_ms, read_ms;
	int opened, answered, auth;
	enum net_error err;
	char reason[320];
	const char *stage;       /* where it failed: "open" or "read" */
	char notice[160];        /* the last NOTICE */
	enum net_error nip11_err;
	char nip11_reason[320];
	long long nip11_ms;
	char nip11_invalid[160]; /* why the document could not be read, else "" */
	char name[160];
};

/* Copies s[0..n) (text from a relay) as it is, cut at a character boundary when out is too small;
 * print_quoted escapes it. */
static void copy_text(char *out, size_t cap, const char *s, size_t n)
{
	size_t o = n < cap ? n : cap - 1;
	if (o < n)
		while (o > 0 && ((unsigned char)s[o] & 0xC0) == 0x80)
			o--; /* s[o] is where the cut falls: never inside a UTF-8 sequence */
	memcpy(out, s, o);
	out[o] = '\0';
}

/* The length of the well-formed UTF-8 sequence at p (at most n bytes) and its code point, or 0. */
static size_t utf8_at(const unsigned char *p, size_t n, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len = p[0] < 0xC2 ? 0 : p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : p[0] < 0xF5 ? 4 : 0;
	if (!len || len > n)
		return 0;
	uint32_t c = p[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3F);
	}
	if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

/* Characters a terminal acts on or that reorder the line: C1 controls, bidirectional controls. */
static int unsafe_code_point(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
	       c == 0x200E || c == 0x200F || c == 0x061C;
}

/*
 * Writes ` key="value"` so that every value reads back unambiguously and nothing a relay sent
 * reaches the terminal as a command: '"' and '\' escaped with '\', control bytes and invalid
 * UTF-8 as \xNN, C1 and bidirectional controls as \uNNNN; other UTF-8 as it is.
 */
static void print_quoted(FILE *out, const char *key, const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t n = strlen(value);
	fprintf(out, " %s=\"", key);
	for (size_t i = 0; i < n;) {
		uint32_t c = p[i];
		size_t len = c < 0x80 ? 1 : utf8_at(p + i, n - i, &c);
		if (len == 0 || c < 0x20 || c == 0x7F) {
			fprintf(out, "\\x%02X", p[i]);
			len = 1;
		} else if (unsafe_code_point(c)) {
			fprintf(out, "\\u%04X", (unsigned)c);
		} else {
			if (c == '"' || c == '\\')
				fputc('\\', out);
			fwrite(p + i, 1, len, out);
		}
		i += len;
	}
	fputc('"', out);
}

static void fail_read(struct check *k, struct relay_conn *c, const char *fmt, const char *what)
{
	k->stage = "read";
	k->err = NET_ERR_PROTOCOL;
	snprintf(k->reason, sizeof(k->reason), fmt, what);
	relay_conn_close(c);
}

static void on_open(struct relay_conn *c, void *user, long long rtt)
{
	struct check *k = user;
	const struct buf *req = &k->run->req;
	k->opened = 1;
	k->open_ms = rtt;
	k->req_sent = mono_ms();
	if (relay_conn_send(c, req->data, req->len, 1) < 0)
		fail_read(k, c, "%s", "could not send the REQ");
}

static int ours(const struct nostr_msg *m)
{
	return m->sub_id.len == strlen(SUB_ID) && memcmp(m->sub_id.s, SUB_ID, m->sub_id.len) == 0;
}

/* EVENT (even one with a bad event: the relay answered) or EOSE ends the check; CLOSED fails it. */
static void on_message(struct relay_conn *c, void *user, const char *text, size_t len)
{
	struct check *k = user;
	struct check_run *r = k->run;
	struct nostr_err e = { 0 };
	char why[200];
	if (k->answered || k->stage)
		return;
	int rc = nostr_msg_parse(&r->msg, &r->doc, &r->ev, text, len, &e);
	const struct nostr_msg *m = &r->msg;
	if ((m->type == NOSTR_MSG_EVENT && ours(m)) || (rc == 0 && m->type == NOSTR_MSG_EOSE && ours(m))) {
		k->answered = 1;
		k->read_ms = (long long)(mono_ms() - k->req_sent);
		relay_conn_close(c);
	} else if (rc == 0 && m->type == NOSTR_MSG_CLOSED && ours(m)) {
		copy_text(why, sizeof(why), m->message.s, m->message.len);
		fail_read(k, c, "the relay refused the REQ: CLOSED %s", why);
	} else if (rc == 0 && m->type == NOSTR_MSG_NOTICE) {
		copy_text(k->notice, sizeof(k->notice), m->message.s, m->message.len);
	} else if (rc == 0 && m->type == NOSTR_MSG_AUTH) {
		k->auth = 1;
	}
}

static void on_close(struct relay_conn *c, void *user, const struct relay_conn_status *st)
{
	(void)c;
	struct check *k = user;
	if (k->answered || k->stage)
		return;
	k->stage = k->opened ? "read" : "open";
	k->err = st->err;
	snprintf(k->reason, sizeof(k->reason), "%s%s%s%s", st->err == NET_OK ? "closed before an answer" : st->reason,
		 k->auth ? "; the relay asked for NIP-42 AUTH" : "", *k->notice ? "; last NOTICE: " : "", k->notice);
}

static void on_nip11(void *user, const char *url, const struct net_nip11_result *r)
{
	(void)url;
	struct check *k = user;
	struct nip11_doc d;
	struct nostr_err e = { 0 };
	k->nip11_err = r->err;
	k->nip11_ms = r->elapsed_ms;
	snprintf(k->nip11_reason, sizeof(k->nip11_reason), "%s", r->reason);
	if (r->err != NET_OK)
		return;
	nip11_init(&d);
	if (nip11_parse(&d, r->body, r->len, &e) < 0)
		nostr_err_str(&e, k->nip11_invalid, sizeof(k->nip11_invalid));
	else if (d.name.s)
		copy_text(k->name, sizeof(k->name), d.name.s, d.name.len);
	nip11_free(&d);
}

/* The argument as given, with spaces and control characters as '?' so that the line stays one line. */
static void print_arg(FILE *out, const char *arg)
{
	for (const unsigned char *p = (const unsigned char *)arg; *p; p++)
		fputc(*p <= ' ' || *p == 0x7f ? '?' : *p, out);
}

static void print_line(FILE *out, const struct check *k)
{
	if (k->rejected) {
		print_arg(out, k->arg);
		fprintf(out, " failed=url error=url");
		print_quoted(out, "reason", k->rejected);
		fputc('\n', out);
		return;
	}
	fprintf(out, "%s network=%s", k->u.url, net_network_name(k->nw));
	if (k->answered)
		fprintf(out, " open_ms=%lld read_ms=%lld", k->open_ms, k->read_ms);
	else if (k->opened)
		fprintf(out, " open_ms=%lld", k->open_ms);
	if (!k->answered) {
		fprintf(out, " failed=%s error=%s", k->stage ? k->stage : "open", net_error_name(k->err));
		print_quoted(out, "reason", k->reason);
	}
	if (k->nip11_err != NET_OK) {
		fprintf(out, " nip11_error=%s", net_error_name(k->nip11_err));
		print_quoted(out, "nip11_reason", k->nip11_reason);
	} else if (*k->nip11_invalid) {
		fprintf(out, " nip11_ms=%lld nip11_error=document", k->nip11_ms);
		print_quoted(out, "nip11_reason", k->nip11_invalid);
	} else {
		fprintf(out, " nip11_ms=%lld", k->nip11_ms);
		print_quoted(out, "name", k->name);
	}
	fputc('\n', out);
}

static const struct relay_conn_ops check_ops = {
	.on_open = on_open,
	.on_message = on_message,
	.on_close = on_close,
};

/* ["REQ","brotr-check",{"limit":1}] into run->req. */
static int build_req(struct check_run *run)
{
	struct nostr_filter f;
	struct nostr_err e = { 0 };
	nostr_filter_init(&f);
	f.has_limit = 1;
	f.limit = 1;
	int rc = nostr_build_req(&run->req, SUB_ID, &f, 1, &e);
	nostr_filter_free(&f);
	return rc;
}

/* Normalises the argument (the rejection is reported in its line) and starts the open and the fetch. */
static int start(struct net *n, struct check *k, unsigned flags)
{
	if (relay_url_parse(k->arg, strlen(k->arg), flags, &k->u, &k->rejected) < 0)
		return 0;
	k->rejected = NULL;
	k->nw = net_network_of(&k->u);
	if (!relay_conn_open(n, k->u.url, k->nw, &check_ops, k, &k->run->opts[k->nw]) ||
	    net_nip11_fetch(n, k->u.url, k->nw, on_nip11, k) < 0)
		return -1;
	return 0;
}

static int run_all(struct net *n, struct check *k, int n_urls, unsigned flags, FILE *out)
{
	int status = 0;
	for (int i = 0; i < n_urls; i++)
		if (start(n, &k[i], flags) < 0)
			return -1;
	net_run(n, NULL, -1);
	for (int i = 0; i < n_urls; i++) {
		print_line(out, &k[i]);
		if (!k[i].answered)
			status = 1;
	}
	return status;
}

int relay_check_run(const struct config *cfg, const struct logger *lg, int n_urls, char **urls, FILE *out)
{
	struct net_options o;
	struct check_run run;
	char err[256];
	int status = 1;
	net_options_from_config(&o, cfg);
	for (int i = 0; i < NET_NETWORKS; i++)
		run.opts[i] = (struct relay_conn_opts){ .idle_timeout_ms = o.limits[i].response_timeout_ms };
	buf_init(&run.req);
	nostr_msg_init(&run.msg);
	json_doc_init(&run.doc);
	nostr_event_init(&run.ev);
	struct net *n = net_new(&o, lg, NULL, err, sizeof(err));
	struct check *k = calloc((size_t)n_urls, sizeof(*k));
	if (!n) {
		fprintf(stderr, "brotr: %s\n", err);
		goto out;
	}
	if (!k || build_req(&run) < 0) {
		fprintf(stderr, "brotr: out of memory\n");
		goto out;
	}
	for (int i = 0; i < n_urls; i++)
		k[i] = (struct check){ .run = &run, .arg = urls[i] };
	status = run_all(n, k, n_urls, cfg->network.allow_local ? RELAY_URL_ALLOW_LOCAL : 0, out);
	if (status < 0) {
		fprintf(stderr, "brotr: out of memory\n");
		status = 1;
	}
out:
	net_free(n);
	free(k);
	nostr_event_free(&run.ev);
	json_doc_free(&run.doc);
	nostr_msg_free(&run.msg);
	buf_free(&run.req);
	return status;
}
