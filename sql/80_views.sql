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

-- Relays whose latest snapshot says readable (what the synchronizer works through). No order:
-- a view's order is no contract, so its reader orders (db_readable_relays: fastest rtt_read first).
CREATE OR REPLACE VIEW readable_relays AS
SELECT relay_url, network, rtt_read, generated_at AS checked_at
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
