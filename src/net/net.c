/* net.c — the network layer's context: one libwebsockets event loop, the SOCKS5 helper, limits and timeouts. */
#include "net/net.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/util.h"
#include "net/net_int.h"

#define TICK_US (100 * 1000) /* the loop wakes at least this often, to notice a stop request */

void net_options_from_config(struct net_options *o, const struct config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->socks_proxy = cfg->tor.socks_proxy;
	o->isolation = (enum net_isolation)cfg->tor.isolation;
	const struct config_net_limits *src[NET_NETWORKS] = { &cfg->network.clearnet, &cfg->network.tor };
	for (int i = 0; i < NET_NETWORKS; i++) {
		struct net_limits *d = &o->limits[i];
		d->max_connections = (int)src[i]->max_connections;
		d->connect_timeout_ms = src[i]->connect_timeout_ms;
		d->tls_timeout_ms = src[i]->tls_timeout_ms;
		d->upgrade_timeout_ms = src[i]->upgrade_timeout_ms;
		d->response_timeout_ms = src[i]->response_timeout_ms;
		d->idle_timeout_ms = src[i]->idle_timeout_ms;
		d->allow_insecure = src[i]->allow_insecure;
	}
	o->max_message_size = (size_t)cfg->network.max_message_size;
	o->nip11_max_size = (size_t)cfg->network.nip11_max_size;
	o->max_tunnels = (int)cfg->network.max_tunnels;
	o->allow_local = cfg->network.allow_local;
	o->ca_file = *cfg->network.ca_file ? cfg->network.ca_file : NULL;
}

uint64_t net_random(struct net *n)
{
	uint64_t x = n->rng; /* xorshift64: jitter only, nothing secret */
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return n->rng = x;
}

void net_count_failure(struct net *n, const struct link *l)
{
	n->stats.failed++;
	if ((unsigned)l->err <= NET_ERR_STOPPED)
		n->stats.by_error[l->err]++;
	if (!n->metrics)
		return;
	char labels[96];
	metric_add(metrics_get(n->metrics, METRIC_COUNTER, "net_connection_failures_total",
			       "Relay connections and NIP-11 fetches that failed, by network and category.",
			       metrics_labels(labels, sizeof(labels), "network", net_network_name(l->nw), "error",
					      net_error_name(l->err), NULL)),
		   1);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct link *l = wsi ? lws_get_opaque_user_data(wsi) : NULL;
	if (l)
		return link_callback(l, wsi, reason, user, in, len);
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ .name = "brotr", .callback = callback, .rx_buffer_size = 16384 },
	{ 0 },
};

static void tick(lws_sorted_usec_list_t *sul)
{
	struct net *n = lws_container_of(sul, struct net, sul_tick);
	lws_sul_schedule(n->ctx, 0, &n->sul_tick, tick, TICK_US);
}

/* Pings after a third of the idle timeout without a sign of life; hangs up if no pong follows. */
static void ping_policy(lws_retry_bo_t *p, const struct net_limits *lim)
{
	long long idle = lim->idle_timeout_ms > 0 ? lim->idle_timeout_ms : 180000;
	long long ping = idle / 3000 < 5 ? 5 : idle / 3000;
	long long hang = ping + (lim->response_timeout_ms + 999) / 1000;
	memset(p, 0, sizeof(*p));
	p->secs_since_valid_ping = (uint16_t)(ping > 60000 ? 60000 : ping);
	p->secs_since_valid_hangup = (uint16_t)(hang > 65000 ? 65000 : hang);
}

/* lws' own timeouts (the proxy reply wait among them) must never beat ours. */
static int lws_timeout_secs(const struct net_options *o)
{
	long long worst = 0;
	for (int i = 0; i < NET_NETWORKS; i++) {
		const struct net_limits *l = &o->limits[i];
		long long sum = l->connect_timeout_ms + l->tls_timeout_ms + l->upgrade_timeout_ms + l->response_timeout_ms;
		if (sum > worst)
			worst = sum;
	}
	return (int)(worst / 1000 + 30);
}

static int create_context(struct net *n, char *err, size_t errlen)
{
	struct lws_context_creation_info ci;
	if (n->ca_file && access(n->ca_file, R_OK) != 0) { /* lws would only log it, and trust nothing more */
		snprintf(err, errlen, "[network] ca_file %s: %s", n->ca_file, strerror(errno));
		return -1;
	}
	memset(&ci, 0, sizeof(ci));
	ci.port = CONTEXT_PORT_NO_LISTEN;
	ci.protocols = protocols;
	ci.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ci.timeout_secs = (unsigned)lws_timeout_secs(&n->opt);
	ci.max_http_header_pool = (unsigned short)(n->opt.limits[NET_CLEARNET].max_connections +
						   n->opt.limits[NET_TOR].max_connections + 4);
	ci.pt_serv_buf_size = 32768;
	ci.client_ssl_ca_filepath = n->ca_file;
	/* Always set: with no proxy given, lws would silently use $http_proxy. "" means none. */
	ci.http_proxy_address = n->opt.no_helper ? "" : helper_proxy_spec(n->helper);
	ci.user = n;
	n->ctx = lws_create_context(&ci);
	if (!n->ctx) {
		snprintf(err, errlen, "cannot create the libwebsockets context");
		return -1;
	}
	n->vh = lws_get_vhost_by_name(n->ctx, "default");
	if (!n->vh) {
		snprintf(err, errlen, "libwebsockets created no default vhost");
		return -1;
	}
	lws_sul_schedule(n->ctx, 0, &n->sul_tick, tick, TICK_US);
	return 0;
}

static int start_helper(struct net *n, char *err, size_t errlen)
{
	struct helper_options ho = {
		.socks_proxy = n->socks_proxy,
		.max_tunnels = n->opt.max_tunnels,
		.allow_local = n->opt.allow_local,
		.log = n->log,
		.metrics = n->metrics,
	};
	n->helper = helper_start(&ho, err, errlen);
	return n->helper ? 0 : -1;
}

#define RESERVED_FDS 64 /* stdio, log, database connections, metrics, lws' own pipes */

unsigned long net_descriptors_needed(const struct net_options *o)
{
	unsigned long conns = 0;
	for (int i = 0; i < NET_NETWORKS; i++)
		conns += (unsigned long)o->limits[i].max_connections;
	return conns + helper_descriptors(o->max_tunnels) + RESERVED_FDS;
}

struct net *net_new(const struct net_options *o, const struct logger *lg, struct metrics *m, char *err,
		    size_t errlen)
{
	struct net *n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->opt = *o;
	n->log = *lg;
	n->metrics = m;
	n->socks_proxy = strdup(o->socks_proxy ? o->socks_proxy : "");
	n->ca_file = o->ca_file ? strdup(o->ca_file) : NULL;
	n->opt.socks_proxy = n->socks_proxy;
	n->opt.ca_file = n->ca_file;
	if (!n->socks_proxy || (o->ca_file && !n->ca_file) ||
	    getrandom(n->salt, sizeof(n->salt), 0) != (ssize_t)sizeof(n->salt) ||
	    getrandom(&n->rng, sizeof(n->rng), 0) != (ssize_t)sizeof(n->rng)) {
		snprintf(err, errlen, "out of memory or randomness");
		goto fail;
	}
	n->rng |= 1;
	for (int i = 0; i < NET_NETWORKS; i++)
		ping_policy(&n->ping[i], &n->opt.limits[i]);
	lws_set_log_level(0, NULL); /* lws' reasons reach us through callbacks; its own log is noise */
	if (!n->opt.no_helper && start_helper(n, err, errlen) < 0)
		goto fail;
	if (!n->opt.no_helper && !*n->socks_proxy)
		log_warn(&n->log, "[tor] socks_proxy is empty: every relay connection goes out directly from this host, "
				  "relay host names are resolved by the local DNS resolver, and .onion relays are unreachable");
	if (create_context(n, err, errlen) < 0)
		goto fail;
	int tunnels = n->opt.limits[NET_CLEARNET].max_connections + n->opt.limits[NET_TOR].max_connections;
	if (!n->opt.no_helper && n->opt.max_tunnels < tunnels)
		log_warn(&n->log, "max_tunnels is below the sum of the networks' max_connections",
			 LOG_I("max_tunnels", n->opt.max_tunnels), LOG_I("max_connections", tunnels));
	return n;
fail:
	net_free(n);
	return NULL;
}

void net_free(struct net *n)
{
	if (!n)
		return;
	n->destroying = 1;
	if (n->ctx)
		lws_context_destroy(n->ctx); /* WSI_DESTROY detaches every live link, quietly */
	n->ctx = NULL;
	while (n->links) {
		struct link *l = n->links;
		n->links = l->next;
		free(l->url);
		link_tls_reset(l);
		l->ops->destroy(l);
	}
	helper_stop(n->helper);
	free(n->socks_proxy);
	free(n->ca_file);
	free(n);
}

int net_run(struct net *n, const volatile sig_atomic_t *stop, long long max_ms)
{
	uint64_t end = max_ms < 0 ? UINT64_MAX : mono_ms() + (uint64_t)max_ms;
	for (;;) {
		if (stop && *stop)
			return -1;
		if (!n->n_links)
			return 1;
		if (mono_ms() >= end)
			return 0;
		lws_service(n->ctx, 0);
	}
}

size_t net_pending(const struct net *n)
{
	return n->n_links;
}

void net_get_stats(const struct net *n, struct net_stats *s)
{
	*s = n->stats;
}

void net_isolation_tag(const struct net *n, const char *what, char *out, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char seed[sizeof(n->salt) + 320], hex[17];
	size_t wl = strlen(what) < 320 ? strlen(what) : 320;
	memcpy(seed, n->salt, sizeof(n->salt));
	memcpy(seed + sizeof(n->salt), what, wl);
	EVP_Digest(seed, sizeof(n->salt) + wl, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, 8, hex);
	snprintf(out, len, "brotr-%s", hex);
}

void net_isolation_user(const struct net *n, const char *host, int port, char *out, size_t len)
{
	char what[300];
	snprintf(what, sizeof(what), "relay:%s:%d", host, port);
	net_isolation_tag(n, what, out, len);
}

const char *net_library_version(void)
{
	return lws_get_library_version();
}
