/* service_db.c — a service pass's database connection, named after the service and abandoned on a stop request. */
#include "services/service_db.h"

int service_db_open(const struct service_ctx *ctx, const char *app, struct db **out)
{
	struct db_options opt;
	char err[512];
	db_options_from_config(&opt, ctx->cfg);
	opt.application_name = app;
	opt.stop = ctx->stop;
	opt.log = &ctx->log;
	if (db_open(out, &opt, err, sizeof(err)) != DB_OK) {
		log_error(&ctx->log, "database unavailable", LOG_S("error", err));
		return -1;
	}
	return 0;
}
