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

-- The events of a batch without tags, content or signature (see insert_event_batch in
-- sql/20_functions.sql for the contract); p_contents and p_sigs are ignored (the client may send
-- NULL for them), p_tags only feed tagvalues.
CREATE OR REPLACE FUNCTION store_events(p_ids text[], p_pubkeys text[], p_created_at bigint[],
	p_kinds integer[], p_tags jsonb[], p_contents text[], p_sigs text[]) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
	v_inserted integer;
BEGIN
	INSERT INTO events (id, pubkey, kind, created_at, tagvalues)
	SELECT r.id, r.pubkey, r.kind, r.created_at, r.tagvalues
	FROM event_batch_rows(p_ids, p_pubkeys, p_created_at, p_kinds, p_tags, NULL, NULL) AS r
	ORDER BY r.id
	ON CONFLICT (id) DO NOTHING;
	GET DIAGNOSTICS v_inserted = ROW_COUNT;
	RETURN v_inserted;
END
$$;

CALL brotr_record_schema('lilbrotr');
