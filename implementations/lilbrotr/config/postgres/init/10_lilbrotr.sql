-- 10_lilbrotr.sql — what lilbrotr does differently: events keep no tags, content or
-- signature (tagvalues, computed from the tags on the way in, are kept for tag filters).

DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_constraint
	               WHERE conrelid = 'events'::regclass AND conname = 'events_lilbrotr_light') THEN
		ALTER TABLE events ADD CONSTRAINT events_lilbrotr_light
			CHECK (tags IS NULL AND content IS NULL AND sig IS NULL);
	END IF;
END
$$;

-- Same signature and contract as bigbrotr's (sql/20_functions.sql); p_contents and p_sigs are
-- ignored (the client may send NULL for them), p_tags only feed tagvalues.
CREATE OR REPLACE FUNCTION insert_event_batch(p_relay_url text, p_network text, p_seen_at bigint,
	p_ids text[], p_pubkeys text[], p_created_at bigint[], p_kinds integer[],
	p_tags jsonb[], p_contents text[], p_sigs text[],
	p_synced_until bigint, p_walk_top bigint, p_walk_from bigint,
	OUT inserted integer, OUT duplicates integer, OUT associated integer,
	OUT synced_until bigint, OUT walk_top bigint, OUT walk_from bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
	INSERT INTO events (id, pubkey, kind, created_at, tagvalues)
	SELECT r.id, r.pubkey, r.kind, r.created_at, r.tagvalues
	FROM event_batch_rows(p_ids, p_pubkeys, p_created_at, p_kinds, p_tags, NULL, NULL) AS r
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

CALL brotr_record_schema('lilbrotr');
