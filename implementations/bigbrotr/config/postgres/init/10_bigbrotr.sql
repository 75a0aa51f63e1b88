-- 10_bigbrotr.sql — what bigbrotr does differently: it keeps every event whole.

-- tags, content and sig are always stored.
ALTER TABLE events ALTER COLUMN tags SET NOT NULL;
ALTER TABLE events ALTER COLUMN content SET NOT NULL;
ALTER TABLE events ALTER COLUMN sig SET NOT NULL;

-- The events of a batch, whole (see insert_event_batch in sql/20_functions.sql for the contract).
CREATE OR REPLACE FUNCTION store_events(p_ids text[], p_pubkeys text[], p_created_at bigint[],
	p_kinds integer[], p_tags jsonb[], p_contents text[], p_sigs text[]) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
	v_inserted integer;
BEGIN
	INSERT INTO events (id, pubkey, kind, created_at, tags, tagvalues, content, sig)
	SELECT r.id, r.pubkey, r.kind, r.created_at, r.tags, r.tagvalues, r.content, r.sig
	FROM event_batch_rows(p_ids, p_pubkeys, p_created_at, p_kinds, p_tags, p_contents, p_sigs) AS r
	ORDER BY r.id
	ON CONFLICT (id) DO NOTHING;
	GET DIAGNOSTICS v_inserted = ROW_COUNT;
	RETURN v_inserted;
END
$$;

CALL brotr_record_schema('bigbrotr');
