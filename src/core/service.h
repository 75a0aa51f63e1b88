/* service.h — the life of a service command: one pass or a loop, signals, health, metrics. */
#ifndef BROTR_CORE_SERVICE_H
#define BROTR_CORE_SERVICE_H

#include <signal.h>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"

/* What a pass sees. Owned by service_run; valid for the duration of the run. */
struct service_ctx {
	const struct config *cfg;
	struct logger log;          /* named after the service */
	struct metrics *metrics;    /* cumulative over the process; written after each pass */
	/* Set by SIGTERM or SIGINT: finish or roll back the current batch, then return. */
	const volatile sig_atomic_t *stop;
	void *state;                /* whatever the service's open() set */
};

struct service_def {
	const char *name; /* logger name, metrics file brotr_<name>.prom, section of its config */
	/* Interval between pass starts in --loop mode, from the service's section. NULL: no --loop. */
	long long (*interval_ms)(const struct config *cfg);
	/* Optional: checks what the key table cannot (a filter's JSON, which service this
	 * implementation runs). Returns 0, or -1 with the reason in err: the command exits 2. */
	int (*check)(const struct config *cfg, char *err, size_t errlen);
	/* Optional: set up what lives across passes (ctx->state). Returns 0 or -1 (logged by it). */
	int (*open)(struct service_ctx *ctx);
	/* One pass. Returns 0 when the pass completed, -1 when it failed (the cause logged by it).
	 * It polls *ctx->stop between units of work and returns early when it is set. */
	int (*pass)(struct service_ctx *ctx);
	/* Optional, --loop only: runs in the time between passes instead of sleeping, for at most ms,
	 * returning early when *ctx->stop is set (the rest of the time, if any, is slept). Returns 0,
	 * or -1 when it could not (logged by it). */
	int (*idle)(struct service_ctx *ctx, long long ms);
	/* Optional: release ctx->state. */
	void (*close)(struct service_ctx *ctx);
};

/*
 * Runs def once, or repeatedly when loop is set, until a pass ends or a stop signal arrives.
 * Installs handlers: SIGTERM/SIGINT request a graceful stop (a second one exits at once),
 * SIGHUP reopens the log file. In loop mode with [metrics] listen set, serves /metrics and
 * /health. Returns the exit status: 0 when the pass completed (loop: stopped by a signal),
 * 1 when it failed or was interrupted, 2 when loop is asked of a service without interval or
 * its check refuses the configuration.
 */
int service_run(const struct service_def *def, const struct config *cfg, struct log_sink *sink, int loop);

/* Waits ms milliseconds or until a stop is requested. Returns 0 after the full wait, -1 when stopped. */
int service_sleep(const struct service_ctx *ctx, long long ms);

#endif
