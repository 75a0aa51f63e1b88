-- 10_tables.sql — the tables and their indexes, common to bigbrotr and lilbrotr.
--
-- Times are Unix seconds (bigint), like Nostr's created_at. Binary identifiers (event ids,
-- public keys, signatures, content hashes) are bytea of their exact length.
-- Every index names the query it exists for. Foreign keys are kept on the low-volume tables
-- (metadata, progress) and left out of events_relays, the hottest table: an RI check per row
-- would cost a lookup and a row lock on events for every association; the procedures, the
-- only writers, insert an event and its associations in the same statement.

-- The schema version `brotr db check` compares with the binary's (DB_SCHEMA_VERSION in
-- pgc/db.h), the implementation, and the checksum of the init SQL that produced it.
CREATE TABLE IF NOT EXISTS brotr_schema (
	singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	version    integer NOT NULL,
	variant    text NOT NULL CHECK (variant IN ('bigbrotr', 'lilbrotr')),
	checksum   text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
);

-- Relays. The URL is the normalised relay URL; 2048 bytes at most (DB_URL_MAX), which keeps
-- every btree entry that holds it (here, events_relays, relay_metadata) under the 2704-byte limit.
CREATE TABLE IF NOT EXISTS relays (
	url         text PRIMARY KEY CHECK (octet_length(url) BETWEEN 1 AND 2048),
	network     text NOT NULL CHECK (network IN ('clearnet', 'tor')),
	inserted_at bigint NOT NULL
);
-- relays_pkey: insert_relay(_batch) ON CONFLICT; relays_due_for_monitoring (keyset order by url).

-- Events. Columns are ordered so that no alignment padding is needed (id and pubkey are
-- 33 bytes on disk each, then a 4-byte kind, then the 8-byte created_at).
-- tags, content and sig are NULL in lilbrotr (it keeps tagvalues only); bigbrotr makes them
-- NOT NULL in its own init file.
-- tagvalues: the values (second element) of the single-letter tags, for NIP-01 tag filters;
-- values longer than 2048 bytes are left out (they stay in tags) so that no GIN entry can
-- exceed the index row limit. Computed by event_batch_rows() inside insert_event_batch.
CREATE TABLE IF NOT EXISTS events (
	id         bytea PRIMARY KEY CHECK (octet_length(id) = 32),
	pubkey     bytea NOT NULL CHECK (octet_length(pubkey) = 32),
	kind       integer NOT NULL,
	created_at bigint NOT NULL,
	tags       jsonb,
	tagvalues  text[] NOT NULL,
	content    text,
	sig        bytea CHECK (octet_length(sig) = 64)
);
-- events_pkey: insert_event_batch ON CONFLICT (deduplication); relay_last_event_timestamp
-- (join from events_relays); delete_orphan_events (delete by id).
CREATE INDEX IF NOT EXISTS events_tagvalues_idx ON events USING gin (tagvalues);
-- events_tagvalues_idx: tag filters (`WHERE tagvalues @> ARRAY[...]`, NIP-01 #e/#p/#t...)
-- run by analysts through brotr_reader and by any read API over the archive.

-- Which relay served which event, and when brotr first saw it there.
CREATE TABLE IF NOT EXISTS events_relays (
	event_id  bytea NOT NULL,
	relay_url text NOT NULL,
	seen_at   bigint NOT NULL,
	PRIMARY KEY (event_id, relay_url)
);
-- events_relays_pkey: insert_event_batch ON CONFLICT (seen_at stays the first sighting);
-- delete_orphan_events (NOT EXISTS by event_id, the leading column).

-- NIP-11 relay information documents, deduplicated by id = sha256 of the canonical JSON
-- document (computed by the caller). Unknown top-level keys are kept in extra_fields.
CREATE TABLE IF NOT EXISTS nip11 (
	id               bytea PRIMARY KEY CHECK (octet_length(id) = 32),
	name             text,
	description      text,
	banner           text,
	icon             text,
	pubkey           text,
	contact          text,
	supported_nips   jsonb,
	software         text,
	version          text,
	privacy_policy   text,
	terms_of_service text,
	limitation       jsonb,
	extra_fields     jsonb
);
-- nip11_pkey: insert_relay_metadata_batch ON CONFLICT; relay_metadata_latest (join).

-- NIP-66 check results, deduplicated the same way. writable NULL: not tested. RTTs in ms.
-- extra holds the other keys of the document (for example why a relay was not readable).
CREATE TABLE IF NOT EXISTS nip66 (
	id        bytea PRIMARY KEY CHECK (octet_length(id) = 32),
	openable  boolean,
	readable  boolean,
	writable  boolean,
	rtt_open  integer,
	rtt_read  integer,
	rtt_write integer,
	extra     jsonb
);
-- nip66_pkey: insert_relay_metadata_batch ON CONFLICT; relay_metadata_latest (join).

-- What the TLS handshake of a wss relay showed, deduplicated the same way (id = sha256 of the
-- canonical JSON document the monitor built from the handshake). The certificate is the one the
-- server presented, whether or not it verified: verified says whether a client checking the
-- chain against the system's CAs (plus [network] ca_file) and the relay's host name accepts
-- it, verify_error why not. not_before and not_after are Unix seconds; fingerprint the SHA-256
-- of the DER certificate as `openssl x509 -fingerprint -sha256` prints it. sans: "DNS:name" or
-- "IP:address". extra holds other keys of the document (sans_omitted).
CREATE TABLE IF NOT EXISTS relay_tls (
	id           bytea PRIMARY KEY CHECK (octet_length(id) = 32),
	version      text,
	cipher       text,
	subject      text,
	issuer       text,
	sans         text[],
	not_before   bigint,
	not_after    bigint,
	fingerprint  text,
	verified     boolean,
	verify_error text,
	extra        jsonb
);
-- relay_tls_pkey: insert_relay_metadata_batch ON CONFLICT; relay_tls_latest (join).

-- One snapshot per relay per monitor pass, failures included. nip11_ok with no nip11_id: the
-- relay served a document PostgreSQL could not hold (insert_relay_metadata_batch refused it);
-- the snapshot is kept without it.
CREATE TABLE IF NOT EXISTS relay_metadata (
	relay_url     text NOT NULL REFERENCES relays (url),
	generated_at  bigint NOT NULL,
	connection_ok boolean NOT NULL,
	nip11_ok      boolean NOT NULL,
	nip11_id      bytea REFERENCES nip11 (id),
	nip66_id      bytea REFERENCES nip66 (id),
	PRIMARY KEY (relay_url, generated_at)
);
-- The TLS facts of the pass's websocket attempt (NULL: ws://, or no certificate was seen).
ALTER TABLE relay_metadata ADD COLUMN IF NOT EXISTS tls_id bytea REFERENCES relay_tls (id);
-- relay_metadata_pkey: the latest snapshot of a relay (ORDER BY generated_at DESC LIMIT 1 per
-- relay) in relay_metadata_latest, readable_relays and relays_due_for_monitoring.

-- NIP-45 as the synchronizer saw it: whether a COUNT it sent the relay was answered with COUNT
-- (true) or refused with CLOSED (false), and when. It asks only about seconds that fill a relay's
-- cap, so most relays have no row (never asked). Read by the monitor for its NIP-66 events (N 45).
CREATE TABLE IF NOT EXISTS relay_nip45 (
	relay_url   text PRIMARY KEY REFERENCES relays (url),
	supported   boolean NOT NULL,
	observed_at bigint NOT NULL
);
-- relay_nip45_pkey: set_relay_nip45's upsert; relays_due_for_monitoring (join).

-- Durable synchronizer progress. Every event of the relay with created_at <= synced_until that
-- matches the filter it was earned for is committed in events/events_relays (NULL: nothing yet);
-- so is every event in [complete_from, top] of each of its relay_sync_windows. Progress moves in
-- the same statement (so the same transaction) as the events that justify it
-- (insert_event_batch), so an interrupted pass redoes at most what it had not committed.
-- coverage: what the progress was earned for, the hex sha256 the synchronizer computes over its
-- effective filter and since (sync_engine.c, "coverage"). Progress is read only under the same
-- coverage; a write under another coverage replaces it (the walk starts again from since), so
-- widening the filter or lowering since fetches the older events it now asks for. NULL (rows
-- from before the column existed): earned for an unknown filter, so never reused.
CREATE TABLE IF NOT EXISTS relay_sync_progress (
	relay_url    text PRIMARY KEY REFERENCES relays (url),
	synced_until bigint,
	updated_at   bigint NOT NULL,
	coverage     text
);
-- Databases made before coverage existed (`brotr db init` applies this file again).
ALTER TABLE relay_sync_progress ADD COLUMN IF NOT EXISTS coverage text;
-- relay_sync_progress_pkey: the upsert in insert_event_batch/set_relay_sync_progress and the
-- synchronizer's read of one relay's progress.

-- The windows of a relay's range above synced_until that the synchronizer walks at the same time,
-- each backwards from its top (sync_relay.c). Every event of the relay in [complete_from, top]
-- is committed: complete_from = since means the window is whole, top + 1 that none of it is yet.
-- A window's since may rise when the synchronizer hands the lower part of it to a new window, in
-- the same statement that records the new one. Windows whose top is at or below synced_until
-- are merged into it and deleted. They belong to the progress row's coverage: a write under
-- another coverage deletes them.
CREATE TABLE IF NOT EXISTS relay_sync_windows (
	relay_url     text NOT NULL REFERENCES relay_sync_progress (relay_url),
	top           bigint NOT NULL,
	since         bigint NOT NULL,
	complete_from bigint NOT NULL,
	PRIMARY KEY (relay_url, top),
	CHECK (since <= complete_from AND complete_from <= top + 1)
);
-- relay_sync_windows_pkey: the window upsert in set_relay_sync_progress and the read of one
-- relay's windows (db_sync_progress_get), both by relay_url.

-- Databases made before windows existed kept one walk in relay_sync_progress (walk_top, walk_from):
-- it becomes a window from just above synced_until, and the columns go.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM information_schema.columns
	           WHERE table_schema = current_schema() AND table_name = 'relay_sync_progress'
	             AND column_name = 'walk_top') THEN
		INSERT INTO relay_sync_windows (relay_url, top, since, complete_from)
		SELECT relay_url, walk_top, least(coalesce(synced_until + 1, 0), walk_from), walk_from
		FROM relay_sync_progress
		WHERE walk_top IS NOT NULL AND walk_top > coalesce(synced_until, -1)
		ON CONFLICT DO NOTHING;
		ALTER TABLE relay_sync_progress DROP COLUMN walk_top, DROP COLUMN walk_from;
	END IF;
END
$$;
