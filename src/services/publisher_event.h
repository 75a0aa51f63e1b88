/* publisher_event.h — the NIP-66 events the monitor publishes (kind 30166 per relay, the 10166 announcement, kinds 0 and 10002), built from what was observed, and the hash that decides whether to publish again. */
#ifndef BROTR_SERVICES_PUBLISHER_EVENT_H
#define BROTR_SERVICES_PUBLISHER_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "nostr/err.h"
#include "nostr/event.h"
#include "nostr/relay_url.h"

#define PUB_NIPS_MAX 8
#define PUB_REQS_MAX 8
#define PUB_TOPICS_MAX 16
#define PUB_TOPIC_MAX 64          /* longest NIP-11 topic published (bytes); longer ones are left out */
#define PUB_CONTENT_MAX 16384     /* a NIP-11 document larger than this is published without content */

/*
 * What one check observed of a relay whose websocket opened: the source of its kind 30166 event.
 * Strings are NUL-terminated; nips ascending; reqs point at static strings ("auth", "!auth", ...).
 */
struct pub_relay_facts {
	char url[RELAY_URL_MAX + 1];  /* normalised: the d tag */
	const char *network;          /* "clearnet" or "tor" */
	int64_t rtt_open, rtt_read, rtt_write; /* milliseconds; -1: not measured */
	int nips[PUB_NIPS_MAX];
	size_t n_nips;
	const char *reqs[PUB_REQS_MAX];
	size_t n_reqs;
	char topics[PUB_TOPICS_MAX][PUB_TOPIC_MAX + 1]; /* t: the NIP-11 document's "tags" */
	size_t n_topics;
	int64_t kind_accepted;        /* k: the write test's kind, when the relay took it; -1: none */
	const char *content;          /* the NIP-11 document (canonical JSON), borrowed; NULL: none */
	size_t content_len;
};

/* Empty facts for url on network (rtts and kind_accepted -1). */
void pub_relay_facts_init(struct pub_relay_facts *f, const char *url, const char *network);

/* Reads the "tags" array of a NIP-11 document (canonical JSON) into f->topics: strings of at most
 * PUB_TOPIC_MAX bytes without control characters, the first PUB_TOPICS_MAX. Anything else is skipped. */
void pub_relay_facts_topics(struct pub_relay_facts *f, const char *nip11_json, size_t len);

/*
 * The kind 30166 event of f, unsigned, into ev: tags d, n, rtt-open/read/write (when measured), N
 * per NIP, R per requirement, t per topic, k, and ["expiration", expiration] (NIP-40); content the
 * NIP-11 document when at most PUB_CONTENT_MAX bytes, else "". hash (may be NULL) gets the sha256 of
 * what decides republishing: every tag but the RTTs and the expiration, and the content.
 * Returns 0, or -1 with *err.
 */
int pub_event_relay(struct nostr_event *ev, const struct pub_relay_facts *f, int64_t created_at,
		    int64_t expiration, unsigned char hash[32], struct nostr_err *err);

/* The monitor's announcement (kind 10166). checks and networks are lists of static strings. */
struct pub_monitor_facts {
	int64_t frequency_s;          /* [monitor] interval */
	const char *timeout_checks[4]; /* "open", "read", "write", "nip11" */
	int64_t timeout_ms[4];
	size_t n_timeouts;
	const char *checks[8];        /* c: "open", "read", "write", "nip11", "auth", "nip77", "ssl" */
	size_t n_checks;
	const char *networks[2];      /* n */
	size_t n_networks;
};

/* Kind 10166, unsigned, into ev: ["frequency", s], ["timeout", check, ms] per check, c and n tags,
 * empty content. hash (may be NULL) gets the sha256 of its tags. Returns 0, or -1 with *err. */
int pub_event_monitor(struct nostr_event *ev, const struct pub_monitor_facts *m, int64_t created_at,
		      unsigned char hash[32], struct nostr_err *err);

/* Kind 0 with content profile (a JSON object), or kind 10002 with an ["r", url] tag per relay
 * (relays[0..n)), unsigned, into ev; hash as above. Returns 0, or -1 with *err. */
int pub_event_profile(struct nostr_event *ev, const char *profile, int64_t created_at, unsigned char hash[32],
		      struct nostr_err *err);
int pub_event_relay_list(struct nostr_event *ev, const char *const *relays, size_t n, int64_t created_at,
			 unsigned char hash[32], struct nostr_err *err);

#endif
