/* url.h — the networks a relay is reached over, and how the network layer reads relay URLs (src/nostr's normaliser). */
#ifndef BROTR_NET_URL_H
#define BROTR_NET_URL_H

#include "nostr/relay_url.h"

/*
 * Which network a relay is reached over; each has its own limits and timeouts. The values are
 * those of enum relay_network, so a normalised URL's network converts with net_network_of().
 */
enum net_network { NET_CLEARNET = RELAY_NET_CLEARNET, NET_TOR = RELAY_NET_TOR };
#define NET_NETWORKS 2

/*
 * Relay URLs handed to relay_conn_open and net_nip11_fetch are read with relay_url_parse
 * (src/nostr), the one grammar of relay URLs in brotr, with RELAY_URL_ALLOW_LOCAL: the network
 * layer checks syntax and classifies, it does not apply policy. Whoever admits a URL applies
 * [network] allow_local (the initializer, `brotr relay check`), and in direct mode the helper
 * refuses local addresses a name resolves to. A URL is reached at its canonical form: query and
 * fragment are not sent (a stored relay URL never has them).
 */

/* The network a normalised relay URL is reached over. */
enum net_network net_network_of(const struct relay_url *u);

/* "clearnet" or "tor". */
const char *net_network_name(enum net_network nw);

#endif
