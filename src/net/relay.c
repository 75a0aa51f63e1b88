/* relay.c — a websocket connection to one Nostr relay: complete text messages in, text frames out. */
#include "net/relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "net/net_int.h"

#define RX_KEEP 65536          /* a receive buffer larger than this is released after its message */
#define CLOSE_WAIT_MS 5000     /* a relay that never acknowledges our close frame is cut off */

struct txmsg {
	struct txmsg *next;
	size_t len;
	int expect_reply;
	unsigned char data[]; /* LWS_PRE bytes of headroom, then the text */
};

struct relay_conn {
	struct link link; /* first: a link is a relay_conn when link.ops is &ws_ops */
	const struct relay_conn_ops *ops;
	void *user;
	struct relay_conn_opts opts;
	int attempt;       /* attempts started */
	int fails;         /* consecutive attempts that failed, for the backoff */
	int user_closed;   /* relay_conn_close was called */
	int open;          /* this attempt reached the websocket */
	char *rx;
	size_t rx_len, rx_cap, rx_seen;
	int rx_skip;       /* 0, or dropping this message: 1 oversized, 2 binary */
	struct txmsg *tx_head, *tx_tail;
	size_t tx_bytes;
	uint64_t last_rx;        /* the last complete message (or the open): the idle timeout counts from it */
	uint64_t awaiting_since; /* a request went out; a complete message must follow within the response timeout */
	uint64_t rx_started;     /* the first byte of the message now arriving; it must be whole within the
				  * response timeout: deadlines are per message, never re-armed by a byte */
	uint64_t close_deadline;
	int peer_code;
	char peer_reason[124];
	lws_sorted_usec_list_t sul_backoff;
};

static struct relay_conn *conn_of(struct link *l)
{
	return (struct relay_conn *)l;
}

static long long idle_ms(const struct relay_conn *c)
{
	if (c->opts.idle_timeout_ms < 0)
		return 0;
	return c->opts.idle_timeout_ms ? c->opts.idle_timeout_ms : link_limits(&c->link)->idle_timeout_ms;
}

/* LP_OPEN: the earliest of the idle, response, message and close deadlines. While a request
 * awaits its reply the response timeout rules, not the idle one (the connection is not idle then:
 * the reply is due, and a silence is the relay not answering). */
static void arm_open(struct relay_conn *c)
{
	uint64_t d = 0, resp = (uint64_t)link_limits(&c->link)->response_timeout_ms;
	long long idle = c->awaiting_since ? 0 : idle_ms(c);
	if (idle > 0)
		d = c->last_rx + (uint64_t)idle;
	if (c->awaiting_since)
		d = d && d < c->awaiting_since + resp ? d : c->awaiting_since + resp;
	if (c->rx_started)
		d = d && d < c->rx_started + resp ? d : c->rx_started + resp;
	if (c->close_deadline)
		d = d && d < c->close_deadline ? d : c->close_deadline;
	link_set_deadline(&c->link, d);
}

static void open_timer(struct link *l)
{
	struct relay_conn *c = conn_of(l);
	uint64_t now = mono_ms();
	long long idle = c->awaiting_since ? 0 : idle_ms(c), resp = link_limits(l)->response_timeout_ms;
	char t[24];
	if (c->close_deadline && now >= c->close_deadline) {
		link_close(l); /* no close acknowledgement: cut the connection */
	} else if (c->awaiting_since && now >= c->awaiting_since + (uint64_t)resp) {
		link_fmt_ms(resp, t, sizeof(t));
		if (c->rx_started)
			link_fail(l, NET_ERR_TIMEOUT, -1, 0, "timeout: no complete response within %s of a request"
				  " (%zu bytes of a message so far)", t, c->rx_seen);
		else
			link_fail(l, NET_ERR_TIMEOUT, -1, 0, "timeout: no response within %s of a request", t);
	} else if (c->rx_started && now >= c->rx_started + (uint64_t)resp) {
		link_fmt_ms(resp, t, sizeof(t));
		link_fail(l, NET_ERR_TIMEOUT, -1, 0, "timeout: a message still incomplete %s after its first byte"
			  " (%zu bytes so far)", t, c->rx_seen);
	} else if (idle > 0 && now >= c->last_rx + (uint64_t)idle) {
		link_fmt_ms(idle, t, sizeof(t));
		link_fail(l, NET_ERR_TIMEOUT, -1, 0, "idle timeout: nothing received for %s", t);
	} else {
		arm_open(c);
	}
}

static void free_tx(struct relay_conn *c)
{
	while (c->tx_head) {
		struct txmsg *m = c->tx_head;
		c->tx_head = m->next;
		free(m);
	}
	c->tx_tail = NULL;
	c->tx_bytes = 0;
}

static void prepare(struct link *l, struct lws_client_connect_info *i)
{
	i->retry_and_idle_policy = &l->net->ping[l->nw]; /* websocket pings, hang-up without pongs */
}

static void on_established(struct relay_conn *c)
{
	struct net *n = c->link.net;
	c->link.phase = LP_OPEN;
	c->open = 1;
	c->fails = 0;
	c->last_rx = mono_ms();
	n->stats.opened++;
	arm_open(c);
	c->ops->on_open(c, c->user, (long long)(mono_ms() - c->link.t_start));
}

static void dropped(struct relay_conn *c)
{
	struct net *n = c->link.net;
	const char *why = c->rx_skip == 1 ? "oversized" : "binary";
	if (c->rx_skip == 1)
		n->stats.dropped_oversized++;
	else
		n->stats.dropped_binary++;
	log_warn(&n->log, "relay message dropped", LOG_S("relay", c->link.url), LOG_S("reason", why),
		 LOG_U("bytes", c->rx_seen), LOG_U("max_message_size", n->opt.max_message_size));
	if (n->metrics) {
		char labels[64];
		metric_add(metrics_get(n->metrics, METRIC_COUNTER, "net_messages_dropped_total",
				       "Relay messages skipped: oversized (over max_message_size) or binary.",
				       metrics_labels(labels, sizeof(labels), "reason", why, NULL)),
			   1);
	}
	if (c->ops->on_dropped)
		c->ops->on_dropped(c, c->user, why, c->rx_seen);
}

static void deliver(struct relay_conn *c)
{
	struct net *n = c->link.net;
	c->rx[c->rx_len] = '\0';
	n->stats.messages++;
	n->stats.bytes += c->rx_len;
	c->ops->on_message(c, c->user, c->rx, c->rx_len);
}

/* A piece of a message: reassemble within max_message_size, skip what is over it or binary. */
static int on_receive(struct relay_conn *c, struct lws *wsi, const char *in, size_t len)
{
	size_t max = c->link.net->opt.max_message_size;
	if (c->user_closed || c->link.failed)
		return 0; /* the attempt is ending: nothing more is delivered */
	if (lws_is_first_fragment(wsi)) {
		c->rx_len = c->rx_seen = 0;
		c->rx_skip = lws_frame_is_binary(wsi) ? 2 : 0;
	}
	int starting = !c->rx_started;
	if (starting)
		c->rx_started = mono_ms();
	c->rx_seen += len;
	if (!c->rx_skip && c->rx_seen > max)
		c->rx_skip = 1;
	if (!c->rx_skip) {
		if (c->rx_len + len + 1 > c->rx_cap) {
			size_t cap = c->rx_cap ? c->rx_cap : 4096;
			while (cap < c->rx_len + len + 1)
				cap *= 2;
			char *p = realloc(c->rx, cap < max + 1 ? cap : max + 1);
			if (!p) {
				link_fail(&c->link, NET_ERR_LIMIT, -1, 0, "out of memory for a %zu-byte message", c->rx_seen);
				return -1;
			}
			c->rx = p;
			c->rx_cap = cap < max + 1 ? cap : max + 1;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
	}
	if (!lws_is_final_fragment(wsi)) {
		if (starting && c->link.phase == LP_OPEN && !c->close_deadline)
			arm_open(c);
		return 0;
	}
	c->last_rx = mono_ms(); /* a whole message: only now do the idle and response deadlines move */
	c->awaiting_since = c->rx_started = 0;
	if (c->rx_skip)
		dropped(c);
	else
		deliver(c);
	c->rx_len = c->rx_seen = 0;
	c->rx_skip = 0;
	if (c->rx_cap > RX_KEEP) {
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
	if (c->link.phase == LP_OPEN && !c->close_deadline)
		arm_open(c);
	return 0;
}

static int on_writeable(struct relay_conn *c, struct lws *wsi)
{
	struct txmsg *m = c->tx_head;
	if (!m) {
		if (!c->user_closed)
			return 0;
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	c->tx_head = m->next;
	if (!c->tx_head)
		c->tx_tail = NULL;
	c->tx_bytes -= m->len;
	int w = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
	if (m->expect_reply && !c->awaiting_since)
		c->awaiting_since = mono_ms();
	free(m);
	if (w < 0) {
		link_fail(&c->link, NET_ERR_CLOSED, -1, 0, "write failed");
		return -1;
	}
	if (c->tx_head || c->user_closed)
		lws_callback_on_writable(wsi);
	arm_open(c);
	return 0;
}

static void on_peer_close(struct relay_conn *c, const unsigned char *in, size_t len)
{
	if (len >= 2) {
		c->peer_code = in[0] << 8 | in[1];
		snprintf(c->peer_reason, sizeof(c->peer_reason), "%.*s", (int)(len - 2 > 120 ? 120 : len - 2),
			 (const char *)in + 2);
	}
}

static int callback(struct link *l, struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len)
{
	struct relay_conn *c = conn_of(l);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		on_established(c);
		if (c->tx_head || c->user_closed)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		on_peer_close(c, in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c->peer_code)
			link_fail(l, NET_ERR_CLOSED, -1, 0, "relay closed the connection (code %d%s%s)", c->peer_code,
				  c->peer_reason[0] ? ": " : "", c->peer_reason);
		else
			link_fail(l, NET_ERR_CLOSED, -1, 0, "connection lost");
		return 0;
	default:
		return 0;
	}
}

static void restart(lws_sorted_usec_list_t *sul)
{
	struct relay_conn *c = lws_container_of(sul, struct relay_conn, sul_backoff);
	c->attempt++;
	c->open = 0;
	c->peer_code = 0;
	c->peer_reason[0] = '\0';
	c->close_deadline = c->awaiting_since = c->rx_started = 0;
	link_resubmit(&c->link);
}

/* Exponential backoff from backoff_min_ms, capped at backoff_max_ms, half of it random. */
static long long backoff_ms(struct relay_conn *c)
{
	long long d = c->opts.backoff_min_ms > 0 ? c->opts.backoff_min_ms : 1000;
	long long cap = c->opts.backoff_max_ms > d ? c->opts.backoff_max_ms : d;
	for (int i = 1; i < c->fails && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	return d / 2 + (long long)(net_random(c->link.net) % (uint64_t)(d / 2 + 1));
}

static void report(struct relay_conn *c, int will_reconnect)
{
	struct link *l = &c->link;
	struct relay_conn_status st = {
		.err = l->failed ? l->err : NET_OK,
		.reason = l->failed ? l->reason : "",
		.socks_reply = l->failed ? l->socks_reply : -1,
		.http_status = l->failed ? l->http_status : 0,
		.was_open = c->open,
		.attempt = c->attempt,
		.will_reconnect = will_reconnect,
		.tls = link_tls_facts(l),
	};
	if (l->failed)
		log_debug(&l->net->log, "relay connection failed", LOG_S("relay", l->url),
			 LOG_S("network", net_network_name(l->nw)), LOG_S("error", net_error_name(l->err)),
			 LOG_S("reason", l->reason), LOG_I("attempt", c->attempt), LOG_B("reconnect", will_reconnect));
	c->ops->on_close(c, c->user, &st);
}

static void finished(struct link *l)
{
	struct relay_conn *c = conn_of(l);
	struct net *n = l->net;
	free_tx(c);
	if (l->failed)
		c->fails++;
	int will = !c->user_closed && c->opts.reconnect && l->err != NET_ERR_URL &&
		   (c->opts.max_attempts <= 0 || c->attempt < c->opts.max_attempts);
	report(c, will);
	if (will && !c->user_closed) {
		l->phase = LP_BACKOFF;
		l->failed = 0;
		n->stats.reconnects++;
		lws_sul_schedule(n->ctx, 0, &c->sul_backoff, restart, (lws_usec_t)backoff_ms(c) * 1000);
		return;
	}
	if (will) { /* closed from inside on_close after a promised reconnection: the last word */
		l->failed = 0;
		report(c, 0);
	}
	link_detach(l);
	free(c->rx);
	free(c);
}

static void destroy(struct link *l)
{
	struct relay_conn *c = conn_of(l);
	free_tx(c);
	free(c->rx);
	free(c);
}

static const struct link_ops ws_ops = {
	.kind = LINK_WS,
	.prepare = prepare,
	.callback = callback,
	.open_timer = open_timer,
	.finished = finished,
	.destroy = destroy,
};

struct relay_conn *relay_conn_open(struct net *n, const char *url, enum net_network nw,
				   const struct relay_conn_ops *ops, void *user, const struct relay_conn_opts *opts)
{
	struct relay_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	link_init(&c->link, n, &ws_ops, nw);
	c->ops = ops;
	c->user = user;
	if (opts)
		c->opts = *opts;
	c->attempt = 1;
	if (link_submit(&c->link, url) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

int relay_conn_send(struct relay_conn *c, const char *text, size_t len, int expect_reply)
{
	struct net *n = c->link.net;
	if (c->link.phase != LP_OPEN || c->user_closed || !c->link.wsi || c->link.failed ||
	    c->tx_bytes + len > 2 * n->opt.max_message_size)
		return -1;
	struct txmsg *m = malloc(sizeof(*m) + LWS_PRE + len);
	if (!m)
		return -1;
	m->next = NULL;
	m->len = len;
	m->expect_reply = expect_reply;
	memcpy(m->data + LWS_PRE, text, len);
	if (c->tx_tail)
		c->tx_tail->next = m;
	else
		c->tx_head = m;
	c->tx_tail = m;
	c->tx_bytes += len;
	lws_callback_on_writable(c->link.wsi);
	return 0;
}

void relay_conn_close(struct relay_conn *c)
{
	struct link *l = &c->link;
	if (c->user_closed)
		return;
	c->user_closed = 1;
	if (l->phase == LP_BACKOFF) {
		lws_sul_cancel(&c->sul_backoff);
		l->failed = 0;
		link_close(l); /* no wsi: the finish reports NET_OK */
	} else if (l->phase == LP_OPEN && l->wsi && !l->failed) {
		l->closing = 1;
		c->close_deadline = mono_ms() + CLOSE_WAIT_MS;
		arm_open(c);
		lws_callback_on_writable(l->wsi); /* queued frames, then the close frame */
	} else if (l->phase != LP_DONE) {
		link_close(l);
	}
}

const char *relay_conn_url(const struct relay_conn *c)
{
	return c->link.url;
}

enum net_network relay_conn_network(const struct relay_conn *c)
{
	return c->link.nw;
}
