/* db.h — the persistence layer's plain C API: connections, batch writes, the reads the services
 * need, and `brotr db init` / `brotr db check`. Nothing outside pgc/ sees SQL or ECPG.
 *
 * Every write is idempotent (ON CONFLICT DO NOTHING, progress only moves forward), so a call
 * that failed because the connection was lost is simply retried: inside the call first (the
 * connection is re-established with backoff for up to [database] connect_wait), and the
 * caller may retry the whole call again later. One batch is one statement, so one round trip
 * and one transaction; it works unchanged through PgBouncer in transaction mode.
 *
 * A struct db is one named connection. Calls on the same struct db are serialised by a mutex;
 * for parallel writes open one struct db per thread.
 */
#ifndef BROTR_PGC_DB_H
#define BROTR_PGC_DB_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

/* The schema this binary speaks; sql/20_functions.sql brotr_record_schema() records the same. */
#define DB_SCHEMA_VERSION 3
/* Longest relay URL stored, in bytes (longer ones are rejected and counted). */
#define DB_URL_MAX 2048
/* Longest tag value kept in events.tagvalues, in bytes (longer ones stay in tags only). */
#define DB_TAGVALUE_MAX 2048

/* Return codes of every call. */
enum {
	DB_OK = 0,
	DB_ERR = -1,       /* the server refused the statement, or a bad argument: see db_error() */
	DB_ERR_CONN = -2,  /* the server stayed unreachable for connect_wait */
	DB_ERR_STOP = -3,  /* *stop was set while waiting to reconnect */
};

enum db_network { DB_CLEARNET = 0, DB_TOR = 1 };

/* Why a row was not stored (per-row status arrays; 0 means it was stored or already there). */
enum db_reject {
	DB_ROW_OK = 0,
	DB_REJECT_NUL,      /* content or tags hold U+0000, which PostgreSQL text and jsonb cannot */
	DB_REJECT_UTF8,     /* not valid UTF-8 */
	DB_REJECT_URL,      /* relay URL empty or longer than DB_URL_MAX */
	DB_REJECT_INVALID,  /* refused by the server on its own (e.g. malformed JSON) */
	DB_REJECT_DOC,      /* snapshots only: stored, but without a document the server refused */
	DB_REJECT__COUNT
};
const char *db_reject_name(enum db_reject r); /* "nul", "utf8", "url", "invalid", "doc" */

struct db_options {
	const char *host;     /* host name, IPv4 address, or a Unix socket directory (starts with '/') */
	int port;
	const char *name;     /* database */
	const char *user;
	const char *password; /* may be empty */
	long long connect_timeout_ms; /* per attempt (libpq rounds to whole seconds, at least 2 s) */
	long long connect_wait_ms;    /* keep retrying an unreachable server this long; 0: once */
	long long retry_max_ms;       /* exponential backoff from 250 ms doubles up to this */
	const char *application_name; /* shown in pg_stat_activity; NULL: "brotr" */
	const volatile sig_atomic_t *stop; /* optional: abandon waits when it becomes non-zero */
	const struct logger *log;          /* optional: reconnects and retries are logged here */
};

/* Fills opt from [database] (the service connection); pointers borrow from cfg. */
void db_options_from_config(struct db_options *opt, const struct config *cfg);

struct db;

/* Connects (retrying with backoff while the server is unreachable). On failure *out is NULL
 * and, when err is not NULL, a reason is written to it. Returns DB_OK or an error code. */
int db_open(struct db **out, const struct db_options *opt, char *err, size_t errlen);
void db_close(struct db *db);
/* The last error's message ("" after success); valid until the next call on db. */
const char *db_error(const struct db *db);
/* A round trip to the server (reconnecting if the connection was lost). DB_OK when healthy. */
int db_health(struct db *db);
/* The implementation the database was initialised for: "bigbrotr", "lilbrotr", or "" if unknown. */
const char *db_variant(const struct db *db);

/* ---- relays ---- */

struct db_relay {
	const char *url; /* normalised; at most DB_URL_MAX bytes */
	enum db_network network;
};

struct db_relay_result {
	size_t inserted, duplicates, rejected;
};

/* Inserts relays not yet known (inserted_at: Unix seconds). status (optional, n entries) gets
 * each row's enum db_reject. Counts are added to *res (zero it first). */
int db_insert_relay(struct db *db, const struct db_relay *relay, int64_t inserted_at, struct db_relay_result *res);
int db_insert_relay_batch(struct db *db, const struct db_relay *relays, size_t n, int64_t inserted_at,
			  struct db_relay_result *res, unsigned char *status);

/* ---- events ---- */

struct db_event {
	unsigned char id[32];
	unsigned char pubkey[32];
	unsigned char sig[64];
	int64_t created_at;
	int32_t kind;
	const char *tags;    /* the tags as a JSON array (canonical, as hashed); NULL or "" means [] */
	size_t tags_len;
	const char *content; /* UTF-8, not NUL-terminated; may be NULL when content_len is 0 */
	size_t content_len;
};

/*
 * A relay's synchronizer progress. Every event with created_at <= synced_until is archived (-1:
 * nothing yet), and so is every event in [complete_from, top] of each window: the parts of the
 * relay's range above synced_until that the synchronizer walks at the same time, each backwards
 * from its top. complete_from == since: the window is whole; top + 1: none of it is yet.
 *
 * Progress is bound to what it covers: a coverage string (the synchronizer's fingerprint of
 * its effective filter and since, at most 64 bytes in practice). It is read back only under
 * the same coverage, and a write under another coverage replaces it instead of merging: a
 * widened filter or an earlier since walks the relay again from since.
 */
#define DB_SYNC_WINDOWS_MAX 16

struct db_sync_window {
	int64_t since, top, complete_from;
};

struct db_sync_progress {
	int64_t synced_until;
	size_t n_windows;
	struct db_sync_window window[DB_SYNC_WINDOWS_MAX];
};

/* What a relay's recorded progress is after a write: synced_until, and walk_from, the lowest
 * complete_from of its unfinished windows (-1: none, or not asked). */
struct db_sync_state {
	int64_t synced_until;
	int64_t walk_from;
};

struct db_event_result {
	size_t inserted;   /* new events */
	size_t duplicates; /* already stored, or twice in the batch */
	size_t associated; /* new (event, relay) associations */
	size_t rejected[DB_REJECT__COUNT]; /* by reason; [0] unused */
	struct db_sync_state progress; /* the relay's progress after the call; all -1 when not asked */
};

/*
 * Stores events seen on one relay at seen_at (Unix seconds): the relay if unknown, the events
 * not yet stored, the (event, relay) associations not yet known (seen_at keeps the first
 * sighting). When progress is not NULL, the relay's progress under coverage (required then) is
 * recorded as by db_sync_progress_set in the SAME statement, so it is committed exactly when
 * the events are: synced_until (-1 leaves it) and the windows given (only those that moved).
 * Rows that cannot be stored are rejected and counted, never failing the others: U+0000 and
 * invalid UTF-8 are caught before sending; if the server refuses the batch for a row's data,
 * the rows are retried one by one and only the refused ones are rejected (DB_REJECT_INVALID).
 * status (optional, n entries) gets each row's enum db_reject. Counts are added to *res.
 */
int db_insert_event(struct db *db, const struct db_relay *relay, const struct db_event *ev, int64_t seen_at,
		    struct db_event_result *res);
int db_insert_event_batch(struct db *db, const struct db_relay *relay, const struct db_event *evs, size_t n,
			  int64_t seen_at, const char *coverage, const struct db_sync_progress *progress,
			  struct db_event_result *res, unsigned char *status);

/* An event as the synchronizer asks about it: its id and signature (borrowed). */
struct db_event_key {
	const unsigned char *id;  /* 32 bytes */
	const unsigned char *sig; /* 64 bytes */
};

/*
 * Which of keys[0..n) the archive holds with the same signature: stored[i] is set to 1 for those,
 * 0 for the others (n at most DB_EVENTS_STORED_MAX). An implementation that keeps no signatures
 * (lilbrotr) holds none, and no statement is sent. Returns DB_OK or DB_ERR.
 */
#define DB_EVENTS_STORED_MAX 512
int db_events_stored(struct db *db, const struct db_event_key *keys, size_t n, unsigned char *stored);

/* ---- monitor snapshots ---- */

/* A canonical JSON document and id = sha256 of exactly those bytes (computed by the caller). */
struct db_doc {
	unsigned char id[32];
	const char *json;
	size_t len;
};

/*
 * nip11: the NIP-11 document; its known keys fill the nip11 columns, the others extra_fields.
 * nip66: {"openable":bool,"readable":bool,"writable":bool|null,"rtt_open":ms,"rtt_read":ms,
 *         "rtt_write":ms, ...}; other keys (reasons, say) go to nip66.extra.
 */
struct db_relay_metadata {
	struct db_relay relay;
	int64_t generated_at; /* Unix seconds */
	int connection_ok;
	int nip11_ok;
	const struct db_doc *nip11; /* NULL: none */
	const struct db_doc *nip66; /* NULL: none */
	const struct db_doc *tls;   /* the TLS facts (relay_tls); NULL: none */
};

struct db_metadata_result {
	size_t inserted, duplicates; /* snapshots (duplicate: same relay and generated_at) */
	size_t nip11_inserted, nip66_inserted, tls_inserted; /* new documents; the rest were shared */
	size_t rejected[DB_REJECT__COUNT]; /* [DB_REJECT_DOC] stays 0: see docs_refused */
	size_t docs_refused; /* snapshots stored without a document the server refused */
};

/*
 * Stores snapshots like db_insert_event_batch stores events. A snapshot the server refuses
 * for its data is stored without its NIP-11 document (nip11_ok as given, no nip11_id: the
 * relay served a document the database cannot hold), else also without its TLS facts, else
 * without any document; status
 * then says DB_REJECT_DOC and docs_refused counts it. A relay's document never costs its
 * snapshot.
 */
int db_insert_relay_metadata(struct db *db, const struct db_relay_metadata *m, struct db_metadata_result *res);
int db_insert_relay_metadata_batch(struct db *db, const struct db_relay_metadata *ms, size_t n,
				   struct db_metadata_result *res, unsigned char *status);

/* ---- maintenance ---- */

/* Deletes up to limit events no relay refers to; *deleted gets how many. For the administrator:
 * the services' role (brotr_writer) may not call it. */
int db_delete_orphan_events(struct db *db, size_t limit, size_t *deleted);

/* ---- reads ---- */

struct db_relay_row {
	char *url;
	enum db_network network;
	int64_t checked_at;   /* latest snapshot, -1: never checked */
	int64_t rtt_read;     /* ms, -1: unknown */
	int64_t synced_until; /* readable relays only: their progress (-1: none) */
	size_t sync_windows;  /* readable relays only: how many windows their progress has */
	int max_subscriptions; /* readable relays only: NIP-11 limitation.max_subscriptions, -1 unknown */
	int nip45;            /* the monitor's work list only: NIP-45 as the synchronizer saw it (1, 0), -1 unknown */
};

struct db_relay_list {
	struct db_relay_row *rows;
	size_t n;
};
void db_relay_list_free(struct db_relay_list *l);

/* The monitor's work list: relays never checked or last checked before checked_before, in URL
 * order after after_url (NULL: from the start), at most limit. Page with the last URL returned. */
int db_relays_due(struct db *db, int64_t checked_before, const char *after_url, size_t limit,
		  struct db_relay_list *out);

/* The synchronizer's work list: readable relays, fastest rtt_read first, with synced_until and the
 * number of windows of their progress under coverage (-1 and 0 where there is none, or only
 * progress earned for another coverage); db_sync_progress_get reads the windows. */
int db_readable_relays(struct db *db, const char *coverage, size_t limit, struct db_relay_list *out);

/* Records what the synchronizer saw of the relay's NIP-45: supported (a COUNT answered) or not (a
 * COUNT closed), at observed_at (Unix s). A relay not registered is left alone. */
int db_relay_nip45_set(struct db *db, const char *url, int supported, int64_t observed_at)
	__attribute__((warn_unused_result));

/* A relay's progress under coverage: synced_until (-1: none) and its first DB_SYNC_WINDOWS_MAX
 * windows by since (the synchronizer never makes more). */
int db_sync_progress_get(struct db *db, const char *url, const char *coverage, struct db_sync_progress *out);
/*
 * Records a relay's progress under coverage (the relay is created if unknown): synced_until
 * moves forward only (-1 leaves it); each window of p is recorded by its top: its complete_from
 * only moves down, its since is as given. Windows at or below synced_until are then merged into
 * it (deleted). Progress stored under another coverage is replaced by p as given. *now
 * (optional) gets what is recorded.
 */
int db_sync_progress_set(struct db *db, const struct db_relay *relay, const char *coverage,
			 const struct db_sync_progress *p, struct db_sync_state *now);

/* ---- brotr db init / db check ---- */

struct db_admin_options {
	struct db_options conn;  /* host, port, user, password of the administrator (a superuser) */
	const char *maintenance; /* database to connect to for CREATE DATABASE; NULL: "postgres" */
	const char *init_dir;    /* the implementation's config/postgres/init */
	const char *database;    /* the database to initialise */
	const char *writer_user; /* the login role the services use; made a member of brotr_writer */
	const char *writer_password; /* set when the stored one differs; "" leaves it alone */
};

/* Fills opt from [database] admin_* keys (falling back to host and port) and the implementation
 * directory. Pointers borrow from cfg; init_dir is written into dir (dirlen bytes). */
void db_admin_options_from_config(struct db_admin_options *opt, const struct config *cfg, char *dir, size_t dirlen);

/*
 * brotr db init: creates the roles and the database if missing, applies the init directory's
 * *.sql files in name order (expanding `\ir` includes) in one transaction unless the database
 * already records this schema version and checksum, and makes the writer a login member of
 * brotr_writer. Idempotent: a second run changes nothing. Writes one line per action to
 * report. Returns DB_OK or an error code (reason in report).
 */
int db_init(const struct db_admin_options *opt, struct buf *report);

/*
 * brotr db check, over a service connection: the schema version and checksum match this binary
 * and init directory (init_dir may be NULL to skip the checksum), every table, view and
 * procedure the services use exists with the privileges they need, and the connected role
 * cannot write directly. Writes one line per problem (and a summary) to report.
 * Returns DB_OK when all is well, DB_ERR when something is missing, or a connection error.
 */
int db_check(struct db *db, const char *init_dir, struct buf *report);

/* The sha256 (hex) of the init directory's SQL as db init applies it (every *.sql in name order,
 * `\ir` includes expanded). Returns 0, or -1 with a reason in err. */
int db_init_checksum(const char *init_dir, char checksum[65], char *err, size_t errlen);

/* The libpq loaded at run time (PQlibVersion, e.g. 150010 for 15.10); libecpg has no version call (version.c). */
int db_libpq_version(void);

#endif
