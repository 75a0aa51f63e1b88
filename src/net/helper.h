/* helper.h — the in-process loopback helper that turns libwebsockets' HTTP CONNECT into SOCKS5 (or a direct connection). */
#ifndef BROTR_NET_HELPER_H
#define BROTR_NET_HELPER_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "core/metrics.h"
#include "net/error.h"

/*
 * Every relay connection goes through the helper. The relay client registers a ticket for
 * the destination (host, port, isolation credentials, timeout) and gets a token, which it
 * gives libwebsockets as the connection's address: lws, whose vhost proxy points at the
 * helper, sends "CONNECT <token>:<port>" with the per-process secret as Basic proxy
 * credentials. The helper checks the secret, finds the ticket, connects (SOCKS5 with the
 * host name as ATYP 3, or directly), answers "200" in one send, then relays bytes. Failures
 * are written into the ticket (category, SOCKS reply code, readable reason) before the
 * non-200 answer, so the client can say exactly why lws reported "proxy not h1".
 */
struct helper;

struct helper_options {
	const char *socks_proxy;  /* "host:port" of the SOCKS5 proxy; "" connects directly */
	int max_tunnels;          /* tickets and established tunnels at once */
	int allow_local;          /* direct mode: allow loopback, private and reserved destinations */
	struct logger log;        /* copied; used from the helper thread (log_write is thread-safe) */
	struct metrics *metrics;  /* NULL or a registry that outlives the helper */
};

/*
 * Listens on 127.0.0.1 (ephemeral port) with a fresh random secret and starts the helper
 * thread (and, in direct mode, a small resolver pool). Returns NULL with a reason in err.
 */
struct helper *helper_start(const struct helper_options *o, char *err, size_t errlen);

/* The file descriptors a helper for max_tunnels can hold open at once (both sides of every slot). */
unsigned long helper_descriptors(int max_tunnels);

/* Stops the thread, closes every tunnel and frees everything. Accepts NULL. */
void helper_stop(struct helper *h);

/* "brotr:<secret>@127.0.0.1:<port>", for lws_set_proxy. Valid until helper_stop. */
const char *helper_proxy_spec(const struct helper *h);

/* How many times the helper thread's poll loop has gone round (a racy read: tests of busy loops). */
uint64_t helper_wakeups(const struct helper *h);

struct helper_ticket_req {
	const char *host;          /* relay host name (or literal), passed to the proxy as is */
	int port;
	const char *user;          /* SOCKS5 username for stream isolation, or NULL for none */
	const char *pass;          /* its password (non-empty when user is set) */
	long long connect_timeout_ms; /* from now until the tunnel is established */
};

enum helper_ticket_state {
	TICKET_WAITING,     /* registered, lws has not connected yet */
	TICKET_CONNECTING,  /* CONNECT received: resolving, connecting or in the SOCKS handshake */
	TICKET_ESTABLISHED, /* 200 sent; bytes flow */
	TICKET_FAILED,      /* see err, socks_reply and reason */
};

struct helper_ticket_status {
	enum helper_ticket_state state;
	uint64_t established_ms;   /* mono_ms() when established */
	enum net_error err;
	int socks_reply;           /* the SOCKS reply code when err is NET_ERR_SOCKS, else -1 */
	char reason[224];
};

/*
 * Registers a destination. Writes the token to use as lws' address into token (at least
 * 32 bytes) and the ticket's id into *id. Returns 0, or -1 when every ticket is in use.
 * Thread-safe.
 */
int helper_ticket_open(struct helper *h, const struct helper_ticket_req *r, char *token, size_t toklen,
		       uint32_t *id);

/* Copies a ticket's state. Thread-safe. */
void helper_ticket_status(struct helper *h, uint32_t id, struct helper_ticket_status *st);

/* Releases a ticket (its tunnel, if any, ends when lws closes its side). Thread-safe. */
void helper_ticket_close(struct helper *h, uint32_t id);

#endif
