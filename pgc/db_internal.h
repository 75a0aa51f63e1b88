/* db_internal.h — what the pgc/ files share: the connection object and the retry loop.
 * Not part of the API; only pgc/ includes it. */
#ifndef BROTR_PGC_DB_INTERNAL_H
#define BROTR_PGC_DB_INTERNAL_H

#include <pthread.h>

#include "db.h"
#include "encode.h"

/* Positive: the statement found no row (ECPG's NOT FOUND). */
#define DB_NOTFOUND 1
/* Internal: try the statement again (after a pause and, if needed, a reconnection). */
#define DB_RETRY 2

enum { ARR_IDS, ARR_PUBKEYS, ARR_CREATED, ARR_KINDS, ARR_TAGS, ARR_CONTENTS, ARR_SIGS, ARR_URLS,
       ARR_NETWORKS, ARR_GENERATED, ARR_CONN_OK, ARR_NIP11_OK, ARR_NIP11_IDS, ARR_NIP11_DOCS,
       ARR_NIP66_IDS, ARR_NIP66_DOCS, ARR_TLS_IDS, ARR_TLS_DOCS, ARR__COUNT };

struct db {
	pthread_mutex_t mu;
	char conn[32];     /* the ECPG connection name, unique in the process */
	int connected;
	int data_error;    /* the last error was about a row's data (SQLSTATE class 22, 23, 54) */
	char sqlstate[6];  /* of the last error */
	struct db_options opt; /* strings below are this struct's own copies */
	char *host, *dbname, *user, *password, *app;
	char target[1024]; /* the ECPG connection target */
	char variant[16];
	char err[1024];
	struct pgarr arr[ARR__COUNT]; /* reused between calls */
};

/* The retry state of one call: deadline and next pause. */
struct db_retry {
	uint64_t deadline; /* mono_ms; 0 until the first failure */
	long long pause_ms;
};

void db_lock(struct db *db);
void db_unlock(struct db *db);
void db_set_error(struct db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Before each attempt of a statement: connects if needed (retrying within the call's
 * deadline). Returns DB_OK or an error code. */
int db_ready(struct db *db, struct db_retry *rt);

/* After each attempt: DB_OK, DB_NOTFOUND, DB_RETRY (transient failure: paused, the statement
 * is to be run again), or an error code with db_error() set, prefixed by what. */
int db_after(struct db *db, struct db_retry *rt, const char *what);

#endif
