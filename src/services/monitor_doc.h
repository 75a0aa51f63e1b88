/* monitor_doc.h — a relay check's outcome as the stored NIP-66 document (canonical JSON + sha256), and the monitor's pure rules. */
#ifndef BROTR_SERVICES_MONITOR_DOC_H
#define BROTR_SERVICES_MONITOR_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "net/tls.h"
#include "nostr/nip66.h"
#include "services/publisher_event.h"

/* Longest reason kept (bytes, UTF-8, cut on a character boundary). */
#define MONITOR_REASON_MAX 200

/* Why one step failed: a short category (metric label, machine-readable) and a reason for people. */
struct monitor_fail {
	char error[24];                    /* "" when the step did not fail */
	char reason[MONITOR_REASON_MAX + 1];
};

/*
 * Everything a check learnt about one relay. A value is present only when its step ran:
 *   - openable always; rtt_open when it opened;
 *   - readable once the REQ was sent (true: EVENT or EOSE answered it), rtt_read when true;
 *   - writable once the test EVENT was sent (true: OK true), rtt_write when true.
 * A failed or skipped step keeps its category and reason (open, read, write, nip11), all of which
 * go to the document's extra keys. Nothing that changes from one check to the next without the
 * relay changing (times of day, challenges, event ids) belongs here, so identical outcomes give
 * identical documents and share one row.
 */
struct monitor_outcome {
	struct nip66_result r;
	struct monitor_fail open, read, write, nip11;
	/* NIP-42 as observed, once the websocket opened: auth is "not-asked", "no-key", "accepted" or
	 * "refused" ("" when not observed); auth_required when a CLOSED or OK false said
	 * auth-required:; auth_reason the refusal (the relay's message) or why no answer was sent. */
	char auth[12];
	int auth_required;
	char auth_reason[MONITOR_REASON_MAX + 1];
	/* NIP-77 as probed: NIP66_ABSENT (not probed), 0 or 1; when 0, the category and reason. */
	int nip77;
	struct monitor_fail nip77_fail;
	unsigned pow;      /* NIP-13 difficulty mined for the write test; 0: none */
};

void monitor_outcome_init(struct monitor_outcome *o);

/* Sets f's category and reason; the reason is made storable (see monitor_text). */
void monitor_fail_set(struct monitor_fail *f, const char *error, const char *reason);

/*
 * Copies s[0..len) into out (n bytes, always NUL-terminated) as text safe to store and log:
 * invalid UTF-8, U+0000 and other control characters become '?', and it is cut at a character
 * boundary to fit.
 */
void monitor_text(char *out, size_t n, const char *s, size_t len);

/*
 * The NIP-66 document of o, canonical (keys sorted, no whitespace; json_canonical), appended to
 * json, and id = sha256 of exactly those bytes. Keys: openable, readable, writable, rtt_open,
 * rtt_read, rtt_write, and the extras open_error, open_reason, read_error, read_reason,
 * write_error, write_reason, nip11_error, nip11_reason, auth, auth_required, auth_reason, nip77,
 * nip77_error, nip77_reason, pow (each only when set).
 * Returns 0, or -1 when out of memory or o holds an out-of-range value.
 */
int monitor_doc_build(const struct monitor_outcome *o, struct buf *json, unsigned char id[32]);

/*
 * The TLS facts of a wss check (net/tls.h) as the stored document (table relay_tls), canonical
 * like the NIP-66 one, appended to json, and id = sha256 of those bytes. Keys: version, cipher,
 * subject, issuer, sans (array of "DNS:..." / "IP:..."), not_before, not_after (Unix seconds),
 * sha256 (the certificate's fingerprint), verified, and verify_error and sans_omitted when set.
 * Nothing in it changes between checks unless the relay's certificate or verdict does.
 * Returns 0, or -1 when out of memory.
 */
int monitor_tls_doc_build(const struct net_tls_facts *f, struct buf *json, unsigned char id[32]);

/* Whole days from now_s (Unix seconds) until the certificate's not_after; negative once expired. */
int64_t monitor_tls_days_left(const struct net_tls_facts *f, int64_t now_s);

/*
 * What a check of a relay whose websocket opened says to NIP-66 consumers (f: pub_relay_facts_init
 * first). Only what was observed: rtt-* as measured; N 11 when the NIP-11 document was served, 42
 * when our AUTH was accepted, 45 when nip45 is 1 (the synchronizer's COUNT was answered), 77 when
 * the NIP-77 probe was answered; R "auth" when a request was
 * refused with auth-required:, "!auth" when the relay was read without being asked to; "!writes" and
 * "!payment" when the write test's event was accepted ("pow" too when it had to be mined), "writes"
 * when it was refused as blocked or restricted, "payment" when the refusal speaks of payment, "pow"
 * when it was refused for proof of work; t the NIP-11 document's topics; k the write test's kind
 * when accepted; content the NIP-11 document (borrowed from nip11_json).
 */
void monitor_pub_facts(const struct monitor_outcome *o, int nip45, const char *nip11_json, size_t nip11_len,
		       int64_t write_kind, struct pub_relay_facts *f);

/*
 * The machine-readable prefix of an OK or CLOSED message (NIP-01, NIP-42): "auth-required",
 * "blocked", "duplicate", "error", "invalid", "mute", "pow", "rate-limited", "restricted",
 * "unsupported"; fallback when the message has none of them.
 */
const char *monitor_msg_prefix(const char *msg, size_t len, const char *fallback);

/*
 * The checked_before bound for db_relays_due: a relay is due when its latest snapshot was taken
 * at least interval minus a tenth of it before start (Unix ms), so a pass that a timer starts a
 * little early still finds the relays of the previous pass. Snapshots carry their pass's start
 * time, so with --loop every relay is checked once per interval. Returns Unix seconds.
 */
int64_t monitor_checked_before(int64_t start_ms, long long interval_ms);

#endif
