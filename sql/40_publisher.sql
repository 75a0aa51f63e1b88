-- 40_publisher.sql — what the monitor published (NIP-66): one row per event it keeps current, so a
-- pass republishes only what changed or what is about to expire. Common to bigbrotr and lilbrotr;
-- included after 30_discovery.sql by every implementation's 00_schema.sql.

-- key: the relay URL for a kind 30166 event (its d tag), or 'kind:10166', 'kind:0', 'kind:10002'
-- for the monitor's own events. facts: the sha256 the monitor computed over what it observed (for
-- 30166: every tag but the RTTs and the expiration, and the content; publisher_event.c), so equal
-- facts are not published again. expires_at: the NIP-40 expiration of the event published (for
-- the monitor's own events, when it is announced again). A row is written only once at least one
-- publish relay accepted the event (OK true).
CREATE TABLE IF NOT EXISTS monitor_publications (
	key          text PRIMARY KEY CHECK (octet_length(key) BETWEEN 1 AND 2048),
	kind         integer NOT NULL,
	facts        bytea NOT NULL CHECK (octet_length(facts) = 32),
	event_id     bytea NOT NULL CHECK (octet_length(event_id) = 32),
	published_at bigint NOT NULL,
	expires_at   bigint NOT NULL
);
-- monitor_publications_pkey: the monitor's read (key = ANY) and publisher_record_batch's upsert.

-- Records the events the publish relays accepted, one row per key (the last of a key in array
-- order counts). Returns how many rows were written.
CREATE OR REPLACE FUNCTION publisher_record_batch(p_keys text[], p_kinds integer[], p_facts text[],
	p_event_ids text[], p_published_at bigint, p_expires_at bigint[], OUT recorded integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
	INSERT INTO monitor_publications AS p (key, kind, facts, event_id, published_at, expires_at)
	SELECT DISTINCT ON (r.key) r.key, r.kind, decode(r.facts, 'hex'), decode(r.event_id, 'hex'), p_published_at,
		r.expires_at
	FROM unnest(p_keys, p_kinds, p_facts, p_event_ids, p_expires_at) WITH ORDINALITY
		AS r(key, kind, facts, event_id, expires_at, ord)
	WHERE r.key IS NOT NULL AND r.facts IS NOT NULL AND r.event_id IS NOT NULL
	ORDER BY r.key, r.ord DESC
	ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, facts = excluded.facts, event_id = excluded.event_id,
		published_at = excluded.published_at, expires_at = excluded.expires_at;
	GET DIAGNOSTICS recorded = ROW_COUNT;
END
$$;
