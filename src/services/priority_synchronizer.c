/* priority_synchronizer.c — `brotr priority-synchronizer`: archives every event of the relays listed in relay_file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/relay_file.h"
#include "services/auth.h"
#include "services/services.h"
#include "services/sync_engine.h"

static long long interval(const struct config *cfg)
{
	return cfg->priority_synchronizer.interval_ms;
}

static int check(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->brotr.sync_service != 1) {
		snprintf(err, errlen, "this implementation runs the synchronizer ([brotr] sync_service = "
				      "synchronizer): run brotr synchronizer instead");
		return -1;
	}
	if (auth_check_config(cfg, err, errlen) < 0)
		return -1;
	return sync_check_filter("priority_synchronizer", &cfg->priority_synchronizer, err, errlen);
}

static int open_engine(struct service_ctx *ctx)
{
	ctx->state = sync_engine_open(ctx, &ctx->cfg->priority_synchronizer);
	return ctx->state ? 0 : -1;
}

static void close_engine(struct service_ctx *ctx)
{
	sync_engine_close(ctx->state);
}

/* The listed relays (whatever the monitor found), each with its progress. */
static int load_targets(struct service_ctx *ctx, struct sync_target **out, size_t *n)
{
	const char *path = ctx->cfg->priority_synchronizer.relay_file;
	struct relay_file f;
	char err[512];
	if (relay_file_read(path, ctx->cfg->network.allow_local ? RELAY_URL_ALLOW_LOCAL : 0, &f, err, sizeof(err)) < 0) {
		log_error(&ctx->log, "cannot read the relay file", LOG_S("error", err));
		return -1;
	}
	for (size_t i = 0; i < f.n_rejects; i++)
		log_warn(&ctx->log, "relay file line rejected", LOG_S("file", path), LOG_I("line", f.rejects[i].line),
			 LOG_S("reason", f.rejects[i].reason), LOG_S("text", f.rejects[i].text));
	struct sync_target *t = calloc(f.n ? f.n : 1, sizeof(*t));
	int rc = t ? 0 : -1;
	struct db *db = sync_engine_db(ctx->state);
	for (size_t i = 0; rc == 0 && i < f.n; i++) {
		snprintf(t[i].url, sizeof(t[i].url), "%s", f.relays[i].url);
		t[i].network = f.relays[i].network;
		t[i].max_subscriptions = -1; /* listed, not necessarily monitored */
		if (db_sync_progress_get(db, t[i].url, sync_engine_coverage(ctx->state), &t[i].progress) != DB_OK) {
			log_error(&ctx->log, "cannot read the relay's progress", LOG_S("relay", t[i].url),
				  LOG_S("error", db_error(db)));
			rc = -1;
		}
	}
	*n = f.n;
	relay_file_free(&f);
	if (rc < 0)
		free(t);
	else
		*out = t;
	return rc;
}

static int pass(struct service_ctx *ctx)
{
	struct sync_target *t;
	size_t n;
	if (load_targets(ctx, &t, &n) < 0)
		return -1;
	log_info(&ctx->log, "relays to synchronize", LOG_U("listed", n));
	int rc = sync_engine_run(ctx->state, t, n);
	free(t);
	return rc;
}

/* Between passes: the listed relays' live events ([priority_synchronizer] tail). */
static int idle(struct service_ctx *ctx, long long ms)
{
	if (!ctx->cfg->priority_synchronizer.tail)
		return 0;
	struct sync_target *t;
	size_t n;
	if (load_targets(ctx, &t, &n) < 0)
		return -1;
	int rc = sync_engine_tail(ctx->state, t, n, ms);
	free(t);
	return rc;
}

const struct service_def priority_synchronizer_service = {
	.name = "priority_synchronizer",
	.interval_ms = interval,
	.check = check,
	.open = open_engine,
	.pass = pass,
	.idle = idle,
	.close = close_engine,
};
