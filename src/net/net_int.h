/* net_int.h — private to src/net: the net context and the client connection ("link") shared by relay.c and nip11.c. */
#ifndef BROTR_NET_NET_INT_H
#define BROTR_NET_NET_INT_H

#include <libwebsockets.h>

#include "net/helper.h"
#include "net/net.h"
#include "net/tls.h"

#define LINK_TICK_MS 250       /* while connecting, how often the helper's ticket is looked at */
#define LINK_CONNECT_GRACE_MS 1000 /* the helper's own connect timeout, with its precise reason, fires first */

enum link_kind { LINK_WS, LINK_HTTP };

enum link_phase {
	LP_NEW,
	LP_QUEUED,   /* waiting for the network's concurrency limit */
	LP_CONNECT,  /* waiting for the helper's tunnel */
	LP_TLS,      /* tunnel up, TLS handshake under way */
	LP_UPGRADE,  /* request sent: websocket upgrade, or HTTP response headers */
	LP_OPEN,     /* websocket open, or HTTP body arriving */
	LP_DONE,     /* the attempt ended; being reported */
	LP_BACKOFF,  /* waiting to reconnect */
};

struct link;

/* What differs between a websocket connection and an HTTP fetch. */
struct link_ops {
	enum link_kind kind;
	/* Adds the kind's fields to the connect info (method, protocol, retry policy). */
	void (*prepare)(struct link *l, struct lws_client_connect_info *i);
	/* Callbacks not handled by link.c. Returns what lws expects (non-zero closes). */
	int (*callback)(struct link *l, struct lws *wsi, enum lws_callback_reasons reason, void *in, size_t len);
	/* LP_OPEN: the kind's timer fired (idle, response). */
	void (*open_timer)(struct link *l);
	/* The attempt is over (wsi gone, ticket released): report it, then free or restart the owner. */
	void (*finished)(struct link *l);
	/* net_free: free the owner without a word (the lws context is already gone). */
	void (*destroy)(struct link *l);
};

struct link {
	const struct link_ops *ops;
	struct net *net;
	struct link *prev, *next; /* every live link of the net */
	struct link *qnext;       /* the network's queue */
	char *url;                /* as given, owned */
	struct relay_url u;       /* url read by relay_url_parse (net/url.h) */
	enum net_network nw;
	char host_header[300];    /* host, or host:port when the port is not the default */
	struct lws *wsi;
	uint32_t ticket;
	int has_ticket;
	int counted;              /* holds one of the network's concurrency slots */
	int finish_scheduled;
	int closing;              /* ended on purpose (caller's close, fetch complete): not a failure */
	enum link_phase phase;
	uint64_t t_start;         /* mono ms when this attempt started connecting */
	uint64_t deadline;        /* of the current phase, mono ms; 0 none */
	lws_sorted_usec_list_t sul_timer, sul_finish;
	/* the outcome of the attempt: the first failure recorded wins */
	int failed;
	enum net_error err;
	int socks_reply;
	int http_status;
	char reason[288];
	char tls_error[160];
	struct net_tls_facts *tls; /* wss: what the handshake showed, from the first verify callback; owned */
	int tls_done;              /* the handshake completed */
};

struct net {
	struct net_options opt;
	char *socks_proxy;        /* owned copies of the option strings */
	char *ca_file;
	struct logger log;
	struct metrics *metrics;
	struct helper *helper;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	lws_retry_bo_t ping[NET_NETWORKS]; /* websocket ping/pong policy per network */
	unsigned char salt[16];
	uint64_t conn_serial;
	uint64_t rng;
	struct link *links;
	size_t n_links;
	struct link *queue_head[NET_NETWORKS], *queue_tail[NET_NETWORKS];
	int active[NET_NETWORKS];
	lws_sorted_usec_list_t sul_tick;
	int destroying;
	struct net_stats stats;
};

/* link.c */
void link_init(struct link *l, struct net *n, const struct link_ops *ops, enum net_network nw);
/* Parses url and starts the attempt (queued behind the limit). Returns 0, or -1 when out of memory. */
int link_submit(struct link *l, const char *url);
/* Starts a new attempt of a link whose previous attempt finished (reconnection). */
void link_resubmit(struct link *l);
/* Records a failure (the first one wins) and ends the attempt. */
void link_fail(struct link *l, enum net_error err, int socks_reply, int http_status, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Ends the attempt without recording a failure (a clean close asked by the caller). */
void link_close(struct link *l);
/* Sets the timer of the current phase; 0 cancels it. */
void link_set_deadline(struct link *l, uint64_t deadline_ms);
/* Removes the link from the net (after its last report); the owner frees it. */
void link_detach(struct link *l);
/* The lws protocol callback's work for a link. */
int link_callback(struct link *l, struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len);
const struct net_limits *link_limits(const struct link *l);
/* "15s", or "1500ms" when not whole seconds: durations in reasons. */
void link_fmt_ms(long long ms, char *out, size_t len);

/* tls.c */
/* LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION: the first call reads the server's certificate
 * and the session so far; the first failure is kept as the reason. */
void link_tls_verify(struct link *l, X509_STORE_CTX *x, const SSL *ssl, int preverify_ok);
/* The handshake is done: the protocol and cipher agreed are read again. */
void link_tls_done(struct link *l, struct lws *wsi);
/* The attempt's facts with the verdict settled (verified only when the handshake completed without a
 * verification failure), or NULL when no certificate was seen. Valid until the link's next attempt. */
const struct net_tls_facts *link_tls_facts(struct link *l);
/* Forgets the facts (a new attempt, or the link's end). */
void link_tls_reset(struct link *l);

/* net.c */
void net_count_failure(struct net *n, const struct link *l);
uint64_t net_random(struct net *n);
/* "brotr-" and 16 hex digits of SHA-256(salt, what): an isolation username. out needs 24 bytes. */
void net_isolation_tag(const struct net *n, const char *what, char *out, size_t len);

#endif
