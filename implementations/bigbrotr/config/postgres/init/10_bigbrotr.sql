-- 10_bigbrotr.sql — what bigbrotr does differently: it keeps every event whole.

-- tags, content and sig are always stored.
ALTER TABLE events ALTER COLUMN tags SET NOT NULL;
ALTER TABLE events ALTER COLUMN content SET NOT NULL;
ALTER TABLE events ALTER COLUMN sig SET NOT NULL;

-- See sql/20_functions.sql for the contract. One statement: events, relay, associations and
-- progress commit together or not at all.
CREATE OR REPLACE FUNCTION insert_event_batch(p_relay_url text, p_network text, p_seen_at bigint,
	p_ids text[], p_pubkeys text[], p_created_at bigint[], p_kinds integer[],
	p_tags jsonb[], p_contents text[], p_sigs text[],
	p_synced_until bigint, p_walk_top bigint, p_walk_from bigint,
	OUT inserted integer, OUT duplicates integer, OUT associated integer,
	OUT synced_until bigint, OUT walk_top bigint, OUT walk_from bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
	INSERT INTO events (id, pubkey, kind, created_at, tags, tagvalues, content, sig)
	SELECT r.id, r.pubkey, r.kind, r.created_at, r.tags, r.tagvalues, r.content, r.sig
	FROM event_batch_rows(p_ids, p_pubkeys, p_created_at, p_kinds, p_tags, p_contents, p_sigs) AS r
	ORDER BY r.id
	ON CONFLICT (id) DO NOTHING;
	GET DIAGNOSTICS inserted = ROW_COUNT;
	duplicates := coalesce(cardinality(p_ids), 0) - inserted;
	SELECT r.associated, r.synced_until, r.walk_top, r.walk_from
	INTO associated, synced_until, walk_top, walk_from
	FROM record_relay_events(p_relay_url, p_network, p_seen_at, p_ids,
		p_synced_until, p_walk_top, p_walk_from) AS r;
END
$$;

CALL brotr_record_schema('bigbrotr');
