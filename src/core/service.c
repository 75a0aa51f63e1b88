/* service.c — one pass or a loop of passes, with signals, health and metrics around a service. */
#include "core/service.h"

#include "core/metrics_http.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Signal state. A handler can only reach globals, so these are the process's only ones,
 * and they are confined to this file: the stop flag (read by passes through ctx->stop), the
 * self-pipe that wakes service_sleep, and the sink whose file SIGHUP reopens.
 */
static volatile sig_atomic_t stop_requested;
static int wake_pipe[2] = { -1, -1 };
static struct log_sink *hup_sink;

static void on_stop(int sig)
{
	(void)sig;
	if (stop_requested) {
		static const char msg[] = "brotr: second stop signal, exiting at once\n";
		ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)r;
		_exit(1);
	}
	stop_requested = 1;
	int saved = errno;
	if (wake_pipe[1] >= 0) {
		ssize_t r = write(wake_pipe[1], "x", 1);
		(void)r;
	}
	errno = saved;
}

static void on_hup(int sig)
{
	(void)sig;
	if (hup_sink)
		log_sink_request_reopen(hup_sink);
}

static int install_signals(struct log_sink *sink)
{
	stop_requested = 0;
	hup_sink = sink;
	if (wake_pipe[0] < 0 && pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

int service_sleep(const struct service_ctx *ctx, long long ms)
{
	uint64_t end = mono_ms() + (uint64_t)(ms > 0 ? ms : 0);
	while (!*ctx->stop) {
		uint64_t now = mono_ms();
		if (now >= end)
			return 0;
		struct pollfd p = { .fd = wake_pipe[0], .events = POLLIN };
		uint64_t left = end - now;
		if (poll(&p, 1, left > 60000 ? 60000 : (int)left) > 0) {
			char drain[16];
			while (read(wake_pipe[0], drain, sizeof(drain)) > 0)
				;
		}
	}
	return -1;
}

/* Runs one pass and records its outcome. Returns 0 completed, 1 failed, 2 interrupted. */
static int one_pass(const struct service_def *def, struct service_ctx *ctx)
{
	int64_t start = wall_ms();
	uint64_t t0 = mono_ms();
	log_info(&ctx->log, "pass started");
	int rc = def->pass(ctx);
	int interrupted = *ctx->stop;
	int ok = rc == 0 && !interrupted;
	metrics_pass_done(ctx->metrics, ok, start, start + (int64_t)(mono_ms() - t0));
	log_flush_suppressed(ctx->log.sink);
	const char *outcome = ok ? "completed" : interrupted ? "interrupted" : "failed";
	if (ok)
		log_info(&ctx->log, "pass ended", LOG_S("result", outcome), LOG_U("duration_ms", mono_ms() - t0));
	else
		log_warn(&ctx->log, "pass ended", LOG_S("result", outcome), LOG_U("duration_ms", mono_ms() - t0));
	if (*ctx->cfg->metrics.dir && metrics_write_file(ctx->metrics, ctx->cfg->metrics.dir) < 0)
		log_error(&ctx->log, "cannot write metrics file", LOG_S("dir", ctx->cfg->metrics.dir),
			  LOG_S("error", strerror(errno)));
	return ok ? 0 : interrupted ? 2 : 1;
}

int service_run(const struct service_def *def, const struct config *cfg, struct log_sink *sink, int loop)
{
	struct service_ctx ctx = {
		.cfg = cfg,
		.log = { .sink = sink, .name = def->name },
		.stop = &stop_requested,
	};
	struct metrics_http *http = NULL;
	int status = 1, opened = 0;
	if (loop && !def->interval_ms) {
		log_error(&ctx.log, "this command runs once; --loop is not available");
		return 2;
	}
	char why[512];
	if (def->check && def->check(cfg, why, sizeof(why)) < 0) {
		log_error(&ctx.log, "configuration error", LOG_S("error", why));
		return 2;
	}
	if (install_signals(sink) < 0) {
		log_error(&ctx.log, "cannot install signal handlers", LOG_S("error", strerror(errno)));
		return 1;
	}
	ctx.metrics = metrics_new(def->name);
	if (!ctx.metrics) {
		log_error(&ctx.log, "out of memory");
		return 1;
	}
	if (*cfg->metrics.dir && metrics_load_file(ctx.metrics, cfg->metrics.dir) < 0)
		log_warn(&ctx.log, "cannot read the previous metrics file; counters start at 0",
			 LOG_S("dir", cfg->metrics.dir), LOG_S("error", strerror(errno)));
	if (loop && *cfg->metrics.listen) {
		char err[256];
		http = metrics_http_start(cfg->metrics.listen, cfg->metrics.allow_remote, ctx.metrics, &ctx.log, err,
					  sizeof(err));
		if (!http) {
			log_error(&ctx.log, "cannot serve metrics", LOG_S("error", err));
			goto out;
		}
	}
	if (def->open && def->open(&ctx) < 0)
		goto out;
	opened = 1;
	for (;;) {
		uint64_t started = mono_ms();
		int r = one_pass(def, &ctx);
		status = r == 0 ? 0 : 1;
		if (!loop || stop_requested)
			break;
		long long wait = def->interval_ms(cfg) - (long long)(mono_ms() - started);
		log_info(&ctx.log, "next pass scheduled", LOG_I("in_ms", wait > 0 ? wait : 0));
		if (def->idle && wait > 0 && !stop_requested)
			def->idle(&ctx, wait); /* a failure is logged by it; the rest is slept */
		wait = def->interval_ms(cfg) - (long long)(mono_ms() - started);
		if (service_sleep(&ctx, wait) < 0)
			break;
	}
	if (loop && stop_requested) {
		log_info(&ctx.log, "stopped on request");
		status = 0;
	}
out:
	if (opened && def->close)
		def->close(&ctx);
	metrics_http_stop(http);
	metrics_free(ctx.metrics);
	return status;
}
