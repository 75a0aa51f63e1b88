/* error.c — names of the network failure categories, and which of them are local. */
#include "net/error.h"

const char *net_error_name(enum net_error e)
{
	static const char *const names[] = {
		"ok", "url", "limit", "dns", "local", "proxy", "socks", "connect",
		"tls", "http", "timeout", "protocol", "closed", "stopped",
	};
	if ((unsigned)e < sizeof(names) / sizeof(names[0]))
		return names[e];
	return "unknown";
}

int net_error_is_local(enum net_error e)
{
	return e == NET_ERR_LIMIT || e == NET_ERR_PROXY || e == NET_ERR_STOPPED;
}
