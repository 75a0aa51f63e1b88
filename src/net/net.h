/* net.h — the network layer's context: one libwebsockets event loop, the SOCKS5 helper, limits and timeouts. */
#ifndef BROTR_NET_NET_H
#define BROTR_NET_NET_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "net/error.h"
#include "net/url.h"

/*
 * A struct net owns one event loop in which any number of relay connections
 * (net/relay.h) and NIP-11 fetches (net/nip11.h) run concurrently, and the helper every
 * one of them goes through (net/helper.h). It is used from one thread: the callbacks of
 * its connections run inside net_run() on the caller's thread. No libwebsockets type
 * appears in this API.
 */
struct net;

/* Limits and timeouts of one network (clearnet or tor). Durations in milliseconds. */
struct net_limits {
	int max_connections;           /* connections and fetches at once; more wait in a queue */
	long long connect_timeout_ms;  /* until the tunnel is up (SOCKS CONNECT answered, or TCP) */
	long long tls_timeout_ms;      /* TLS handshake, from the tunnel being up */
	long long upgrade_timeout_ms;  /* websocket upgrade, or NIP-11 response headers */
	long long response_timeout_ms; /* first message after a request; NIP-11 body */
	long long idle_timeout_ms;     /* no message at all for this long closes; 0: never */
	int allow_insecure;            /* accept self-signed, expired, untrusted or misnamed certificates */
};

enum net_isolation {
	NET_ISOLATE_RELAY,      /* one SOCKS username (so one Tor circuit) per relay host:port */
	NET_ISOLATE_CONNECTION, /* a fresh username for every connection */
	NET_ISOLATE_NONE,       /* no credentials: Tor's other isolation rules only */
};

struct net_options {
	const char *socks_proxy;  /* "host:port", or "" to connect directly (no .onion) */
	enum net_isolation isolation;
	struct net_limits limits[NET_NETWORKS]; /* indexed by enum net_network */
	size_t max_message_size;  /* largest websocket message delivered; larger ones are dropped */
	size_t nip11_max_size;    /* largest NIP-11 document accepted */
	int max_tunnels;          /* helper tunnels at once, every network together */
	int allow_local;          /* direct mode: allow loopback, private and reserved addresses */
	const char *ca_file;      /* extra trusted CA certificates (PEM), or NULL */
	int no_helper;            /* benchmarks only: lws connects and resolves by itself */
};

/* Fills o from the configuration ([network] and [tor]). The strings point into cfg. */
void net_options_from_config(struct net_options *o, const struct config *cfg);

/*
 * The file descriptors a net with these options can hold open at once: one per connection
 * or fetch of every network, the helper's slots, and a reserve for the rest of the process
 * (database, log, metrics, lws' own). For process_fd_limit at start.
 */
unsigned long net_descriptors_needed(const struct net_options *o);

/*
 * Starts the helper and creates the event loop. lg is copied (its sink must outlive the
 * net); m may be NULL. Returns NULL with a reason in err (a bad socks_proxy, no memory).
 * With socks_proxy empty it logs a warning: every connection goes out directly and relay
 * host names are resolved locally.
 */
struct net *net_new(const struct net_options *o, const struct logger *lg, struct metrics *m, char *err,
		    size_t errlen);

/*
 * Closes every connection at once, without calling any callback, stops the helper and frees
 * everything. Never call it from a callback. Accepts NULL.
 */
void net_free(struct net *n);

/*
 * Runs the event loop, calling the callbacks of connections, until there is nothing left
 * to do, *stop becomes non-zero (checked at least every 100 ms; stop may be NULL), or
 * max_ms have passed (max_ms < 0: no limit). Returns 1 when idle, 0 when the time ran out,
 * -1 when stopped. Connections stay as they are when it returns; call it again to go on.
 */
int net_run(struct net *n, const volatile sig_atomic_t *stop, long long max_ms);

/* Connections and fetches not yet finished (queued, connecting, open, or waiting to reconnect). */
size_t net_pending(const struct net *n);

/* Counters since net_new, for tests and summaries. */
struct net_stats {
	uint64_t opened;             /* websocket connections established */
	uint64_t failed;             /* attempts that ended in an error, every kind */
	uint64_t by_error[NET_ERR_STOPPED + 1]; /* failures by category */
	uint64_t messages;           /* text messages delivered */
	uint64_t bytes;              /* their bytes */
	uint64_t dropped_oversized;  /* messages over max_message_size, skipped */
	uint64_t dropped_binary;     /* binary messages, skipped (Nostr is text) */
	uint64_t reconnects;         /* reconnection attempts scheduled */
	uint64_t nip11_ok, nip11_failed;
};
void net_get_stats(const struct net *n, struct net_stats *s);

/*
 * The SOCKS5 username a connection to host:port gets under per-relay isolation: "brotr-"
 * and 16 hex digits of SHA-256(per-net random salt, host, port). Tests compare it with
 * what the SOCKS server saw. out needs 24 bytes.
 */
void net_isolation_user(const struct net *n, const char *host, int port, char *out, size_t len);

/* The password sent with every isolation username (Tor isolates on both). */
#define NET_ISOLATION_PASSWORD "brotr"

/* The libwebsockets loaded at run time (lws_get_library_version), e.g. "4.1.6-unknown". */
const char *net_library_version(void);

#endif
