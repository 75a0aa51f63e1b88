/* url.c — the networks a relay is reached over: from a normalised relay URL, and their names. */
#include "net/url.h"

_Static_assert(NET_CLEARNET == 0 && NET_TOR == 1 && NET_NETWORKS == 2, "enum net_network indexes the limits");

enum net_network net_network_of(const struct relay_url *u)
{
	return u->network == RELAY_NET_TOR ? NET_TOR : NET_CLEARNET;
}

const char *net_network_name(enum net_network nw)
{
	return relay_network_name(nw == NET_TOR ? RELAY_NET_TOR : RELAY_NET_CLEARNET);
}
