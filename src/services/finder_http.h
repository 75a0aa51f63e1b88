/* finder_http.h — the finder's HTTP sources: [finder] sources read, the due ones fetched through the helper. */
#ifndef BROTR_SERVICES_FINDER_HTTP_H
#define BROTR_SERVICES_FINDER_HTTP_H

#include <signal.h>
#include <stddef.h>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "nostr/relay_url.h"

#define FINDER_SOURCES_MAX 32

struct finder_http_source {
	char url[RELAY_URL_MAX + 1];    /* as configured: http:// or https:// */
	char ws_url[RELAY_URL_MAX + 1]; /* the same in ws:// or wss:// form, what the net layer takes */
	char path[128];                 /* where the URLs are in the document (finder_scan_json) */
	int tor;                        /* an .onion: fetched over tor */
	int due;                        /* set by the caller */
};

/*
 * Reads spec ("URL [PATH], URL [PATH], ..."; URL http:// or https:// without a query, PATH as
 * finder_scan_json takes it, "" when absent) into out[0..*n). flags: RELAY_URL_ALLOW_LOCAL or 0.
 * Returns 0, or -1 with a reason naming the entry in err.
 */
int finder_sources_parse(const char *spec, unsigned flags, struct finder_http_source *out, size_t *n, char *err,
			 size_t errlen);

/* Called in the caller's thread once per fetched source: body (NUL-terminated) or, on failure,
 * NULL and a reason. */
typedef void (*finder_doc_fn)(void *user, const struct finder_http_source *s, const char *body, size_t len,
			      const char *error);

/* Fetches the sources with due set, all at once within the [network] limits, through [tor]
 * socks_proxy, each at most [finder] source_max_size bytes. Returns when all are done or *stop is
 * set (the others are abandoned: no call). Returns 0, or -1 when the net layer cannot start (logged). */
int finder_sources_fetch(const struct config *cfg, const struct logger *log, struct metrics *m,
			 const struct finder_http_source *s, size_t n, const volatile sig_atomic_t *stop, finder_doc_fn fn,
			 void *user);

#endif
