/* synchronizer.c — `brotr synchronizer`: archives every event of every relay the monitor found readable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/auth.h"
#include "services/services.h"
#include "services/sync_engine.h"

static long long interval(const struct config *cfg)
{
	return cfg->synchronizer.interval_ms;
}

static int check(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->brotr.sync_service != 0) {
		snprintf(err, errlen, "this implementation runs the priority synchronizer ([brotr] sync_service = "
				      "priority_synchronizer): run brotr priority-synchronizer instead");
		return -1;
	}
	if (auth_check_config(cfg, err, errlen) < 0)
		return -1;
	return sync_check_filter("synchronizer", &cfg->synchronizer, err, errlen);
}

static int open_engine(struct service_ctx *ctx)
{
	ctx->state = sync_engine_open(ctx, &ctx->cfg->synchronizer);
	return ctx->state ? 0 : -1;
}

static void close_engine(struct service_ctx *ctx)
{
	sync_engine_close(ctx->state);
}

/* The readable relays, fastest first, with their progress (the windows of those that have some). */
static int pass(struct service_ctx *ctx)
{
	struct sync_engine *e = ctx->state;
	struct db_relay_list l;
	if (db_readable_relays(sync_engine_db(e), sync_engine_coverage(e), 0, &l) != DB_OK) {
		log_error(&ctx->log, "cannot read the readable relays", LOG_S("error", db_error(sync_engine_db(e))));
		return -1;
	}
	struct sync_target *t = calloc(l.n ? l.n : 1, sizeof(*t));
	if (!t) {
		db_relay_list_free(&l);
		log_error(&ctx->log, "out of memory");
		return -1;
	}
	size_t n = 0, skipped = 0;
	for (size_t i = 0; i < l.n; i++) {
		/* The database holds URLs up to DB_URL_MAX; a relay connection takes RELAY_URL_MAX.
		 * Refuse a longer one by name rather than cut it into another relay's URL. */
		if (strlen(l.rows[i].url) > RELAY_URL_MAX) {
			log_error(&ctx->log, "relay URL too long to synchronize: skipped", LOG_S("relay", l.rows[i].url),
				  LOG_U("bytes", strlen(l.rows[i].url)), LOG_U("max", RELAY_URL_MAX));
			skipped++;
			continue;
		}
		memcpy(t[n].url, l.rows[i].url, strlen(l.rows[i].url) + 1);
		t[n].network = l.rows[i].network == DB_TOR ? RELAY_NET_TOR : RELAY_NET_CLEARNET;
		t[n].progress.synced_until = l.rows[i].synced_until;
		t[n].max_subscriptions = l.rows[i].max_subscriptions;
		if (l.rows[i].sync_windows > 0 &&
		    db_sync_progress_get(sync_engine_db(e), t[n].url, sync_engine_coverage(e), &t[n].progress) != DB_OK) {
			log_error(&ctx->log, "cannot read the relay's progress", LOG_S("relay", t[n].url),
				  LOG_S("error", db_error(sync_engine_db(e))));
			db_relay_list_free(&l);
			free(t);
			return -1;
		}
		n++;
	}
	log_info(&ctx->log, "relays to synchronize", LOG_U("readable", l.n), LOG_U("skipped", skipped));
	int rc = sync_engine_run(e, t, n);
	db_relay_list_free(&l);
	free(t);
	return rc;
}

const struct service_def synchronizer_service = {
	.name = "synchronizer",
	.interval_ms = interval,
	.check = check,
	.open = open_engine,
	.pass = pass,
	.close = close_engine,
};
