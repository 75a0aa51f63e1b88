/* monitor_probe.h — one relay's check over the network: the NIP-11 fetch beside the websocket's open, read and write steps. */
#ifndef BROTR_SERVICES_MONITOR_PROBE_H
#define BROTR_SERVICES_MONITOR_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "core/metrics.h"
#include "net/net.h"
#include "net/relay.h"
#include "nostr/json.h"
#include "nostr/message.h"
#include "nostr/relay_url.h"
#include "services/auth.h"
#include "services/monitor_doc.h"
#include "services/monitor_signer.h"
#include "services/monitor_store.h"

/*
 * A check runs two things at once, each queued behind its network's max_connections:
 *   - the NIP-11 fetch (net/nip11.h), parsed into canonical JSON and its hash;
 *   - a websocket: open (rtt_open, bounded by the network's connect, TLS and upgrade timeouts),
 *     then read: ["REQ",<sub>,{"limit":1}] answered by EVENT or EOSE (rtt_read), or refused
 *     with CLOSED (its machine-readable prefix and message kept, auth-required among them),
 *     then write (when [monitor] write_test): an event of [monitor] write_kind, NIP-13 mined
 *     when the NIP-11 document's limitation.min_pow_difficulty is above 0 and at most
 *     [monitor] max_pow (above it, write is not tested and the reason says so); OK true means
 *     writable (rtt_write), OK false keeps the relay's prefix and message;
 *   - then (when [monitor] nip77_test) NIP-77: ["NEG-OPEN",<sub>,{"kinds":[20166]},<empty set>]
 *     answered by NEG-MSG in protocol v1 means supported (NEG-CLOSE follows); NEG-ERR, CLOSED,
 *     a NOTICE or silence until the response timeout means not, the reason kept.
 * NIP-42: an AUTH challenge is answered with a kind-22242 event when [auth] gives a key. A read
 * or write refused with auth-required: waits for that exchange (within a fresh response timeout)
 * and is asked once more when the OK is true; rtt_read and rtt_write then count from the second
 * request. What was seen (not asked, no key, accepted, refused and why, required) goes to the
 * document.
 * The write step needs the NIP-11 answer (for its difficulty), so after the read the websocket
 * waits for it when it is not in yet; the event is built on the signer's thread.
 * Read and write each have their own deadline: the network's response_timeout from the moment
 * their message is sent, enforced here (monitor_probe_tick). The net layer's expect_reply is
 * not used: any message (an AUTH challenge, a NOTICE) would satisfy it, and two clocks racing
 * would make the stored reason depend on which one fired first. The websocket has no idle
 * timeout for the same reason: every wait is bounded by a step deadline, the NIP-11 fetch's
 * own timeouts, or the signer.
 */

/* What every probe of a pass shares. Used from the event loop's thread only. */
struct monitor_env {
	struct net *net;
	struct monitor_signer *signer;  /* NULL: no write test */
	const struct auth_identity *auth; /* answers AUTH challenges when usable; may be NULL */
	int auth_disabled;              /* [auth] enabled is false (for the reason stored) */
	int nip77_test;                 /* [monitor] nip77_test */
	unsigned max_pow;
	long long response_timeout_ms[NET_NETWORKS];
	struct logger log;
	struct metrics *metrics;        /* may be NULL */
	/* parsing scratch, reused by every message */
	struct json_doc doc;
	struct nostr_msg msg;
	struct nostr_event ev;
	struct buf out;                 /* messages built here (AUTH, NEG-OPEN, NEG-CLOSE) */
};

void monitor_env_init(struct monitor_env *e);
void monitor_env_free(struct monitor_env *e);

enum monitor_step { STEP_OPEN, STEP_READ, STEP_WAIT, STEP_WRITE, STEP_NIP77, STEP_DONE };

struct monitor_probe {
	char url[RELAY_URL_MAX + 1];
	enum net_network nw;
	struct monitor_env *env;
	enum monitor_step step;     /* STEP_WAIT: for the NIP-11 answer, or for the signer */
	struct relay_conn *conn;    /* NULL once its on_close has run */
	int conn_done, nip11_done, signing;
	uint64_t sent_at, deadline; /* the read or write under way: when its message went, its deadline */
	unsigned char event_id[32]; /* the write test's */
	char *write_msg;            /* its ["EVENT",...], kept to send again after AUTH */
	size_t write_len;
	struct auth_session auth;
	int auth_wait;              /* the step under way was refused with auth-required: it waits
	                             * for the AUTH exchange (bounded by the step deadline) */
	unsigned auth_retried;      /* bit per step: already asked again after AUTH */
	struct monitor_outcome out;
	/* the NIP-11 document, when nip11_ok */
	int nip11_ok;
	char *nip11_json;
	size_t nip11_len;
	unsigned char nip11_id[32];
	int64_t min_pow;            /* limitation.min_pow_difficulty, 0 when absent */
	struct net_tls_facts *tls;  /* wss: what the handshake showed (also when refused); NULL: none */
	int nip45;                  /* NIP-45 as the synchronizer saw it (1, 0, -1 unknown); set by the caller */
	/* The check could not run for a reason of ours (a local limit, out of memory): no snapshot,
	 * the relay stays due. */
	int local_failure;
};

/* Starts the NIP-11 fetch and the websocket for url over network nw. Every outcome, even a
 * failure to start, arrives through the probe's state: poll monitor_probe_finished. */
void monitor_probe_start(struct monitor_probe *p, struct monitor_env *env, const char *url, enum net_network nw);

/* Applies the step deadline at now (mono_ms). */
void monitor_probe_tick(struct monitor_probe *p, uint64_t now);

/* The signer finished this probe's event: send it, or record why not. Takes s->msg. */
void monitor_probe_signed(struct monitor_probe *p, struct monitor_signed *s);

/* 1 when the websocket, the NIP-11 fetch and the signer are all done with the probe. */
int monitor_probe_finished(const struct monitor_probe *p);

/* The snapshot of a finished probe (documents moved into it, NIP-66 document built).
 * Returns 0, or -1 when out of memory. */
int monitor_probe_snapshot(struct monitor_probe *p, int64_t generated_at, struct monitor_snapshot *snap);

/* Frees what the probe holds. Only once finished, or after net_free (no callback can follow). */
void monitor_probe_free(struct monitor_probe *p);

#endif
