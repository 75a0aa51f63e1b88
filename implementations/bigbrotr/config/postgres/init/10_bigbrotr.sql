-- 10_bigbrotr.sql — what bigbrotr does differently: it keeps every event whole.

-- tags, content and sig are always stored.
ALTER TABLE events ALTER COLUMN tags SET NOT NULL;
ALTER TABLE events ALTER COLUMN content SET NOT NULL;
ALTER TABLE events ALTER COLUMN sig SET NOT NULL;

-- See sql/20_functions.sql for the contract. One statement: relay, events, associations and
-- progress commit together or not at all.
CREATE OR REPLACE FUNCTION insert_event_batch(p_relay_url text, p_network text, p_seen_at bigint,
	p_ids text[], p_pubkeys text[], p_created_at bigint[], p_kinds integer[],
	p_tags jsonb[], p_contents text[], p_sigs text[], p_synced_until bigint,
	OUT inserted integer, OUT duplicates integer, OUT associated integer, OUT synced_until bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
	INSERT INTO relays (url, network, inserted_at)
	VALUES (p_relay_url, p_network, p_seen_at)
	ON CONFLICT (url) DO NOTHING;
	WITH ins AS (
		INSERT INTO events (id, pubkey, kind, created_at, tags, tagvalues, content, sig)
		SELECT decode(e.id, 'hex'), decode(e.pubkey, 'hex'), e.kind, e.created_at, e.tags,
			tags_to_tagvalues(e.tags), e.content, decode(e.sig, 'hex')
		FROM unnest(p_ids, p_pubkeys, p_created_at, p_kinds, p_tags, p_contents, p_sigs)
			AS e(id, pubkey, created_at, kind, tags, content, sig)
		ORDER BY e.id
		ON CONFLICT (id) DO NOTHING
		RETURNING 1)
	SELECT count(*) INTO inserted FROM ins;
	WITH ins AS (
		INSERT INTO events_relays (event_id, relay_url, seen_at)
		SELECT decode(e.id, 'hex'), p_relay_url, p_seen_at
		FROM unnest(p_ids) AS e(id)
		ORDER BY e.id
		ON CONFLICT (event_id, relay_url) DO NOTHING
		RETURNING 1)
	SELECT count(*) INTO associated FROM ins;
	duplicates := coalesce(cardinality(p_ids), 0) - inserted;
	IF p_synced_until IS NOT NULL THEN
		SELECT p.synced_until INTO synced_until
		FROM set_relay_sync_progress(p_relay_url, p_network, p_synced_until) AS p;
	END IF;
END
$$;

CALL brotr_record_schema('bigbrotr');
