/* metrics_http.h — a loopback HTTP endpoint serving /metrics and /health from a background thread. */
#ifndef BROTR_CORE_METRICS_HTTP_H
#define BROTR_CORE_METRICS_HTTP_H

#include <stddef.h>

#include "core/log.h"
#include "core/metrics.h"

struct metrics_http;

/*
 * Listens on listen ("host:port", loopback) and serves, one request at a time:
 *   GET /metrics  the registry in the Prometheus text format
 *   GET /health   200 {"status":"ok"} after a good pass, 200 "starting" before the first,
 *                 503 {"status":"failed"} after a failed one
 * m and lg must outlive the server. Returns NULL and a reason in err when it cannot listen.
 */
struct metrics_http *metrics_http_start(const char *listen, struct metrics *m, const struct logger *lg, char *err,
					size_t errlen);

/* Stops the thread and closes the socket. Accepts NULL. */
void metrics_http_stop(struct metrics_http *h);

#endif
