/* service_db.h — a service pass's database connection, named after the service and abandoned on a stop request. */
#ifndef BROTR_SERVICES_SERVICE_DB_H
#define BROTR_SERVICES_SERVICE_DB_H

#include "core/service.h"
#include "db.h"

/* Opens [database] as application_name app (waiting up to connect_wait; a stop request ends the
 * wait). Returns 0, or -1 with the reason logged on ctx's logger and *out NULL. */
int service_db_open(const struct service_ctx *ctx, const char *app, struct db **out)
	__attribute__((warn_unused_result));

#endif
