/* monitor_store.h — the monitor's snapshots written in batches on a thread of their own, so the event loop never waits for the database. */
#ifndef BROTR_SERVICES_MONITOR_STORE_H
#define BROTR_SERVICES_MONITOR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "core/metrics.h"
#include "db.h"
#include "nostr/relay_url.h"

/* One relay_metadata row with its documents. Documents are malloc'd; NULL json means none. */
struct monitor_snapshot {
	char url[RELAY_URL_MAX + 1];
	enum db_network network;
	int64_t generated_at;
	int connection_ok, nip11_ok;
	char *nip11_json, *nip66_json, *tls_json; /* tls: the TLS facts of a wss check (relay_tls) */
	size_t nip11_len, nip66_len, tls_len;
	unsigned char nip11_id[32], nip66_id[32], tls_id[32];
};

/* Frees the documents of a snapshot (not the snapshot). */
void monitor_snapshot_clear(struct monitor_snapshot *s);

/* What reached the database. */
struct monitor_store_stats {
	size_t stored;        /* snapshots inserted */
	size_t duplicates;    /* snapshots already there (same relay and pass start) */
	size_t rejected;      /* refused rows (URL, encoding or data) */
	size_t lost;          /* snapshots not written because a batch failed */
	size_t nip11_sent, nip11_new, nip66_sent, nip66_new, tls_sent, tls_new; /* documents; sent - new were shared */
	size_t batches;
};

struct monitor_store;

/*
 * Starts the writer thread. Calls on db are made from that thread only while the store lives
 * (db serialises them anyway). Snapshots are written batch_size at a time, one round trip and
 * one transaction each (db_insert_relay_metadata_batch). m may be NULL. Returns NULL when out of
 * memory or threads.
 */
struct monitor_store *monitor_store_new(struct db *db, size_t batch_size, const struct logger *lg, struct metrics *m);

/* Takes the snapshot's contents (*snap is emptied). A full batch goes to the writer at once.
 * Returns 0, or -1 when out of memory (the snapshot is dropped and counted as lost). */
int monitor_store_add(struct monitor_store *s, struct monitor_snapshot *snap);

/* Hands the partial batch to the writer now (used on a timer, so a crash loses little). */
void monitor_store_flush(struct monitor_store *s);

/* 1 while two batches or more wait for the writer: the caller should not start more work. */
int monitor_store_backlogged(struct monitor_store *s);

/* 1 once a batch could not be written: more checks would only be lost. */
int monitor_store_failed(struct monitor_store *s);

/* Waits at most ms for the writer to take a batch. */
void monitor_store_wait(struct monitor_store *s, long long ms);

/*
 * Flushes, waits for every batch, stops the thread and frees the store; *stats gets the totals.
 * Returns 0, or -1 when a batch could not be written (its error was logged; the rest were tried
 * only while the database answered).
 */
int monitor_store_finish(struct monitor_store *s, struct monitor_store_stats *stats);

#endif
