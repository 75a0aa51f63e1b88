/* relay.h — a websocket connection to one Nostr relay: complete text messages in, text frames out. */
#ifndef BROTR_NET_RELAY_H
#define BROTR_NET_RELAY_H

#include <stddef.h>

#include "net/error.h"
#include "net/net.h"
#include "net/tls.h"
#include "net/url.h"

/*
 * The seam with the protocol layer: this layer delivers whole text messages (fragments
 * reassembled, at most max_message_size bytes) to on_message and sends text frames; the
 * caller (or a thin adapter over src/nostr's message parser) turns them into EVENT, EOSE,
 * OK, CLOSED, NOTICE, AUTH messages. Nothing here parses Nostr.
 */
struct relay_conn;

/* Why an attempt ended. Borrowed for the duration of on_close. */
struct relay_conn_status {
	enum net_error err;   /* NET_OK when the caller closed it */
	const char *reason;   /* readable, names the cause; "" when err is NET_OK */
	int socks_reply;      /* the SOCKS reply code for NET_ERR_SOCKS, else -1 */
	int http_status;      /* the HTTP status for NET_ERR_HTTP, else 0 */
	int was_open;         /* the websocket had been established */
	int attempt;          /* 1 for the first attempt, counting reconnections */
	int will_reconnect;   /* a reconnection is scheduled: the handle stays valid */
	/* wss: what this attempt's TLS handshake showed (net/tls.h), also when the certificate was
	 * refused; NULL when no certificate was seen (ws://, or the attempt ended before it). */
	const struct net_tls_facts *tls;
};

/*
 * Callbacks, run inside net_run(). They may call relay_conn_send, relay_conn_close and
 * relay_conn_open (for any connection), never net_free.
 */
struct relay_conn_ops {
	/* The websocket is up; rtt_open_ms counts from the start of this attempt (NIP-66 rtt-open). */
	void (*on_open)(struct relay_conn *c, void *user, long long rtt_open_ms);
	/* One complete text message; text is NUL-terminated and valid only during the call. */
	void (*on_message)(struct relay_conn *c, void *user, const char *text, size_t len);
	/* Optional: a message was skipped (reason: "oversized" or "binary"); len is its size so far. */
	void (*on_dropped)(struct relay_conn *c, void *user, const char *reason, size_t len);
	/*
	 * The attempt ended. Unless st->will_reconnect, this is the last call and the handle is
	 * freed when it returns.
	 */
	void (*on_close)(struct relay_conn *c, void *user, const struct relay_conn_status *st);
};

struct relay_conn_opts {
	int reconnect;            /* reconnect after a failure or a close by the relay */
	int max_attempts;         /* with reconnect: give up after this many attempts; 0 = never */
	long long backoff_min_ms; /* first delay; doubles per failed attempt, with jitter */
	long long backoff_max_ms;
	long long idle_timeout_ms; /* 0: the network's default; -1: never close for silence */
};

/*
 * Starts a connection to url (ws:// or wss://, read by relay_url_parse: see net/url.h) over
 * network nw (an .onion URL must be NET_TOR), through the helper, as soon as the network's
 * concurrency limit allows. opts may be NULL (no reconnection). Every
 * outcome, even an unusable URL or an .onion without a proxy, arrives through on_close,
 * never from inside this call. ops and user must outlive the connection. Returns NULL
 * only when out of memory.
 */
struct relay_conn *relay_conn_open(struct net *n, const char *url, enum net_network nw,
				   const struct relay_conn_ops *ops, void *user, const struct relay_conn_opts *opts);

/*
 * Queues text as one text frame. With expect_reply, the relay must send some complete message
 * within the network's response timeout (a REQ, an EVENT, a COUNT). Deadlines are per
 * message, never per byte: every message must arrive whole within the response timeout of its
 * first byte, and the idle timeout counts from the last whole message (it does not run while a
 * reply is due: the response timeout does). Returns 0, or -1 when the
 * connection is not open or its send queue is full (twice max_message_size).
 */
int relay_conn_send(struct relay_conn *c, const char *text, size_t len, int expect_reply);

/*
 * Closes cleanly (websocket close 1000, queued frames sent first) and cancels reconnection;
 * on_close follows with NET_OK. Safe to call more than once and from callbacks.
 */
void relay_conn_close(struct relay_conn *c);

/* The URL as given, and the network. */
const char *relay_conn_url(const struct relay_conn *c);
enum net_network relay_conn_network(const struct relay_conn *c);

#endif
