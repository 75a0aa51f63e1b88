/* link.c — one client connection attempt through the helper: queueing, phases with their timeouts, failure reasons. */
#include "net/net_int.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

const struct net_limits *link_limits(const struct link *l)
{
	return &l->net->opt.limits[l->nw];
}

void link_fmt_ms(long long ms, char *out, size_t len)
{
	if (ms % 1000)
		snprintf(out, len, "%lldms", ms);
	else
		snprintf(out, len, "%llds", ms / 1000);
}

static void timer_cb(lws_sorted_usec_list_t *sul);
static void finish_cb(lws_sorted_usec_list_t *sul);

void link_init(struct link *l, struct net *n, const struct link_ops *ops, enum net_network nw)
{
	l->ops = ops;
	l->net = n;
	l->nw = nw;
	l->socks_reply = -1;
}

static void arm(struct link *l)
{
	if (!l->deadline) {
		lws_sul_cancel(&l->sul_timer);
		return;
	}
	uint64_t now = mono_ms(), at = l->deadline;
	if (l->phase == LP_CONNECT && l->has_ticket && at > now + LINK_TICK_MS)
		at = now + LINK_TICK_MS;
	lws_usec_t us = at > now ? (lws_usec_t)(at - now) * 1000 : 1;
	lws_sul_schedule(l->net->ctx, 0, &l->sul_timer, timer_cb, us);
}

void link_set_deadline(struct link *l, uint64_t deadline_ms)
{
	l->deadline = deadline_ms;
	arm(l);
}

static void schedule_finish(struct link *l)
{
	if (l->finish_scheduled)
		return;
	l->finish_scheduled = 1;
	lws_sul_schedule(l->net->ctx, 0, &l->sul_finish, finish_cb, 1);
}

static void end_attempt(struct link *l)
{
	if (l->wsi)
		lws_set_timeout(l->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	else
		schedule_finish(l);
}

void link_fail(struct link *l, enum net_error err, int socks_reply, int http_status, const char *fmt, ...)
{
	if (l->failed || l->closing) {
		end_attempt(l);
		return;
	}
	l->failed = 1;
	l->err = err;
	l->socks_reply = socks_reply;
	l->http_status = http_status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->reason, sizeof(l->reason), fmt, ap);
	va_end(ap);
	end_attempt(l);
}

void link_close(struct link *l)
{
	l->closing = 1;
	end_attempt(l);
}

static void enqueue(struct link *l)
{
	struct net *n = l->net;
	l->phase = LP_QUEUED;
	l->qnext = NULL;
	if (n->queue_tail[l->nw])
		n->queue_tail[l->nw]->qnext = l;
	else
		n->queue_head[l->nw] = l;
	n->queue_tail[l->nw] = l;
}

static void dequeue(struct link *l)
{
	struct net *n = l->net;
	struct link **pp = &n->queue_head[l->nw], *prev = NULL;
	while (*pp && *pp != l) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	if (!*pp)
		return;
	*pp = l->qnext;
	if (n->queue_tail[l->nw] == l)
		n->queue_tail[l->nw] = prev;
	l->qnext = NULL;
}

/* The SOCKS username for this attempt, or "" for none. */
static void isolation_user(struct link *l, char *out, size_t len)
{
	struct net *n = l->net;
	char what[300];
	if (n->opt.isolation == NET_ISOLATE_NONE || !*n->socks_proxy) {
		out[0] = '\0';
		return;
	}
	if (n->opt.isolation == NET_ISOLATE_RELAY)
		snprintf(what, sizeof(what), "relay:%s:%d", l->u.host, l->u.port);
	else
		snprintf(what, sizeof(what), "conn:%llu", (unsigned long long)++n->conn_serial);
	net_isolation_tag(n, what, out, len);
}

static int start_tunnel(struct link *l, char *token, size_t toklen)
{
	struct net *n = l->net;
	char user[64];
	isolation_user(l, user, sizeof(user));
	struct helper_ticket_req r = {
		.host = l->u.host,
		.port = l->u.port,
		.user = *user ? user : NULL,
		.pass = NET_ISOLATION_PASSWORD,
		.connect_timeout_ms = link_limits(l)->connect_timeout_ms,
	};
	if (helper_ticket_open(n->helper, &r, token, toklen, &l->ticket) < 0) {
		link_fail(l, NET_ERR_LIMIT, -1, 0, "too many tunnels open at once ([network] max_tunnels = %d)",
			  n->opt.max_tunnels);
		return -1;
	}
	l->has_ticket = 1;
	return 0;
}

static void start(struct link *l)
{
	struct net *n = l->net;
	const struct net_limits *lim = link_limits(l);
	char token[32];
	n->active[l->nw]++;
	l->counted = 1;
	l->t_start = mono_ms();
	l->phase = LP_CONNECT;
	if (!n->opt.no_helper && start_tunnel(l, token, sizeof(token)) < 0)
		return;
	struct lws_client_connect_info i;
	memset(&i, 0, sizeof(i));
	i.context = n->ctx;
	i.vhost = n->vh;
	i.address = n->opt.no_helper ? l->u.host : token; /* with the helper, lws resolves nothing */
	i.port = l->u.port;
	i.path = l->u.path[0] ? l->u.path : "/";
	i.host = l->host_header; /* Host header, and (port removed) SNI and certificate name */
	i.alpn = "http/1.1";
	i.local_protocol_name = "brotr";
	i.opaque_user_data = l;
	i.pwsi = &l->wsi;
	i.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	if (l->u.secure)
		i.ssl_connection |= LCCSCF_USE_SSL;
	if (l->u.secure && lim->allow_insecure)
		i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_INSECURE | LCCSCF_ALLOW_EXPIRED |
				    LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
	l->ops->prepare(l, &i);
	long long budget = lim->connect_timeout_ms + (n->opt.no_helper ? lim->tls_timeout_ms : LINK_CONNECT_GRACE_MS);
	link_set_deadline(l, l->t_start + (uint64_t)budget);
	if (!lws_client_connect_via_info(&i)) {
		l->wsi = NULL; /* lws freed it, with or without a WSI_DESTROY */
		link_fail(l, NET_ERR_LIMIT, -1, 0, "libwebsockets could not start the connection");
	}
}

static void pump(struct net *n, enum net_network nw)
{
	while (n->queue_head[nw] && n->active[nw] < n->opt.limits[nw].max_connections && !n->destroying) {
		struct link *l = n->queue_head[nw];
		dequeue(l);
		start(l);
	}
}

static void submit(struct link *l)
{
	enqueue(l);
	pump(l->net, l->nw);
}

int link_submit(struct link *l, const char *url)
{
	struct net *n = l->net;
	const char *why;
	l->url = strdup(url);
	if (!l->url)
		return -1;
	l->next = n->links;
	if (n->links)
		n->links->prev = l;
	n->links = l;
	n->n_links++;
	l->phase = LP_NEW;
	if (relay_url_parse(url, strlen(url), RELAY_URL_ALLOW_LOCAL, &l->u, &why) < 0) {
		link_fail(l, NET_ERR_URL, -1, 0, "unusable relay URL: %s", why);
		return 0;
	}
	const char *lb = l->u.ip == 6 ? "[" : "", *rb = l->u.ip == 6 ? "]" : "";
	if (l->u.port == (l->u.secure ? 443 : 80))
		snprintf(l->host_header, sizeof(l->host_header), "%s%s%s", lb, l->u.host, rb);
	else
		snprintf(l->host_header, sizeof(l->host_header), "%s%s%s:%d", lb, l->u.host, rb, l->u.port);
	int onion = net_network_of(&l->u) == NET_TOR;
	if (onion && l->nw != NET_TOR)
		link_fail(l, NET_ERR_URL, -1, 0, "an .onion relay is on the tor network, not %s",
			  net_network_name(l->nw));
	else if (onion && !*n->socks_proxy && !n->opt.no_helper)
		link_fail(l, NET_ERR_URL, -1, 0, "an .onion relay needs a SOCKS proxy, and [tor] socks_proxy is empty");
	else
		submit(l);
	return 0;
}

void link_resubmit(struct link *l)
{
	l->failed = 0;
	l->closing = 0;
	l->err = NET_OK;
	l->socks_reply = -1;
	l->http_status = 0;
	l->reason[0] = '\0';
	l->tls_error[0] = '\0';
	link_tls_reset(l);
	submit(l);
}

void link_detach(struct link *l)
{
	struct net *n = l->net;
	lws_sul_cancel(&l->sul_timer);
	lws_sul_cancel(&l->sul_finish);
	if (l->phase == LP_QUEUED)
		dequeue(l);
	if (l->prev)
		l->prev->next = l->next;
	else if (n->links == l)
		n->links = l->next;
	if (l->next)
		l->next->prev = l->prev;
	n->n_links--;
	free(l->url);
	l->url = NULL;
	link_tls_reset(l);
}

static void finish_cb(lws_sorted_usec_list_t *sul)
{
	struct link *l = lws_container_of(sul, struct link, sul_finish);
	struct net *n = l->net;
	enum net_network nw = l->nw;
	l->finish_scheduled = 0;
	if (l->wsi)
		return; /* its WSI_DESTROY schedules this again */
	lws_sul_cancel(&l->sul_timer);
	l->deadline = 0;
	if (l->has_ticket) {
		helper_ticket_close(n->helper, l->ticket);
		l->has_ticket = 0;
	}
	if (l->phase == LP_QUEUED)
		dequeue(l);
	if (l->counted) {
		n->active[nw]--;
		l->counted = 0;
	}
	l->phase = LP_DONE;
	if (l->failed)
		net_count_failure(n, l);
	l->ops->finished(l); /* may free l */
	pump(n, nw);
}

/* The tunnel is up: the TLS handshake (wss) or the request (ws) comes next. */
static void tunnel_up(struct link *l, uint64_t at)
{
	const struct net_limits *lim = link_limits(l);
	l->phase = l->u.secure ? LP_TLS : LP_UPGRADE;
	link_set_deadline(l, at + (uint64_t)(l->u.secure ? lim->tls_timeout_ms : lim->upgrade_timeout_ms));
}

static void connect_tick(struct link *l, uint64_t now)
{
	char t[24];
	if (l->has_ticket) {
		struct helper_ticket_status st;
		helper_ticket_status(l->net->helper, l->ticket, &st);
		if (st.state == TICKET_ESTABLISHED) {
			tunnel_up(l, st.established_ms);
			return;
		}
		if (st.state == TICKET_FAILED) {
			link_fail(l, st.err, st.socks_reply, 0, "%s", st.reason);
			return;
		}
	}
	if (now < l->deadline) {
		arm(l);
		return;
	}
	link_fmt_ms(link_limits(l)->connect_timeout_ms, t, sizeof(t));
	link_fail(l, NET_ERR_TIMEOUT, -1, 0, "timeout: no connection within %s (%s connect_timeout)", t,
		  net_network_name(l->nw));
}

static void timer_cb(lws_sorted_usec_list_t *sul)
{
	struct link *l = lws_container_of(sul, struct link, sul_timer);
	const struct net_limits *lim = link_limits(l);
	uint64_t now = mono_ms();
	char t[24];
	if (l->phase == LP_CONNECT) {
		connect_tick(l, now);
	} else if (now < l->deadline) {
		arm(l);
	} else if (l->phase == LP_TLS) {
		link_fmt_ms(lim->tls_timeout_ms, t, sizeof(t));
		link_fail(l, NET_ERR_TIMEOUT, -1, 0, "timeout: TLS handshake not done within %s", t);
	} else if (l->phase == LP_UPGRADE) {
		link_fmt_ms(lim->upgrade_timeout_ms, t, sizeof(t));
		link_fail(l, NET_ERR_TIMEOUT, -1, 0, "timeout: no %s within %s", l->ops->kind == LINK_WS ?
			  "websocket upgrade" : "HTTP response", t);
	} else if (l->phase == LP_OPEN) {
		l->ops->open_timer(l);
	}
}

/* An HTTP status where a websocket upgrade was expected. */
static void fail_status(struct link *l, struct lws *wsi, int status)
{
	char loc[256] = "";
	if (status >= 300 && status < 400 && lws_hdr_copy(wsi, loc, sizeof(loc), WSI_TOKEN_HTTP_LOCATION) > 0)
		link_fail(l, NET_ERR_HTTP, -1, status, "HTTP %d redirect to %s (redirects are not followed)", status, loc);
	else
		link_fail(l, NET_ERR_HTTP, -1, status, "HTTP %d instead of 101 Switching Protocols", status);
}

/* lws words a failed handshake as "connect SSL err 1: ..."; OpenSSL's queue usually says more. */
static void fail_tls(struct link *l, const char *msg)
{
	unsigned long e = ERR_peek_last_error();
	char detail[160];
	if (e && ERR_GET_LIB(e) == ERR_LIB_SSL) {
		ERR_error_string_n(e, detail, sizeof(detail));
		link_fail(l, NET_ERR_TLS, -1, 0, "TLS handshake failed: %s", detail);
	} else if (strncmp(msg, "connect SSL err", 15) == 0) { /* lws 4.1 prints the error class, not the error */
		link_fail(l, NET_ERR_TLS, -1, 0,
			  "TLS handshake failed: SSL protocol error (not a TLS server, or no protocol in common)");
	} else {
		link_fail(l, NET_ERR_TLS, -1, 0, "TLS handshake failed: %s", msg);
	}
}

static const char *phase_name(enum link_phase p)
{
	switch (p) {
	case LP_TLS:
		return "the TLS handshake";
	case LP_UPGRADE:
		return "the request";
	case LP_OPEN:
		return "the response";
	default:
		return "connecting";
	}
}

/* lws gave up on the attempt with its own words in msg; find the precise reason. */
static void on_connection_error(struct link *l, struct lws *wsi, const char *msg)
{
	if (l->failed || l->closing)
		return;
	if (l->has_ticket) {
		struct helper_ticket_status st;
		helper_ticket_status(l->net->helper, l->ticket, &st);
		if (st.state == TICKET_FAILED) {
			link_fail(l, st.err, st.socks_reply, 0, "%s", st.reason);
			return;
		}
		if (st.state == TICKET_WAITING) { /* the helper never read our request: its slots, or our descriptors */
			link_fail(l, NET_ERR_LIMIT, -1, 0, "the local SOCKS5 helper dropped the connection before reading "
				  "its request (helper full, or out of descriptors: %s)", msg);
			return;
		}
		if (st.state != TICKET_ESTABLISHED) {
			link_fail(l, NET_ERR_PROXY, -1, 0, "the tunnel did not come up (%s)", msg);
			return;
		}
	}
	int status = lws_http_client_http_response(wsi);
	if (l->tls_error[0])
		link_fail(l, NET_ERR_TLS, -1, 0, "TLS: %s", l->tls_error);
	else if (status && status != 101)
		fail_status(l, wsi, status);
	else if (strncmp(msg, "HS:", 3) == 0)
		link_fail(l, NET_ERR_HTTP, -1, 0, "bad websocket handshake: %s", msg + 4);
	else if (l->phase == LP_TLS || strstr(msg, "SSL") || strstr(msg, "tls") || strstr(msg, "cert"))
		fail_tls(l, msg);
	else
		link_fail(l, NET_ERR_CLOSED, -1, 0, "connection closed during %s (%s)", phase_name(l->phase), msg);
}

static void on_cert_verify(struct link *l, X509_STORE_CTX *x, const SSL *ssl, int preverify_ok)
{
	link_tls_verify(l, x, ssl, preverify_ok);
	if (preverify_ok || l->tls_error[0])
		return;
	int e = X509_STORE_CTX_get_error(x);
	snprintf(l->tls_error, sizeof(l->tls_error), "certificate verification failed: %s (depth %d)",
		 X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(x));
}

int link_callback(struct link *l, struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len)
{
	char msg[160];
	switch (reason) {
	case LWS_CALLBACK_WSI_DESTROY:
		l->wsi = NULL;
		if (!l->net->destroying) {
			if (!l->failed && !l->closing)
				link_fail(l, NET_ERR_CLOSED, -1, 0, "connection closed during %s", phase_name(l->phase));
			schedule_finish(l);
		}
		return 0;
	default:
		break;
	}
	if (l->net->destroying)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(msg, sizeof(msg), "%.*s", in ? (int)len : 0, in ? (const char *)in : "");
		on_connection_error(l, wsi, msg[0] ? msg : "no reason given");
		return 0;
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		on_cert_verify(l, user, in, (int)len);
		return 0;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (l->phase == LP_CONNECT || l->phase == LP_TLS) { /* TLS (if any) is done: the request goes out */
			link_tls_done(l, wsi);
			l->phase = LP_UPGRADE;
			link_set_deadline(l, mono_ms() + (uint64_t)link_limits(l)->upgrade_timeout_ms);
		}
		break;
	default:
		break;
	}
	return l->ops->callback(l, wsi, reason, in, len);
}
