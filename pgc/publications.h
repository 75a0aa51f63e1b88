/* publications.h — the persistence API of the monitor's NIP-66 publishing: what was published, so a pass
 * republishes only what changed or is about to expire (sql/40_publisher.sql).
 *
 * Same contract as db.h: every call retries a lost connection within [database] connect_wait,
 * returns DB_OK or a DB_ERR* code with db_error() set, and is one statement (one transaction).
 */
#ifndef BROTR_PGC_PUBLICATIONS_H
#define BROTR_PGC_PUBLICATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* One event kept current: its key (a relay URL for kind 30166, "kind:<k>" for the monitor's own). */
struct db_publication {
	const char *key;
	int32_t kind;
	unsigned char facts[32];    /* what decides republishing (services/publisher_event.h) */
	unsigned char event_id[32];
	int64_t expires_at;         /* Unix s */
};

/*
 * Reads the rows of keys[0..n): for each i, found[i] = 1 with facts[i] and expires_at[i] set when
 * keys[i] has one, else found[i] = 0. Reads n rows at most.
 */
int db_publications_get(struct db *db, const char *const *keys, size_t n, int *found, unsigned char (*facts)[32],
			int64_t *expires_at) __attribute__((warn_unused_result));

/* Records p[0..n) as published at published_at (Unix s), in one statement; *recorded gets the rows
 * written. */
int db_publications_record(struct db *db, const struct db_publication *p, size_t n, int64_t published_at,
			   size_t *recorded) __attribute__((warn_unused_result));

#endif
