/* nip11.c — fetching a relay's NIP-11 information document, or another JSON document, over HTTP(S), through the same helper. */
#include "net/nip11.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "net/http_reply.h"
#include "net/net_int.h"

struct nip11_fetch {
	struct link link; /* first */
	net_nip11_done_fn done;
	void *user;
	const char *accept;   /* static */
	size_t cap;           /* largest body */
	const char *cap_name; /* the setting that says so, for the reason; static */
	struct buf body;
	char content_type[128];
	int complete;
	uint64_t t_end;
};

static struct nip11_fetch *fetch_of(struct link *l)
{
	return (struct nip11_fetch *)l;
}

static void prepare(struct link *l, struct lws_client_connect_info *i)
{
	(void)l;
	i->method = "GET";
}

/* Status and headers: decide before reading a byte of the body. */
static int on_headers(struct nip11_fetch *f, struct lws *wsi)
{
	struct link *l = &f->link;
	size_t cap = f->cap;
	int status = lws_http_client_http_response(wsi);
	char loc[256] = "", len[32] = "";
	if (lws_hdr_copy(wsi, f->content_type, sizeof(f->content_type), WSI_TOKEN_HTTP_CONTENT_TYPE) < 0)
		f->content_type[0] = '\0';
	if (status >= 300 && status < 400) {
		lws_hdr_copy(wsi, loc, sizeof(loc), WSI_TOKEN_HTTP_LOCATION);
		link_fail(l, NET_ERR_HTTP, -1, status, "HTTP %d redirect to %s (redirects are not followed)", status,
			  loc[0] ? loc : "(no Location)");
		return -1;
	}
	if (status != 200) {
		link_fail(l, NET_ERR_HTTP, -1, status, "HTTP %d", status);
		return -1;
	}
	if (!http_json_type(f->content_type)) {
		link_fail(l, NET_ERR_HTTP, -1, status, "content type '%s' is not %s", f->content_type, f->accept);
		return -1;
	}
	unsigned long long clen = 0;
	int has_len = lws_hdr_copy(wsi, len, sizeof(len), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
	if (has_len && http_content_length(len, &clen) < 0) {
		link_fail(l, NET_ERR_HTTP, -1, status, "Content-Length '%s' is not a length", len);
		return -1;
	}
	if (clen > cap) {
		link_fail(l, NET_ERR_HTTP, -1, status, "document of %s bytes exceeds %s (%zu)", len, f->cap_name, cap);
		return -1;
	}
	l->http_status = status;
	l->phase = LP_OPEN;
	link_set_deadline(l, mono_ms() + (uint64_t)link_limits(l)->response_timeout_ms);
	return 0;
}

static int on_body(struct nip11_fetch *f, const char *in, size_t len)
{
	size_t cap = f->cap;
	if (f->body.len + len > cap) {
		link_fail(&f->link, NET_ERR_HTTP, -1, f->link.http_status, "document exceeds %s (%zu bytes)", f->cap_name,
			  cap);
		return -1;
	}
	buf_append(&f->body, in, len);
	if (f->body.failed) {
		link_fail(&f->link, NET_ERR_LIMIT, -1, 0, "out of memory for the document");
		return -1;
	}
	return 0;
}

static int callback(struct link *l, struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len)
{
	struct nip11_fetch *f = fetch_of(l);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = in, *end = *p + len;
		return lws_add_http_header_by_name(wsi, (const unsigned char *)"accept:", (const unsigned char *)f->accept,
						   (int)strlen(f->accept), p, end) ? -1 : 0;
	}
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		return on_headers(f, wsi);
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		char buffer[4096 + LWS_PRE], *px = buffer + LWS_PRE;
		int lenx = (int)sizeof(buffer) - LWS_PRE;
		return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
	}
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		return on_body(f, in, len);
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (!l->failed) {
			f->complete = 1;
			f->t_end = mono_ms();
			link_close(l);
		}
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (!f->complete)
			link_fail(l, NET_ERR_CLOSED, -1, l->http_status, "connection closed before the document was complete");
		return 0;
	default:
		return 0;
	}
}

static void open_timer(struct link *l)
{
	char t[24];
	link_fmt_ms(link_limits(l)->response_timeout_ms, t, sizeof(t));
	link_fail(l, NET_ERR_TIMEOUT, -1, l->http_status, "timeout: the document did not arrive within %s", t);
}

static void finished(struct link *l)
{
	struct nip11_fetch *f = fetch_of(l);
	struct net *n = l->net;
	int ok = f->complete && !l->failed;
	uint64_t end = f->t_end ? f->t_end : mono_ms();
	struct net_nip11_result r = {
		.err = ok ? NET_OK : l->err,
		.reason = ok ? "" : l->reason,
		.socks_reply = ok ? -1 : l->socks_reply,
		.http_status = l->http_status,
		.content_type = f->content_type,
		.body = ok ? (f->body.data ? f->body.data : "") : NULL,
		.len = ok ? f->body.len : 0,
		.elapsed_ms = l->t_start ? (long long)(end - l->t_start) : 0,
	};
	if (ok) {
		n->stats.nip11_ok++;
	} else {
		n->stats.nip11_failed++;
		log_debug(&n->log, "NIP-11 fetch failed", LOG_S("relay", l->url), LOG_S("error", net_error_name(l->err)),
			 LOG_S("reason", l->reason));
	}
	f->done(f->user, l->url, &r);
	link_detach(l);
	buf_free(&f->body);
	free(f);
}

static void destroy(struct link *l)
{
	struct nip11_fetch *f = fetch_of(l);
	buf_free(&f->body);
	free(f);
}

static const struct link_ops http_ops = {
	.kind = LINK_HTTP,
	.prepare = prepare,
	.callback = callback,
	.open_timer = open_timer,
	.finished = finished,
	.destroy = destroy,
};

static int fetch(struct net *n, const char *url, enum net_network nw, const char *accept, size_t cap,
		 const char *cap_name, net_nip11_done_fn done, void *user)
{
	struct nip11_fetch *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	link_init(&f->link, n, &http_ops, nw);
	buf_init(&f->body);
	f->done = done;
	f->user = user;
	f->accept = accept;
	f->cap = cap;
	f->cap_name = cap_name;
	if (link_submit(&f->link, url) < 0) {
		free(f);
		return -1;
	}
	return 0;
}

int net_nip11_fetch(struct net *n, const char *url, enum net_network nw, net_nip11_done_fn done, void *user)
{
	return fetch(n, url, nw, "application/nostr+json", n->opt.nip11_max_size, "nip11_max_size", done, user);
}

int net_json_fetch(struct net *n, const char *url, enum net_network nw, size_t max_size, net_nip11_done_fn done,
		   void *user)
{
	return fetch(n, url, nw, "application/json", max_size, "the source's size cap", done, user);
}
