/* nip11.h — fetching a relay's NIP-11 information document over HTTP(S), through the same helper. */
#ifndef BROTR_NET_NIP11_H
#define BROTR_NET_NIP11_H

#include <stddef.h>

#include "net/error.h"
#include "net/net.h"
#include "net/url.h"

/*
 * GET of the relay URL with http(s) in place of ws(s) and "Accept: application/nostr+json".
 * Accepted: status 200, a content type of application/nostr+json or application/json
 * (relays use both), a body of at most nip11_max_size bytes. Redirects are not followed:
 * the document belongs to the URL asked, and following one could leave the relay's
 * isolation and the helper's tunnel; a 3xx is reported as a failure with its Location.
 * The body is returned as bytes: the nostr layer parses it.
 */
struct net_nip11_result {
	enum net_error err;       /* NET_OK when the document was fetched */
	const char *reason;       /* readable failure reason; "" on success */
	int socks_reply;          /* for NET_ERR_SOCKS, else -1 */
	int http_status;          /* 0 when no response arrived */
	const char *content_type; /* as received, "" when absent */
	const char *body;         /* NUL-terminated, NULL unless err is NET_OK */
	size_t len;
	long long elapsed_ms;     /* from the start of the connection to the end of the body or the failure */
};

/* Called once, inside net_run(); r and everything it points to are valid during the call only. */
typedef void (*net_nip11_done_fn)(void *user, const char *url, const struct net_nip11_result *r);

/*
 * Starts a fetch for the relay at url (ws:// or wss://, read as by relay_conn_open) over
 * network nw, queued behind the network's concurrency limit like relay connections. The
 * outcome always arrives through done, never from inside this call. Returns 0, or -1 when
 * out of memory.
 */
int net_nip11_fetch(struct net *n, const char *url, enum net_network nw, net_nip11_done_fn done, void *user);

/*
 * The same GET for another JSON document (a list of relays published over HTTP): url is given in
 * its ws:// or wss:// form (the request goes to http or https, same host, port and path; a query
 * is not kept), with "Accept: application/json", the same content-type rule, at most max_size
 * bytes. Reasons name the size cap as "the source's size cap". Returns 0, or -1 when out of memory.
 */
int net_json_fetch(struct net *n, const char *url, enum net_network nw, size_t max_size, net_nip11_done_fn done,
		   void *user);

#endif
