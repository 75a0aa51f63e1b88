/* version.c — the run-time version of libpq, for `brotr version`. */
#include <libpq-fe.h>

#include "db.h"

int db_libpq_version(void)
{
	return PQlibVersion();
}
