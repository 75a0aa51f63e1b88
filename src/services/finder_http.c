/* finder_http.c — the finder's HTTP sources: [finder] sources read, the due ones fetched through the helper. */
#include "services/finder_http.h"

#include <stdio.h>
#include <string.h>

#include "net/nip11.h"

/* Reads one "URL [PATH]" entry of len bytes. Returns 0, or -1 with err set. */
static int parse_entry(const char *e, size_t len, unsigned flags, struct finder_http_source *s, char *err,
		       size_t errlen)
{
	struct relay_url u;
	const char *why;
	size_t ul = strcspn(e, " \t");
	ul = ul > len ? len : ul;
	const char *p = e + ul;
	while (p < e + len && (*p == ' ' || *p == '\t'))
		p++;
	size_t pl = (size_t)(e + len - p);
	size_t skip = strncmp(e, "https://", 8) == 0 ? 8 : strncmp(e, "http://", 7) == 0 ? 7 : 0;
	if (!skip || ul >= sizeof(s->url) || pl >= sizeof(s->path) || memchr(e, '?', ul)) {
		snprintf(err, errlen, "[finder] sources: '%.*s' is not an http:// or https:// URL without a query, "
				      "optionally followed by a path of under 128 bytes", (int)len, e);
		return -1;
	}
	memset(s, 0, sizeof(*s));
	memcpy(s->url, e, ul);
	snprintf(s->ws_url, sizeof(s->ws_url), "%s%.*s", skip == 8 ? "wss://" : "ws://", (int)(ul - skip), e + skip);
	memcpy(s->path, p, pl);
	if (relay_url_parse(s->ws_url, strlen(s->ws_url), flags, &u, &why) < 0) {
		snprintf(err, errlen, "[finder] sources: '%s': %s", s->url, why);
		return -1;
	}
	s->tor = u.network == RELAY_NET_TOR;
	return 0;
}

int finder_sources_parse(const char *spec, unsigned flags, struct finder_http_source *out, size_t *n, char *err,
			 size_t errlen)
{
	*n = 0;
	for (const char *e = spec; *e;) {
		while (*e == ' ' || *e == '\t' || *e == ',')
			e++;
		size_t len = strcspn(e, ",");
		while (len && (e[len - 1] == ' ' || e[len - 1] == '\t'))
			len--;
		if (!len)
			break;
		if (*n == FINDER_SOURCES_MAX) {
			snprintf(err, errlen, "[finder] sources: more than %d sources", FINDER_SOURCES_MAX);
			return -1;
		}
		if (parse_entry(e, len, flags, &out[*n], err, errlen) < 0)
			return -1;
		(*n)++;
		e += strcspn(e, ",");
	}
	return 0;
}

struct fetch {
	const struct finder_http_source *s;
	finder_doc_fn fn;
	void *user;
	int done;
};

static void on_done(void *user, const char *url, const struct net_nip11_result *r)
{
	struct fetch *f = user;
	(void)url;
	f->done = 1;
	f->fn(f->user, f->s, r->err == NET_OK ? r->body : NULL, r->len, r->err == NET_OK ? NULL : r->reason);
}

int finder_sources_fetch(const struct config *cfg, const struct logger *log, struct metrics *m,
			 const struct finder_http_source *s, size_t n, const volatile sig_atomic_t *stop, finder_doc_fn fn,
			 void *user)
{
	struct fetch f[FINDER_SOURCES_MAX];
	struct net_options o;
	char err[256];
	net_options_from_config(&o, cfg);
	struct net *net = net_new(&o, log, m, err, sizeof(err));
	if (!net) {
		log_error(log, "cannot start the network layer", LOG_S("error", err));
		return -1;
	}
	for (size_t i = 0; i < n && i < FINDER_SOURCES_MAX; i++) {
		static const struct net_nip11_result oom = { .err = NET_ERR_LIMIT, .reason = "out of memory" };
		f[i] = (struct fetch){ &s[i], fn, user, !s[i].due };
		enum net_network nw = s[i].tor ? NET_TOR : NET_CLEARNET;
		if (s[i].due && net_json_fetch(net, s[i].ws_url, nw, (size_t)cfg->finder.source_max_size, on_done, &f[i]) < 0)
			on_done(&f[i], s[i].ws_url, &oom);
	}
	while (net_run(net, stop, 100) >= 0 && net_pending(net))
		;
	net_free(net);
	return 0;
}
