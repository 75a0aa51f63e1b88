-- 20_functions.sql — the procedures the services call, common to bigbrotr and lilbrotr.
--
-- What differs between implementations is only how events are stored: each one defines
-- store_events (implementations/*/config/postgres/init/10_*.sql, the contract below), which
-- insert_event_batch calls.
--
-- Conventions:
--   * Each write procedure has a batch form taking arrays (one statement, so one round trip and
--     one transaction) and a single form that calls it. They return counts.
--   * Writes are idempotent: ON CONFLICT DO NOTHING everywhere, progress only moves forward.
--     Re-running a batch whose outcome was lost with the connection is always safe.
--   * Rows are inserted in key order, so concurrent batches lock keys in the same order and
--     cannot deadlock on each other.
--   * Write procedures are SECURITY DEFINER (they run as brotr_owner) with a fixed search_path:
--     brotr_writer can call them without holding INSERT, UPDATE or DELETE on any table.
--   * Binary values (ids, keys, signatures, hashes) are passed as lower-case hex text.

-- The rows of an event batch as the events table holds them, one per array position: ids, keys
-- and signatures decoded from hex, and tagvalues: the values of the single-letter tags
-- (["e", "<id>", ...] gives "<id>") for the GIN index. Values over 2048 bytes are skipped: a GIN
-- entry cannot exceed ~2.7 kB, and no tag filter asks for such a value; they remain in tags
-- (bigbrotr). One call per batch: the tagvalues expression sits in this one query instead of a
-- function called per row (each such call starts an executor: it cost 20% of the insert).
-- Used by every implementation's store_events (lilbrotr keeps only some of the columns); not
-- granted to anyone. It replaces tags_to_tagvalues(jsonb), dropped from older databases.
DROP FUNCTION IF EXISTS tags_to_tagvalues(jsonb);
CREATE OR REPLACE FUNCTION event_batch_rows(p_ids text[], p_pubkeys text[], p_created_at bigint[],
	p_kinds integer[], p_tags jsonb[], p_contents text[], p_sigs text[])
RETURNS TABLE (id bytea, pubkey bytea, kind integer, created_at bigint, tags jsonb, tagvalues text[],
	content text, sig bytea)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT decode(e.id, 'hex'), decode(e.pubkey, 'hex'), e.kind, e.created_at, e.tags,
		ARRAY(SELECT t ->> 1
		      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e.tags) = 'array' THEN e.tags ELSE '[]' END) AS t
		      WHERE jsonb_typeof(t) = 'array' AND length(t ->> 0) = 1 AND octet_length(t ->> 1) <= 2048),
		e.content, decode(e.sig, 'hex')
	FROM unnest(p_ids, p_pubkeys, p_created_at, p_kinds, p_tags, p_contents, p_sigs)
		AS e(id, pubkey, created_at, kind, tags, content, sig)
$$;

-- An integer or boolean member of a JSON document, or NULL when absent or of another type.
CREATE OR REPLACE FUNCTION jsonb_member_int(p_doc jsonb, p_key text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT CASE WHEN jsonb_typeof(p_doc) = 'object' AND jsonb_typeof(p_doc -> p_key) = 'number'
	             AND (p_doc ->> p_key)::numeric BETWEEN -2147483648 AND 2147483647
	       THEN round((p_doc ->> p_key)::numeric)::integer END
$$;

CREATE OR REPLACE FUNCTION jsonb_member_bool(p_doc jsonb, p_key text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT CASE WHEN jsonb_typeof(p_doc) = 'object' AND jsonb_typeof(p_doc -> p_key) = 'boolean'
	       THEN (p_doc -> p_key)::boolean END
$$;

-- Records a relay's synchronizer progress (creating the relay if unknown) and returns it.
--   p_coverage: what the progress covers (see relay_sync_progress.coverage). Progress stored
--   under another coverage (or none) is replaced, not merged: it proves nothing about this one.
--   p_synced_until: everything up to it is archived; it never moves back; NULL leaves it.
--   p_window_tops, p_window_sinces, p_window_froms: windows of relay_sync_windows, by top. A
--   window's complete_from only moves down; its since is what the caller gives. NULL: none.
-- Afterwards windows at or below synced_until are deleted (merged into it). Returns synced_until
-- and walk_from: the lowest complete_from of the windows still unfinished (NULL: none).
-- Replaced by the form with windows.
DROP FUNCTION IF EXISTS set_relay_sync_progress(text, text, bigint, bigint, bigint);
DROP FUNCTION IF EXISTS set_relay_sync_progress(text, text, text, bigint, bigint, bigint);
CREATE OR REPLACE FUNCTION set_relay_sync_progress(p_relay_url text, p_network text, p_coverage text,
	p_synced_until bigint, p_window_tops bigint[], p_window_sinces bigint[], p_window_froms bigint[],
	OUT synced_until bigint, OUT walk_from bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
	IF p_coverage IS NULL THEN
		RAISE EXCEPTION 'set_relay_sync_progress: p_coverage is required' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	INSERT INTO relays AS r (url, network, inserted_at)
	VALUES (p_relay_url, p_network, extract(epoch FROM now())::bigint)
	ON CONFLICT (url) DO NOTHING;
	-- Windows earned under another coverage prove nothing about this one.
	DELETE FROM relay_sync_windows w
	USING relay_sync_progress p
	WHERE w.relay_url = p_relay_url AND p.relay_url = p_relay_url AND p.coverage IS DISTINCT FROM p_coverage;
	INSERT INTO relay_sync_progress AS p (relay_url, synced_until, updated_at, coverage)
	VALUES (p_relay_url, p_synced_until, extract(epoch FROM now())::bigint, p_coverage)
	ON CONFLICT (relay_url) DO UPDATE
		SET synced_until = CASE WHEN p.coverage = excluded.coverage
		                        THEN greatest(p.synced_until, excluded.synced_until)
		                        ELSE excluded.synced_until END,
		    updated_at = excluded.updated_at,
		    coverage = excluded.coverage
	RETURNING p.synced_until INTO synced_until;
	INSERT INTO relay_sync_windows AS w (relay_url, top, since, complete_from)
	SELECT p_relay_url, n.top, n.since, n.complete_from
	FROM unnest(p_window_tops, p_window_sinces, p_window_froms) AS n(top, since, complete_from)
	ORDER BY n.top
	ON CONFLICT (relay_url, top) DO UPDATE
		SET since = excluded.since,
		    complete_from = least(w.complete_from, excluded.complete_from);
	DELETE FROM relay_sync_windows w
	WHERE w.relay_url = p_relay_url AND w.top <= synced_until;
	SELECT min(w.complete_from) INTO walk_from
	FROM relay_sync_windows w
	WHERE w.relay_url = p_relay_url AND w.complete_from > w.since;
END
$$;

-- Events as a synchronizer stores them, with the relay it read them from, in one statement: all
-- or nothing. Every event not yet stored is inserted by the implementation's
--   store_events(p_ids text[], p_pubkeys text[], p_created_at bigint[], p_kinds integer[],
--                p_tags jsonb[], p_contents text[], p_sigs text[]) RETURNS integer
-- (how many it inserted; rows from event_batch_rows, in id order, ON CONFLICT DO NOTHING); the
-- others count as duplicates (already stored, or twice in the batch). Then the relay if unknown,
-- each (event, relay) association not yet known with seen_at (so the first sighting is kept),
-- and, when p_synced_until or windows are given, the progress under p_coverage (see
-- set_relay_sync_progress).
-- Replaced by the form with windows.
DROP FUNCTION IF EXISTS insert_event_batch(text, text, bigint, text[], text[], bigint[], integer[], jsonb[], text[],
	text[], bigint, bigint, bigint);
DROP FUNCTION IF EXISTS insert_event_batch(text, text, bigint, text[], text[], bigint[], integer[], jsonb[], text[],
	text[], text, bigint, bigint, bigint);
CREATE OR REPLACE FUNCTION insert_event_batch(p_relay_url text, p_network text, p_seen_at bigint,
	p_ids text[], p_pubkeys text[], p_created_at bigint[], p_kinds integer[],
	p_tags jsonb[], p_contents text[], p_sigs text[],
	p_coverage text, p_synced_until bigint, p_window_tops bigint[], p_window_sinces bigint[],
	p_window_froms bigint[],
	OUT inserted integer, OUT duplicates integer, OUT associated integer,
	OUT synced_until bigint, OUT walk_from bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
	inserted := store_events(p_ids, p_pubkeys, p_created_at, p_kinds, p_tags, p_contents, p_sigs);
	duplicates := coalesce(cardinality(p_ids), 0) - inserted;
	INSERT INTO relays (url, network, inserted_at)
	VALUES (p_relay_url, p_network, p_seen_at)
	ON CONFLICT (url) DO NOTHING;
	INSERT INTO events_relays (event_id, relay_url, seen_at)
	SELECT decode(e.id, 'hex'), p_relay_url, p_seen_at
	FROM unnest(p_ids) AS e(id)
	ORDER BY decode(e.id, 'hex')
	ON CONFLICT (event_id, relay_url) DO NOTHING;
	GET DIAGNOSTICS associated = ROW_COUNT;
	IF p_synced_until IS NOT NULL OR p_window_tops IS NOT NULL THEN
		SELECT p.synced_until, p.walk_from INTO synced_until, walk_from
		FROM set_relay_sync_progress(p_relay_url => p_relay_url, p_network => p_network,
			p_coverage => p_coverage, p_synced_until => p_synced_until, p_window_tops => p_window_tops,
			p_window_sinces => p_window_sinces, p_window_froms => p_window_froms) AS p;
	END IF;
END
$$;
-- Which of a batch's events the archive already holds with the same signature: the ids (hex) of
-- p_ids whose row has the signature at the same position of p_sigs. The synchronizer checks only
-- the id of those (the id commits to pubkey, time, kind, tags and content; the signature, over the
-- id, was verified when the row was stored). lilbrotr stores no signature: nothing matches, and
-- every event is verified.
CREATE OR REPLACE FUNCTION events_stored(p_ids text[], p_sigs text[]) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
	SELECT k.id
	FROM unnest(p_ids, p_sigs) AS k(id, sig)
	JOIN events e ON e.id = decode(k.id, 'hex') AND e.sig = decode(k.sig, 'hex')
$$;

-- Replaced by insert_event_batch above (it was the implementations' shared tail).
DROP FUNCTION IF EXISTS record_relay_events(text, text, bigint, text[], bigint, bigint, bigint);


-- Relays. Rows with an empty or over-long URL (over 2048 bytes) or an unknown network are
-- rejected and counted; the others are inserted or counted as already known.
CREATE OR REPLACE FUNCTION insert_relay_batch(p_urls text[], p_networks text[], p_inserted_at bigint,
	OUT inserted integer, OUT duplicates integer, OUT rejected integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
	v_valid integer;
BEGIN
	SELECT count(*) INTO v_valid
	FROM unnest(p_urls, p_networks) AS u(url, network)
	WHERE octet_length(u.url) BETWEEN 1 AND 2048 AND u.network IN ('clearnet', 'tor');
	INSERT INTO relays (url, network, inserted_at)
	SELECT u.url, u.network, p_inserted_at
	FROM unnest(p_urls, p_networks) AS u(url, network)
	WHERE octet_length(u.url) BETWEEN 1 AND 2048 AND u.network IN ('clearnet', 'tor')
	ORDER BY u.url
	ON CONFLICT (url) DO NOTHING;
	GET DIAGNOSTICS inserted = ROW_COUNT;
	duplicates := v_valid - inserted;
	rejected := coalesce(cardinality(p_urls), 0) - v_valid;
END
$$;

CREATE OR REPLACE FUNCTION insert_relay(p_url text, p_network text, p_inserted_at bigint,
	OUT inserted integer, OUT duplicates integer, OUT rejected integer)
LANGUAGE sql
AS $$
	SELECT * FROM insert_relay_batch(ARRAY[p_url], ARRAY[p_network], p_inserted_at)
$$;

-- The single form of insert_event_batch.
CREATE OR REPLACE FUNCTION insert_event(p_relay_url text, p_network text, p_seen_at bigint,
	p_id text, p_pubkey text, p_created_at bigint, p_kind integer, p_tags jsonb, p_content text,
	p_sig text,
	OUT inserted integer, OUT duplicates integer, OUT associated integer)
LANGUAGE plpgsql
AS $$
BEGIN
	SELECT b.inserted, b.duplicates, b.associated
	INTO inserted, duplicates, associated
	FROM insert_event_batch(p_relay_url => p_relay_url, p_network => p_network, p_seen_at => p_seen_at,
		p_ids => ARRAY[p_id], p_pubkeys => ARRAY[p_pubkey], p_created_at => ARRAY[p_created_at],
		p_kinds => ARRAY[p_kind], p_tags => ARRAY[p_tags], p_contents => ARRAY[p_content],
		p_sigs => ARRAY[p_sig], p_coverage => NULL, p_synced_until => NULL, p_window_tops => NULL,
		p_window_sinces => NULL, p_window_froms => NULL) AS b;
END
$$;

-- Monitor snapshots. NIP-11 and NIP-66 documents arrive as canonical JSON with their id (the
-- sha256 the caller computed over that JSON); identical documents share one row. A snapshot
-- row is rejected (and counted) when its relay URL or network is invalid.
--   NIP-11: the known top-level keys go to their columns, the rest to extra_fields.
--   NIP-66: openable, readable, writable (booleans), rtt_open, rtt_read, rtt_write (integer
--           milliseconds) go to their columns, the rest to extra.
--   TLS:    version, cipher, subject, issuer, sans (array of strings), not_before, not_after,
--           sha256 (to fingerprint), verified, verify_error go to relay_tls, the rest to extra.
-- The functions before the TLS arrays existed (one argument list shorter) are dropped first:
-- CREATE OR REPLACE cannot change a function's arguments.
DROP FUNCTION IF EXISTS insert_relay_metadata(text, text, bigint, boolean, boolean, text, jsonb, text, jsonb);
DROP FUNCTION IF EXISTS insert_relay_metadata_batch(text[], text[], bigint[], boolean[], boolean[], text[], jsonb[],
	text[], jsonb[]);
CREATE OR REPLACE FUNCTION insert_relay_metadata_batch(
	p_relay_urls text[], p_networks text[], p_generated_at bigint[], p_connection_ok boolean[],
	p_nip11_ok boolean[], p_nip11_ids text[], p_nip11_docs jsonb[], p_nip66_ids text[], p_nip66_docs jsonb[],
	p_tls_ids text[] DEFAULT NULL, p_tls_docs jsonb[] DEFAULT NULL,
	OUT inserted integer, OUT duplicates integer, OUT rejected integer,
	OUT nip11_inserted integer, OUT nip66_inserted integer, OUT tls_inserted integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
	v_valid integer;
BEGIN
	SELECT count(*) INTO v_valid
	FROM unnest(p_relay_urls, p_networks, p_generated_at) AS m(url, network, generated_at)
	WHERE octet_length(m.url) BETWEEN 1 AND 2048 AND m.network IN ('clearnet', 'tor')
	  AND m.generated_at IS NOT NULL;

	INSERT INTO relays (url, network, inserted_at)
	SELECT DISTINCT ON (m.url) m.url, m.network, m.generated_at
	FROM unnest(p_relay_urls, p_networks, p_generated_at) AS m(url, network, generated_at)
	WHERE octet_length(m.url) BETWEEN 1 AND 2048 AND m.network IN ('clearnet', 'tor')
	  AND m.generated_at IS NOT NULL
	ORDER BY m.url
	ON CONFLICT (url) DO NOTHING;

	INSERT INTO nip11 (id, name, description, banner, icon, pubkey, contact, supported_nips,
		software, version, privacy_policy, terms_of_service, limitation, extra_fields)
	SELECT DISTINCT ON (d.id) decode(d.id, 'hex'), d.doc ->> 'name', d.doc ->> 'description',
		d.doc ->> 'banner', d.doc ->> 'icon', d.doc ->> 'pubkey', d.doc ->> 'contact',
		d.doc -> 'supported_nips', d.doc ->> 'software', d.doc ->> 'version',
		d.doc ->> 'privacy_policy', d.doc ->> 'terms_of_service', d.doc -> 'limitation',
		CASE WHEN jsonb_typeof(d.doc) = 'object'
		     THEN nullif(d.doc - ARRAY['name', 'description', 'banner', 'icon', 'pubkey', 'contact',
				'supported_nips', 'software', 'version', 'privacy_policy', 'terms_of_service',
				'limitation'], '{}')
		     ELSE d.doc END
	FROM unnest(p_nip11_ids, p_nip11_docs) AS d(id, doc)
	WHERE d.id IS NOT NULL AND d.doc IS NOT NULL
	ORDER BY d.id
	ON CONFLICT (id) DO NOTHING;
	GET DIAGNOSTICS nip11_inserted = ROW_COUNT;

	INSERT INTO nip66 (id, openable, readable, writable, rtt_open, rtt_read, rtt_write, extra)
	SELECT DISTINCT ON (d.id) decode(d.id, 'hex'), jsonb_member_bool(d.doc, 'openable'),
		jsonb_member_bool(d.doc, 'readable'), jsonb_member_bool(d.doc, 'writable'),
		jsonb_member_int(d.doc, 'rtt_open'), jsonb_member_int(d.doc, 'rtt_read'),
		jsonb_member_int(d.doc, 'rtt_write'),
		CASE WHEN jsonb_typeof(d.doc) = 'object'
		     THEN nullif(d.doc - ARRAY['openable', 'readable', 'writable', 'rtt_open', 'rtt_read',
				'rtt_write'], '{}')
		     ELSE d.doc END
	FROM unnest(p_nip66_ids, p_nip66_docs) AS d(id, doc)
	WHERE d.id IS NOT NULL AND d.doc IS NOT NULL
	ORDER BY d.id
	ON CONFLICT (id) DO NOTHING;
	GET DIAGNOSTICS nip66_inserted = ROW_COUNT;

	INSERT INTO relay_tls (id, version, cipher, subject, issuer, sans, not_before, not_after, fingerprint,
		verified, verify_error, extra)
	SELECT DISTINCT ON (d.id) decode(d.id, 'hex'), d.doc ->> 'version', d.doc ->> 'cipher',
		d.doc ->> 'subject', d.doc ->> 'issuer',
		CASE WHEN jsonb_typeof(d.doc -> 'sans') = 'array'
		     THEN ARRAY(SELECT jsonb_array_elements_text(d.doc -> 'sans')) END,
		jsonb_member_int(d.doc, 'not_before'), jsonb_member_int(d.doc, 'not_after'), d.doc ->> 'sha256',
		jsonb_member_bool(d.doc, 'verified'), d.doc ->> 'verify_error',
		CASE WHEN jsonb_typeof(d.doc) = 'object'
		     THEN nullif(d.doc - ARRAY['version', 'cipher', 'subject', 'issuer', 'sans', 'not_before',
				'not_after', 'sha256', 'verified', 'verify_error'], '{}')
		     ELSE d.doc END
	FROM unnest(p_tls_ids, p_tls_docs) AS d(id, doc)
	WHERE d.id IS NOT NULL AND d.doc IS NOT NULL
	ORDER BY d.id
	ON CONFLICT (id) DO NOTHING;
	GET DIAGNOSTICS tls_inserted = ROW_COUNT;

	INSERT INTO relay_metadata (relay_url, generated_at, connection_ok, nip11_ok, nip11_id, nip66_id, tls_id)
	SELECT m.url, m.generated_at, coalesce(m.connection_ok, false), coalesce(m.nip11_ok, false),
		decode(m.nip11_id, 'hex'), decode(m.nip66_id, 'hex'), decode(m.tls_id, 'hex')
	FROM unnest(p_relay_urls, p_networks, p_generated_at, p_connection_ok, p_nip11_ok, p_nip11_ids,
		p_nip66_ids, p_tls_ids) AS m(url, network, generated_at, connection_ok, nip11_ok, nip11_id, nip66_id,
		tls_id)
	WHERE octet_length(m.url) BETWEEN 1 AND 2048 AND m.network IN ('clearnet', 'tor')
	  AND m.generated_at IS NOT NULL
	ORDER BY m.url, m.generated_at
	ON CONFLICT (relay_url, generated_at) DO NOTHING;
	GET DIAGNOSTICS inserted = ROW_COUNT;

	duplicates := v_valid - inserted;
	rejected := coalesce(cardinality(p_relay_urls), 0) - v_valid;
END
$$;

CREATE OR REPLACE FUNCTION insert_relay_metadata(p_relay_url text, p_network text, p_generated_at bigint,
	p_connection_ok boolean, p_nip11_ok boolean, p_nip11_id text, p_nip11_doc jsonb, p_nip66_id text,
	p_nip66_doc jsonb, p_tls_id text DEFAULT NULL, p_tls_doc jsonb DEFAULT NULL,
	OUT inserted integer, OUT duplicates integer, OUT rejected integer,
	OUT nip11_inserted integer, OUT nip66_inserted integer, OUT tls_inserted integer)
LANGUAGE sql
AS $$
	SELECT * FROM insert_relay_metadata_batch(p_relay_urls => ARRAY[p_relay_url], p_networks => ARRAY[p_network],
		p_generated_at => ARRAY[p_generated_at], p_connection_ok => ARRAY[p_connection_ok],
		p_nip11_ok => ARRAY[p_nip11_ok], p_nip11_ids => ARRAY[p_nip11_id], p_nip11_docs => ARRAY[p_nip11_doc],
		p_nip66_ids => ARRAY[p_nip66_id], p_nip66_docs => ARRAY[p_nip66_doc], p_tls_ids => ARRAY[p_tls_id],
		p_tls_docs => ARRAY[p_tls_doc])
$$;

-- Deletes up to p_limit events that no relay association refers to any more (after an
-- operator removed associations). Candidates are found without blocking anyone; then a SHARE
-- lock on events_relays (it waits for in-flight batches and holds new ones back for the
-- duration of the delete by key) guarantees that no association is added to a deleted event.
CREATE OR REPLACE FUNCTION delete_orphan_events(p_limit integer, OUT deleted integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
	v_ids bytea[];
BEGIN
	SELECT array_agg(e.id) INTO v_ids
	FROM (SELECT id FROM events
	      WHERE NOT EXISTS (SELECT 1 FROM events_relays er WHERE er.event_id = events.id)
	      LIMIT greatest(p_limit, 0)) AS e;
	deleted := 0;
	IF v_ids IS NULL THEN
		RETURN;
	END IF;
	LOCK TABLE events_relays IN SHARE MODE;
	DELETE FROM events e
	WHERE e.id = ANY (v_ids)
	  AND NOT EXISTS (SELECT 1 FROM events_relays er WHERE er.event_id = e.id);
	GET DIAGNOSTICS deleted = ROW_COUNT;
END
$$;

-- The monitor's work list: relays never checked or whose latest snapshot is older than
-- p_checked_before, in URL order after p_after (keyset paging), at most p_limit of them.
-- nip45: what the synchronizer saw of the relay's NIP-45 (relay_nip45; NULL: never asked).
-- The version without nip45 is dropped first (a function's result columns cannot change in place).
DROP FUNCTION IF EXISTS relays_due_for_monitoring(bigint, text, integer);
CREATE FUNCTION relays_due_for_monitoring(p_checked_before bigint, p_after text, p_limit integer)
RETURNS TABLE (url text, network text, checked_at bigint, nip45 boolean)
LANGUAGE sql STABLE
AS $$
	SELECT r.url, r.network, m.generated_at, n.supported
	FROM relays r
	LEFT JOIN LATERAL (SELECT rm.generated_at FROM relay_metadata rm
	                   WHERE rm.relay_url = r.url
	                   ORDER BY rm.generated_at DESC LIMIT 1) AS m ON true
	LEFT JOIN relay_nip45 n ON n.relay_url = r.url
	WHERE r.url > coalesce(p_after, '')
	  AND (m.generated_at IS NULL OR m.generated_at < p_checked_before)
	ORDER BY r.url
	LIMIT greatest(p_limit, 0)
$$;

-- Records what the synchronizer saw of a relay's NIP-45 (the latest observation counts). Returns
-- whether a row was written (false: not a known relay).
CREATE OR REPLACE FUNCTION set_relay_nip45(p_relay_url text, p_supported boolean, p_observed_at bigint,
	OUT recorded boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
	INSERT INTO relay_nip45 (relay_url, supported, observed_at)
	SELECT r.url, p_supported, p_observed_at FROM relays r WHERE r.url = p_relay_url
	ON CONFLICT (relay_url) DO UPDATE SET supported = excluded.supported, observed_at = excluded.observed_at;
	recorded := FOUND;
END
$$;

-- Records the schema version, the implementation and the checksum `brotr db init` put in
-- brotr.checksum. Refuses to turn one implementation's database into the other's.
CREATE OR REPLACE PROCEDURE brotr_record_schema(p_variant text)
LANGUAGE plpgsql
AS $$
DECLARE
	v_old text;
BEGIN
	SELECT variant INTO v_old FROM brotr_schema;
	IF v_old IS NOT NULL AND v_old <> p_variant THEN
		RAISE EXCEPTION 'database % holds a % schema; it cannot become %', current_database(), v_old, p_variant;
	END IF;
	INSERT INTO brotr_schema AS s (version, variant, checksum)
	VALUES (3, p_variant, coalesce(current_setting('brotr.checksum', true), ''))
	ON CONFLICT (singleton) DO UPDATE
		SET version = excluded.version, variant = excluded.variant, checksum = excluded.checksum,
		    applied_at = now();
END
$$;

-- brotr_ensure_login was a function owned by brotr_owner that `brotr db init` ran as the
-- administrator: a member of brotr_owner could redefine it and so act as a superuser. db init now
-- sends those statements itself (pgc/dbinit.pgc); the function is gone.
DROP FUNCTION IF EXISTS brotr_ensure_login(text, text);
