-- 30_discovery.sql — relay discovery: the finder's queue of archived events to read, the relay
-- candidates it finds, and the procedures of the finder and the validator. Common to bigbrotr
-- and lilbrotr; included after 20_functions.sql by every implementation's 00_schema.sql.
--
-- Why a queue and not a cursor over events: no column of events orders them by arrival. The
-- synchronizer archives backwards in time, so a created_at cursor would skip what arrives late,
-- and a sequence cursor skips a transaction that took its number first and committed last.
-- A statement trigger puts the id of every newly stored event that can name a relay into
-- finder_queue, in the transaction that stores it; the finder deletes exactly the rows it read
-- in the transaction that stores the candidates they produced. So every such event is read
-- once, a pass interrupted anywhere resumes where the last commit left it, and nothing is
-- skipped. The cost on the archiving path is one transition table per insert statement and
-- one 40-byte row per event that qualifies.

-- The events the finder has not read yet, in arrival order.
CREATE TABLE IF NOT EXISTS finder_queue (
	seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id bytea NOT NULL CHECK (octet_length(event_id) = 32)
);
-- finder_queue_pkey: the finder's read (WHERE seq > $after ORDER BY seq LIMIT $n, from
-- finder_pending_events) and finder_commit_batch's delete (seq = ANY).

-- Which events can name a relay, as stored (lilbrotr keeps neither tags nor content, only
-- tagvalues: the values of single-letter tags, so only kind 10002 `r` and kind 30166 `d` remain):
--   kind 2 (content: a relay URL), kind 3 (content: {"<relay URL>": {...}}), kind 10002 (`r`),
--   NIP-51 lists with `relay` tags (10006 blocked, 10007 search, 10012 favourites, 10050 DM,
--   30002 relay sets), kind 30166 (NIP-66: `d` is the relay), and any event with a relay hint
--   (third element of an `e`, `p`, `a` or `q` tag starting with ws).
CREATE OR REPLACE FUNCTION finder_event_qualifies(p_kind integer, p_tags jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN p_tags IS NULL THEN p_kind IN (10002, 30166)
	            ELSE p_kind IN (2, 3, 10002, 10006, 10007, 10012, 10050, 30002, 30166)
	                 OR jsonb_path_exists(p_tags,
	                        'strict $[*] ? (@[0] == "e" || @[0] == "p" || @[0] == "a" || @[0] == "q")'
	                        ' ? (@[2] like_regex "^\\s*[wW][sS]")', '{}', true)
	       END
$$;

CREATE OR REPLACE FUNCTION finder_enqueue_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
	INSERT INTO finder_queue (event_id)
	SELECT n.id FROM new_events n
	WHERE finder_event_qualifies(n.kind, n.tags)
	ORDER BY n.id;
	RETURN NULL;
END
$$;

-- The first time: the trigger, and the events archived before it (one pass over events).
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgname = 'events_finder_queue' AND tgrelid = 'events'::regclass) THEN
		INSERT INTO finder_queue (event_id)
		SELECT e.id FROM events e WHERE finder_event_qualifies(e.kind, e.tags) ORDER BY e.id;
		CREATE TRIGGER events_finder_queue AFTER INSERT ON events
			REFERENCING NEW TABLE AS new_events
			FOR EACH STATEMENT EXECUTE FUNCTION finder_enqueue_events();
	END IF;
END
$$;

-- Relay candidates: URLs found but not yet shown to be relays. url is normalised (the finder
-- ran it through the relay URL normaliser) and not in relays. Where it was first found:
-- source (how: 'r-tag', 'relay-tag', 'contacts', 'recommend', 'hint', 'nip66', 'http') and
-- source_event (the event) or source_url (the HTTP source). failures counts failed validations;
-- next_attempt is when the validator may try it again (Unix s); last_error says why it failed.
CREATE TABLE IF NOT EXISTS relay_candidates (
	url          text PRIMARY KEY CHECK (octet_length(url) BETWEEN 1 AND 2048),
	network      text NOT NULL CHECK (network IN ('clearnet', 'tor')),
	source       text NOT NULL CHECK (source IN ('r-tag', 'relay-tag', 'contacts', 'recommend', 'hint',
	                                            'nip66', 'http')),
	source_event bytea CHECK (octet_length(source_event) = 32),
	source_url   text,
	first_seen   bigint NOT NULL,
	failures     integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
	next_attempt bigint NOT NULL,
	last_error   text,
	CHECK ((source_event IS NULL) <> (source_url IS NULL))
);
-- relay_candidates_pkey: finder_commit_batch ON CONFLICT; validator_record_batch (update and
-- delete by url).
CREATE INDEX IF NOT EXISTS relay_candidates_due_idx ON relay_candidates (next_attempt, url);
-- relay_candidates_due_idx: the validator's work list (WHERE next_attempt <= $now ORDER BY
-- next_attempt, url LIMIT $n, in pgc/discovery.pgc).

-- What the finder reads: queued events with what they store. A queued event deleted since
-- (delete_orphan_events) comes with kind NULL, so the finder consumes its queue row too.
CREATE OR REPLACE VIEW finder_pending_events AS
SELECT q.seq, q.event_id, e.kind, e.tags, e.content, e.tagvalues
FROM finder_queue q
LEFT JOIN events e ON e.id = q.event_id;

-- One batch of the finder: the candidates found in queued events p_seqs (or, with p_seqs
-- empty, at an HTTP source), and the removal of those queue rows, in one transaction.
-- Candidate arrays are parallel; p_source_events (hex) or p_source_urls is NULL per row. A URL
-- already a relay or already a candidate is counted known; the first sighting in the batch
-- (array order) is the one kept.
CREATE OR REPLACE FUNCTION finder_commit_batch(p_seqs bigint[], p_urls text[], p_networks text[],
	p_sources text[], p_source_events text[], p_source_urls text[], p_seen_at bigint,
	OUT inserted integer, OUT known integer, OUT events_done integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
	INSERT INTO relay_candidates (url, network, source, source_event, source_url, first_seen, next_attempt)
	SELECT c.url, c.network, c.source, decode(c.ev, 'hex'), c.src, p_seen_at, p_seen_at
	FROM (SELECT DISTINCT ON (u.url) u.url, u.network, u.source, u.ev, u.src
	      FROM unnest(p_urls, p_networks, p_sources, p_source_events, p_source_urls)
	           WITH ORDINALITY AS u(url, network, source, ev, src, ord)
	      WHERE octet_length(u.url) BETWEEN 1 AND 2048
	      ORDER BY u.url, u.ord) AS c
	WHERE NOT EXISTS (SELECT 1 FROM relays r WHERE r.url = c.url)
	ORDER BY c.url
	ON CONFLICT (url) DO NOTHING;
	GET DIAGNOSTICS inserted = ROW_COUNT;
	known := (SELECT count(DISTINCT u) FROM unnest(p_urls) AS u) - inserted;
	DELETE FROM finder_queue WHERE seq = ANY (p_seqs);
	GET DIAGNOSTICS events_done = ROW_COUNT;
END
$$;

-- The validator's outcomes, in one transaction. A valid candidate becomes a relay (inserted_at
-- p_now) and stops being a candidate. A failed one keeps p_errors as last_error, counts one more
-- failure and waits p_retry_base * 2^(failures - 1) (at most p_retry_max) before its next
-- attempt; it is dropped once it has failed p_max_failures times or was first seen more than
-- p_max_age seconds ago. Counts: promoted, failed (kept for a retry), dropped.
CREATE OR REPLACE FUNCTION validator_record_batch(p_urls text[], p_valid boolean[], p_errors text[],
	p_now bigint, p_retry_base bigint, p_retry_max bigint, p_max_failures integer, p_max_age bigint,
	OUT promoted integer, OUT failed integer, OUT dropped integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
	INSERT INTO relays (url, network, inserted_at)
	SELECT c.url, c.network, p_now
	FROM relay_candidates c
	JOIN unnest(p_urls, p_valid) AS v(url, ok) ON v.url = c.url AND v.ok
	ORDER BY c.url
	ON CONFLICT (url) DO NOTHING;
	DELETE FROM relay_candidates c
	USING unnest(p_urls, p_valid) AS v(url, ok)
	WHERE v.url = c.url AND v.ok;
	GET DIAGNOSTICS promoted = ROW_COUNT;
	DELETE FROM relay_candidates c
	USING unnest(p_urls, p_valid) AS v(url, ok)
	WHERE v.url = c.url AND NOT v.ok
	  AND (c.failures + 1 >= p_max_failures OR c.first_seen < p_now - p_max_age);
	GET DIAGNOSTICS dropped = ROW_COUNT;
	UPDATE relay_candidates c
	SET failures = c.failures + 1, last_error = left(v.err, 1024),
	    next_attempt = p_now + least(p_retry_max, p_retry_base * power(2, least(c.failures, 40))::bigint)
	FROM unnest(p_urls, p_valid, p_errors) AS v(url, ok, err)
	WHERE v.url = c.url AND NOT v.ok;
	GET DIAGNOSTICS failed = ROW_COUNT;
END
$$;

-- HTTP sources ([finder] sources): when each was last fetched, when it may be fetched again, what
-- it gave. The finder reads next_fetch by url (finder_sources_pkey) before fetching.
CREATE TABLE IF NOT EXISTS finder_sources (
	url        text PRIMARY KEY CHECK (octet_length(url) BETWEEN 1 AND 2048),
	fetched_at bigint NOT NULL,
	next_fetch bigint NOT NULL,
	urls       integer NOT NULL,
	last_error text
);

-- One fetch of an HTTP source: its candidates (first sighting kept, known ones counted) and its
-- cool-down, in one transaction. p_error is NULL when the fetch succeeded.
CREATE OR REPLACE FUNCTION finder_commit_source(p_source_url text, p_error text, p_next_fetch bigint,
	p_urls text[], p_networks text[], p_seen_at bigint, OUT inserted integer, OUT known integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
	SELECT c.inserted, c.known INTO inserted, known
	FROM finder_commit_batch(p_seqs => '{}', p_urls => p_urls, p_networks => p_networks,
		p_sources => array_fill('http'::text, ARRAY[coalesce(cardinality(p_urls), 0)]),
		p_source_events => array_fill(NULL::text, ARRAY[coalesce(cardinality(p_urls), 0)]),
		p_source_urls => array_fill(p_source_url, ARRAY[coalesce(cardinality(p_urls), 0)]),
		p_seen_at => p_seen_at) AS c;
	INSERT INTO finder_sources AS s (url, fetched_at, next_fetch, urls, last_error)
	VALUES (p_source_url, p_seen_at, p_next_fetch, coalesce(cardinality(p_urls), 0), left(p_error, 1024))
	ON CONFLICT (url) DO UPDATE
		SET fetched_at = excluded.fetched_at, next_fetch = excluded.next_fetch, urls = excluded.urls,
		    last_error = excluded.last_error;
END
$$;
