/* metrics_http.h — an HTTP endpoint serving /metrics and /health from a background thread. */
#ifndef BROTR_CORE_METRICS_HTTP_H
#define BROTR_CORE_METRICS_HTTP_H

#include <stddef.h>

#include "core/log.h"
#include "core/metrics.h"

/* Bounds of the server: clients served at once (more wait in the listen backlog), bytes of one
 * request head (a longer one gets 431), and the time one client may take from accept to the last
 * byte of the response (then it is closed). */
#define METRICS_HTTP_CLIENTS 16
#define METRICS_HTTP_REQUEST_MAX 4096
#define METRICS_HTTP_DEADLINE_MS 10000
/* How long the listener rests when accept fails for lack of descriptors or memory. */
#define METRICS_HTTP_BACKOFF_MS 1000

struct metrics_http;

/*
 * Listens on listen ("host:port", a literal address or localhost, never looked up) and serves
 *   GET /metrics  the registry in the Prometheus text format
 *   GET /health   200 {"status":"ok"} after a good pass, 200 "starting" before the first,
 *                 503 {"status":"failed"} after a failed one
 * to up to METRICS_HTTP_CLIENTS clients at once, without blocking on any of them. Unless
 * allow_remote, the address must be loopback (127.0.0.0/8, ::1). m and lg must outlive the
 * server. Returns NULL and a reason in err when it cannot listen.
 */
struct metrics_http *metrics_http_start(const char *listen, int allow_remote, struct metrics *m,
					const struct logger *lg, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Stops the thread and closes every socket. Accepts NULL. */
void metrics_http_stop(struct metrics_http *h);

#endif
