-- 90_grants.sql — privileges, applied last (after the implementation's own procedures).
--
-- brotr_writer: EXECUTE on the procedures and read functions, SELECT on what the services
-- read. No INSERT, UPDATE, DELETE or TRUNCATE on any table (the SECURITY DEFINER procedures
-- write), no CREATE anywhere. brotr_reader: SELECT on every table and view, the read functions.

REVOKE ALL ON brotr_schema, relays, events, events_relays, nip11, nip66, relay_metadata,
	relay_sync_progress, relay_sync_windows, relay_metadata_latest, readable_relays, relay_last_event_timestamp,
	relay_tls, relay_tls_latest, relay_nip45
	FROM PUBLIC, brotr_writer, brotr_reader;

GRANT SELECT ON brotr_schema, relays, nip11, nip66, relay_metadata, relay_sync_progress, relay_sync_windows,
	relay_metadata_latest, readable_relays, relay_last_event_timestamp, relay_tls, relay_tls_latest,
	relay_nip45
	TO brotr_writer;

GRANT SELECT ON brotr_schema, relays, events, events_relays, nip11, nip66, relay_metadata,
	relay_sync_progress, relay_sync_windows, relay_metadata_latest, readable_relays, relay_last_event_timestamp,
	relay_tls, relay_tls_latest, relay_nip45
	TO brotr_reader;

GRANT EXECUTE ON FUNCTION
	insert_event(text, text, bigint, text, text, bigint, integer, jsonb, text, text),
	insert_event_batch(text, text, bigint, text[], text[], bigint[], integer[], jsonb[], text[], text[], text,
		bigint, bigint[], bigint[], bigint[]),
	insert_relay(text, text, bigint),
	insert_relay_batch(text[], text[], bigint),
	insert_relay_metadata(text, text, bigint, boolean, boolean, text, jsonb, text, jsonb, text, jsonb),
	insert_relay_metadata_batch(text[], text[], bigint[], boolean[], boolean[], text[], jsonb[], text[], jsonb[],
		text[], jsonb[]),
	set_relay_sync_progress(text, text, text, bigint, bigint[], bigint[], bigint[]),
	set_relay_nip45(text, boolean, bigint),
	events_stored(text[], text[])
	TO brotr_writer;

-- Maintenance, for the administrator only: no service deletes events, so the services' role may
-- not (a role that can only add to the archive cannot be made to empty it). Databases made
-- before this rule granted it: take it back.
REVOKE EXECUTE ON FUNCTION delete_orphan_events(integer) FROM PUBLIC, brotr_writer, brotr_reader;

GRANT EXECUTE ON FUNCTION
	relays_due_for_monitoring(bigint, text, integer),
	jsonb_member_int(jsonb, text),
	jsonb_member_bool(jsonb, text)
	TO brotr_writer, brotr_reader;

-- Discovery (30_discovery.sql): the finder reads its queue through finder_pending_events and
-- writes through finder_commit_batch; the validator reads relay_candidates and writes through
-- validator_record_batch. The trigger function runs as its owner; nobody calls it.
REVOKE ALL ON finder_queue, relay_candidates, finder_pending_events FROM PUBLIC, brotr_writer, brotr_reader;
GRANT SELECT ON relay_candidates, finder_pending_events TO brotr_writer;
GRANT SELECT ON finder_queue, relay_candidates, finder_pending_events TO brotr_reader;
GRANT EXECUTE ON FUNCTION
	finder_commit_batch(bigint[], text[], text[], text[], text[], text[], bigint),
	validator_record_batch(text[], boolean[], text[], bigint, bigint, bigint, integer, bigint)
	TO brotr_writer;
GRANT EXECUTE ON FUNCTION finder_event_qualifies(integer, jsonb) TO brotr_writer, brotr_reader;
REVOKE ALL ON finder_sources FROM PUBLIC, brotr_writer, brotr_reader;
GRANT SELECT ON finder_sources TO brotr_writer, brotr_reader;
GRANT EXECUTE ON FUNCTION finder_commit_source(text, text, bigint, text[], text[], bigint) TO brotr_writer;

-- The monitor's publications (sql/40_publisher.sql).
REVOKE ALL ON monitor_publications FROM PUBLIC, brotr_writer, brotr_reader;
GRANT SELECT ON monitor_publications TO brotr_writer, brotr_reader;
GRANT EXECUTE ON FUNCTION publisher_record_batch(text[], integer[], text[], text[], bigint, bigint[]) TO brotr_writer;
