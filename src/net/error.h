/* error.h — why a relay connection failed: a category for metrics and storage, a reason for people. */
#ifndef BROTR_NET_ERROR_H
#define BROTR_NET_ERROR_H

enum net_error {
	NET_OK = 0,
	NET_ERR_URL,      /* the URL cannot be used: malformed, or .onion without a proxy */
	NET_ERR_LIMIT,    /* a local limit: too many tunnels, a full queue, out of memory */
	NET_ERR_DNS,      /* direct mode: the host name did not resolve */
	NET_ERR_LOCAL,    /* direct mode: it resolved to a local address and allow_local is off */
	NET_ERR_PROXY,    /* the SOCKS proxy is unreachable or broke the protocol */
	NET_ERR_SOCKS,    /* the proxy answered CONNECT with an error code */
	NET_ERR_CONNECT,  /* direct mode: the TCP connection failed */
	NET_ERR_TLS,      /* handshake or certificate verification */
	NET_ERR_HTTP,     /* an unexpected HTTP status or a malformed response */
	NET_ERR_TIMEOUT,  /* a phase took longer than its configured timeout */
	NET_ERR_PROTOCOL, /* the relay broke the websocket protocol */
	NET_ERR_CLOSED,   /* the relay or the network closed the connection */
	NET_ERR_STOPPED,  /* closed by the caller, or at shutdown */
};

/*
 * 1 for the failures that say nothing about the relay: a local limit (helper full, out of
 * descriptors or memory), the SOCKS proxy (ours: unreachable, or broke the protocol) and a
 * stop. The monitor stores no snapshot for them and the synchronizer does not hold them
 * against the relay; 0 for everything else.
 */
int net_error_is_local(enum net_error e);

/* A short lower-case name ("dns", "socks", "tls", ...) for metric labels and stored results. */
const char *net_error_name(enum net_error e);

#endif
