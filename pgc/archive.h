/* archive.h — reading the archive out: the events matching a filter, streamed row by row in constant
 * memory (`brotr export`). A plain C API over one SELECT in archive_io.pgc; nothing here is SQL.
 *
 * The rows come from one statement, so from one snapshot of the database, in no particular order.
 * The statement is parameterised and sent in libpq's single-row mode over the struct db's own
 * connection: whatever the number of matches, memory holds one row at a time. It reads the events
 * and events_relays tables, so the connection must be a role with SELECT on them (brotr_reader);
 * brotr_writer has none. Not retried once rows flow: an export interrupted by a lost connection
 * fails, and running it again starts over (nothing is written to the database).
 */
#ifndef BROTR_PGC_ARCHIVE_H
#define BROTR_PGC_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* One "#x" condition of a NIP-01 filter: a tag named letter whose first value is one of values. */
struct db_export_tag {
	char letter;
	const char *const *values; /* NUL-terminated UTF-8 */
	size_t n;                  /* 0: matches nothing */
};

/* A NIP-01 filter without limit. A list with its has_ flag set constrains even when empty (then
 * nothing matches); bounds are inclusive. Arrays are borrowed for the duration of the call. */
struct db_export_filter {
	const unsigned char (*ids)[32];
	size_t n_ids;
	int has_ids;
	const unsigned char (*authors)[32];
	size_t n_authors;
	int has_authors;
	const uint32_t *kinds;
	size_t n_kinds;
	int has_kinds;
	const struct db_export_tag *tags; /* every condition must hold; letters distinct */
	size_t n_tags;
	int64_t since, until;
	int has_since, has_until;
	int with_relays; /* fill db_export_row.relays */
};

/* One event as stored. Pointers are valid only during the callback. */
struct db_export_row {
	const unsigned char *id;     /* 32 bytes */
	const unsigned char *pubkey; /* 32 bytes */
	const unsigned char *sig;    /* 64 bytes */
	int64_t created_at;
	int32_t kind;
	const char *tags;            /* a JSON array as PostgreSQL prints jsonb (", " between elements) */
	size_t tags_len;
	const char *content;         /* UTF-8 */
	size_t content_len;
	const char *relays;          /* with_relays: a JSON array of the relay URLs, sorted; else NULL */
	size_t relays_len;
};

/* Called for each row; a non-zero return stops the export (the query is cancelled). */
typedef int (*db_export_fn)(void *arg, const struct db_export_row *row);

/*
 * Streams every event matching f to fn. Returns DB_OK after the last row, DB_ERR_STOP when fn
 * stopped it, DB_ERR (reason in db_error(); also when the database is a lilbrotr one, which keeps
 * no tags, content or signatures) or DB_ERR_CONN. *rows (optional) gets the rows handed to fn.
 */
int db_export_events(struct db *db, const struct db_export_filter *f, db_export_fn fn, void *arg, size_t *rows)
	__attribute__((warn_unused_result));

#endif
