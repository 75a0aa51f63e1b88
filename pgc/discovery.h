/* discovery.h — the persistence API of relay discovery: the finder's queue of archived events and
 * its candidates, the validator's work list and outcomes (sql/30_discovery.sql). Writes go
 * through procedures; reads are inline over finder_pending_events and relay_candidates.
 *
 * Same contract as db.h: every call retries a lost connection within [database] connect_wait,
 * returns DB_OK or a DB_ERR* code with db_error() set, and is one statement (one transaction).
 */
#ifndef BROTR_PGC_DISCOVERY_H
#define BROTR_PGC_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* ---- finder ---- */

/* One queued event with what the archive keeps of it. Strings are NUL-terminated and owned by
 * the page; NULL when the implementation does not keep that column. */
struct db_queued_event {
	int64_t seq;              /* its queue position: pass it back to db_finder_commit */
	char event_id[65];        /* lower-case hex */
	int32_t kind;             /* -1 when the event was deleted since it was queued */
	const char *tags;         /* JSON array (bigbrotr), or NULL */
	const char *content;      /* bigbrotr, or NULL */
	const char *tagvalues;    /* JSON array of the single-letter tags' values */
};

struct db_queued_page {
	struct db_queued_event *rows;
	size_t n;
	int64_t last_seq;         /* of the last row; the next page starts after it */
	void *mem_[10];           /* private: the fetched columns */
};
void db_queued_page_free(struct db_queued_page *p);

/* Up to limit queued events after queue position after_seq (0: from the start), in queue order.
 * Memory: limit rows, each at most the size of one stored event. */
int db_finder_read(struct db *db, int64_t after_seq, size_t limit, struct db_queued_page *out)
	__attribute__((warn_unused_result));

/* Where a candidate was found: source is one of "r-tag", "relay-tag", "contacts", "recommend",
 * "hint", "nip66" (then event_id, hex, names the event) or "http" (then source_url). */
struct db_candidate {
	const char *url;          /* normalised relay URL */
	enum db_network network;
	const char *source;
	const char *event_id;     /* hex, or NULL */
	const char *source_url;   /* or NULL */
};

struct db_finder_result {
	size_t inserted;    /* new candidates */
	size_t known;       /* distinct URLs already relays or candidates */
	size_t events_done; /* queue rows consumed */
};

/* Stores the candidates (the first of each URL in array order counts) and removes queue rows
 * seqs[0..n_seqs) in ONE statement: the queue never moves past candidates not committed.
 * Counts are added to *res. */
int db_finder_commit(struct db *db, const int64_t *seqs, size_t n_seqs, const struct db_candidate *cands,
		     size_t n, int64_t seen_at, struct db_finder_result *res) __attribute__((warn_unused_result));

/* ---- finder: HTTP sources ---- */

/* Whether source url may be fetched at now (Unix s): never fetched, or its cool-down is over. */
int db_finder_source_due(struct db *db, const char *url, int64_t now, int *due) __attribute__((warn_unused_result));

/* One fetch of a source: its candidates (source "http", source_url url; event_id ignored) and its
 * next fetch time, with error NULL when the fetch succeeded, in ONE statement. Counts go to *res. */
int db_finder_commit_source(struct db *db, const char *url, const char *error, int64_t next_fetch,
			    const struct db_candidate *cands, size_t n, int64_t seen_at, struct db_finder_result *res)
	__attribute__((warn_unused_result));

/* ---- validator ---- */

/* Candidates whose next attempt is due at now (Unix s), the longest waiting first, at most limit.
 * Rows carry url and network (checked_at, rtt_read and progress are -1). */
int db_candidates_due(struct db *db, int64_t now, size_t limit, struct db_relay_list *out)
	__attribute__((warn_unused_result));

struct db_validation {
	const char *url;
	int valid;           /* answered like a Nostr relay */
	const char *error;   /* why not (valid == 0) */
};

struct db_validator_policy {
	int64_t now;           /* Unix s */
	int64_t retry_base_s;  /* the first retry waits this long, doubling per failure */
	int64_t retry_max_s;   /* ... up to this */
	int64_t max_age_s;     /* a failed candidate first seen longer ago is dropped */
	int max_failures;      /* a candidate failing this many times is dropped */
};

struct db_validator_result {
	size_t promoted, failed, dropped;
};

/* Records outcomes in one statement: valid candidates become relays and stop being candidates;
 * the others are rescheduled or dropped by policy. Counts are added to *res. */
int db_validator_record(struct db *db, const struct db_validation *v, size_t n, const struct db_validator_policy *p,
			struct db_validator_result *res) __attribute__((warn_unused_result));

#endif
