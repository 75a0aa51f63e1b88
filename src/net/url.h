/* url.h — the minimum of a relay URL the network layer needs: scheme, host, port, path, network. */
#ifndef BROTR_NET_URL_H
#define BROTR_NET_URL_H

#include <stddef.h>

/* Which network a relay is reached over; each has its own limits and timeouts. */
enum net_network { NET_CLEARNET = 0, NET_TOR = 1 };
#define NET_NETWORKS 2

struct net_url {
	int tls;         /* wss:// (https:// for NIP-11) */
	char host[256];  /* lower-cased; an IPv6 literal without its brackets */
	int ipv6;        /* host is an IPv6 literal */
	int port;        /* explicit, else 80 or 443 */
	char path[1024]; /* path and query, "/" when absent */
};

/*
 * Parses ws://host[:port][/path] or wss://... (no user info, no fragment). This is only
 * what the network layer needs to connect; normalisation and validation of relay URLs
 * belong to the nostr layer. Returns 0, or -1 with a reason in err.
 */
int net_url_parse(const char *url, struct net_url *u, char *err, size_t errlen);

/* 1 when host (lower case) ends in ".onion". */
int net_host_is_onion(const char *host);

/* "clearnet" or "tor". */
const char *net_network_name(enum net_network nw);

#endif
