-- 80_views.sql — the views, common to bigbrotr and lilbrotr.

-- The latest snapshot of every relay that has one, with its NIP-11 and NIP-66 data.
-- One index probe per relay on relay_metadata_pkey (relay_url, generated_at).
CREATE OR REPLACE VIEW relay_metadata_latest AS
SELECT r.url AS relay_url, r.network, m.generated_at, m.connection_ok, m.nip11_ok,
	m.nip11_id, n11.name, n11.description, n11.banner, n11.icon, n11.pubkey, n11.contact,
	n11.supported_nips, n11.software, n11.version, n11.privacy_policy, n11.terms_of_service,
	n11.limitation, n11.extra_fields,
	m.nip66_id, n66.openable, n66.readable, n66.writable, n66.rtt_open, n66.rtt_read, n66.rtt_write,
	n66.extra AS nip66_extra
FROM relays r
JOIN LATERAL (SELECT rm.* FROM relay_metadata rm
              WHERE rm.relay_url = r.url
              ORDER BY rm.generated_at DESC LIMIT 1) AS m ON true
LEFT JOIN nip11 n11 ON n11.id = m.nip11_id
LEFT JOIN nip66 n66 ON n66.id = m.nip66_id;

-- The certificate of every wss relay whose latest snapshot has TLS facts, with the days left
-- before it expires (negative: expired; computed at query time). An operator's or a client's
-- question "which relays' certificates expire within a week, or do not verify" is
--   SELECT relay_url, days_left, verify_error FROM relay_tls_latest
--   WHERE days_left < 7 OR NOT verified ORDER BY days_left;
CREATE OR REPLACE VIEW relay_tls_latest AS
SELECT m.relay_url, r.network, m.generated_at, m.tls_id, t.version, t.cipher, t.subject, t.issuer, t.sans,
	t.not_before, t.not_after, t.fingerprint, t.verified, t.verify_error,
	floor((t.not_after - extract(epoch FROM now())) / 86400)::integer AS days_left
FROM relays r
JOIN LATERAL (SELECT rm.* FROM relay_metadata rm
              WHERE rm.relay_url = r.url
              ORDER BY rm.generated_at DESC LIMIT 1) AS m ON true
JOIN relay_tls t ON t.id = m.tls_id;

-- Relays whose latest snapshot says readable (what the synchronizer works through). No order:
-- a view's order is no contract, so its reader orders (db_readable_relays: fastest rtt_read first).
-- max_subscriptions: what NIP-11 says of subscriptions per connection (NULL: nothing usable); the
-- synchronizer walks at most one fewer windows at once (one left for its COUNTs).
CREATE OR REPLACE VIEW readable_relays AS
SELECT relay_url, network, rtt_read, generated_at AS checked_at,
	jsonb_member_int(limitation, 'max_subscriptions') AS max_subscriptions
FROM relay_metadata_latest
WHERE readable;

-- Every relay in events_relays with the highest created_at among the events it served.
-- An analyst's view: it reads every association (the synchronizer's durable position is
-- relay_sync_progress, which this view confirms once the events are committed).
CREATE OR REPLACE VIEW relay_last_event_timestamp AS
SELECT er.relay_url, max(e.created_at) AS last_event_created_at
FROM events_relays er
JOIN events e ON e.id = er.event_id
GROUP BY er.relay_url;
