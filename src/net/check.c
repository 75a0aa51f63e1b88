/* check.c — `brotr relay check`: open, read and NIP-11 of each relay through the configured path, one line each. */
#define JSMN_STATIC
#include "net/check.h"

#include <jsmn.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "net/nip11.h"
#include "net/relay.h"

#define SUB_ID "brotr-check"

struct check {
	const char *url;
	enum net_network nw;
	uint64_t req_sent;
	long long open_ms, read_ms;
	int opened, answered, done;
	enum net_error err;
	char reason[320];
	const char *stage;       /* where it failed: "open" or "read" */
	int nip11_done;
	enum net_error nip11_err;
	char nip11_reason[320];
	long long nip11_ms;
	char name[160];
};

/*
 * Minimal JSON reading until the nostr layer's parsers are wired in: the first two strings
 * of a relay message, and the top-level "name" of a NIP-11 document.
 */
static jsmntok_t *tokens(const char *js, size_t len, int *n)
{
	jsmn_parser p;
	jsmn_init(&p);
	*n = jsmn_parse(&p, js, len, NULL, 0);
	if (*n <= 0)
		return NULL;
	jsmntok_t *t = calloc((size_t)*n, sizeof(*t));
	jsmn_init(&p);
	if (t && jsmn_parse(&p, js, len, t, (unsigned)*n) != *n) {
		free(t);
		return NULL;
	}
	return t;
}

static int tok_is(const char *js, const jsmntok_t *t, const char *s)
{
	size_t n = strlen(s);
	return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n && memcmp(js + t->start, s, n) == 0;
}

static int skip(const jsmntok_t *t, int i)
{
	int end = i + 1;
	for (int k = 0; k < t[i].size; k++)
		end = skip(t, end);
	return end;
}

/* Copies a JSON string token's text as it stands (still escaped, so quotes stay \"), control characters replaced. */
static void printable(const char *js, const jsmntok_t *t, char *out, size_t len)
{
	size_t n = (size_t)(t->end - t->start), o = 0;
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		unsigned char c = (unsigned char)js[t->start + i];
		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
}

static void nip11_name(const char *js, size_t len, char *out, size_t outlen)
{
	int n;
	jsmntok_t *t = tokens(js, len, &n);
	out[0] = '\0';
	if (t && t[0].type == JSMN_OBJECT)
		for (int i = 1; i < n; i = skip(t, i + 1))
			if (tok_is(js, &t[i], "name") && t[i + 1].type == JSMN_STRING)
				printable(js, &t[i + 1], out, outlen);
	free(t);
}

static void on_open(struct relay_conn *c, void *user, long long rtt)
{
	struct check *k = user;
	static const char req[] = "[\"REQ\",\"" SUB_ID "\",{\"limit\":1}]";
	k->opened = 1;
	k->open_ms = rtt;
	k->req_sent = mono_ms();
	if (relay_conn_send(c, req, sizeof(req) - 1, 1) < 0) {
		k->stage = "read";
		snprintf(k->reason, sizeof(k->reason), "could not send the REQ");
		relay_conn_close(c);
	}
}

static void on_message(struct relay_conn *c, void *user, const char *text, size_t len)
{
	struct check *k = user;
	int n;
	jsmntok_t *t = tokens(text, len, &n);
	if (!t || n < 3 || t[0].type != JSMN_ARRAY || !tok_is(text, &t[2], SUB_ID) || k->answered || k->stage) {
		free(t);
		return; /* NOTICE, AUTH and anything not about our subscription */
	}
	if (tok_is(text, &t[1], "EVENT") || tok_is(text, &t[1], "EOSE")) {
		k->answered = 1;
		k->read_ms = (long long)(mono_ms() - k->req_sent);
		relay_conn_close(c);
	} else if (tok_is(text, &t[1], "CLOSED")) {
		char why[200] = "";
		if (n > 3)
			printable(text, &t[3], why, sizeof(why));
		k->stage = "read";
		k->err = NET_ERR_PROTOCOL;
		snprintf(k->reason, sizeof(k->reason), "the relay refused the REQ: CLOSED %s", why);
		relay_conn_close(c);
	}
	free(t);
}

static void on_close(struct relay_conn *c, void *user, const struct relay_conn_status *st)
{
	(void)c;
	struct check *k = user;
	k->done = 1;
	if (k->answered || k->stage)
		return;
	k->stage = k->opened ? "read" : "open";
	k->err = st->err;
	snprintf(k->reason, sizeof(k->reason), "%s", st->err == NET_OK ? "closed before an answer" : st->reason);
}

static void on_nip11(void *user, const char *url, const struct net_nip11_result *r)
{
	(void)url;
	struct check *k = user;
	k->nip11_done = 1;
	k->nip11_err = r->err;
	k->nip11_ms = r->elapsed_ms;
	snprintf(k->nip11_reason, sizeof(k->nip11_reason), "%s", r->reason);
	if (r->err == NET_OK)
		nip11_name(r->body, r->len, k->name, sizeof(k->name));
}

static void print_line(FILE *out, const struct check *k)
{
	fprintf(out, "%s network=%s", k->url, net_network_name(k->nw));
	if (k->answered)
		fprintf(out, " open_ms=%lld read_ms=%lld", k->open_ms, k->read_ms);
	else if (k->opened)
		fprintf(out, " open_ms=%lld", k->open_ms);
	if (!k->answered)
		fprintf(out, " failed=%s error=%s reason=\"%s\"", k->stage ? k->stage : "open", net_error_name(k->err),
			k->reason);
	if (k->nip11_err == NET_OK)
		fprintf(out, " nip11_ms=%lld name=\"%s\"", k->nip11_ms, k->name);
	else
		fprintf(out, " nip11_error=%s nip11_reason=\"%s\"", net_error_name(k->nip11_err), k->nip11_reason);
	fputc('\n', out);
}

static const struct relay_conn_ops check_ops = {
	.on_open = on_open,
	.on_message = on_message,
	.on_close = on_close,
};

/* The network of a URL, until the nostr layer's classification is wired in: .onion is tor. */
static enum net_network network_of(const char *url)
{
	struct net_url u;
	char err[128];
	return net_url_parse(url, &u, err, sizeof(err)) == 0 && net_host_is_onion(u.host) ? NET_TOR : NET_CLEARNET;
}

int relay_check_run(const struct config *cfg, const struct logger *lg, int n_urls, char **urls, FILE *out)
{
	struct net_options o;
	char err[256];
	net_options_from_config(&o, cfg);
	struct net *n = net_new(&o, lg, NULL, err, sizeof(err));
	if (!n) {
		fprintf(stderr, "brotr: %s\n", err);
		return 1;
	}
	struct check *k = calloc((size_t)n_urls, sizeof(*k));
	int status = 1;
	for (int i = 0; k && i < n_urls; i++) {
		k[i].url = urls[i];
		k[i].nw = network_of(urls[i]);
		if (!relay_conn_open(n, urls[i], k[i].nw, &check_ops, &k[i], NULL) ||
		    net_nip11_fetch(n, urls[i], k[i].nw, on_nip11, &k[i]) < 0)
			goto out;
	}
	net_run(n, NULL, -1);
	status = 0;
	for (int i = 0; k && i < n_urls; i++) {
		print_line(out, &k[i]);
		if (!k[i].answered)
			status = 1;
	}
out:
	if (!k)
		fprintf(stderr, "brotr: out of memory\n");
	net_free(n);
	free(k);
	return status;
}
