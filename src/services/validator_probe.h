/* validator_probe.h — does a candidate speak Nostr? Its websocket opened, a REQ sent, the first answer judged. */
#ifndef BROTR_SERVICES_VALIDATOR_PROBE_H
#define BROTR_SERVICES_VALIDATOR_PROBE_H

#include <stdint.h>

#include "net/net.h"
#include "net/relay.h"
#include "nostr/json.h"
#include "nostr/message.h"
#include "nostr/relay_url.h"

/* What every probe of a pass shares. Used from the event loop's thread only. */
struct validator_env {
	struct net *net;
	long long response_timeout_ms[NET_NETWORKS];
	/* parsing scratch, reused by every message */
	struct json_doc doc;
	struct nostr_msg msg;
	struct nostr_event ev;
};

void validator_env_init(struct validator_env *e);
void validator_env_free(struct validator_env *e);

enum validator_verdict {
	VERDICT_PENDING,
	VERDICT_RELAY,      /* answered the REQ with EVENT, EOSE or CLOSED, or sent NOTICE or AUTH */
	VERDICT_NOT_RELAY,  /* reason and category say why */
	VERDICT_LOCAL,      /* could not be tested here (a local limit, shutdown): stays due */
};

#define VALIDATOR_REASON_MAX 200

/*
 * One candidate: open (the network's connect, TLS and upgrade timeouts apply), then
 * ["REQ","brotr-validator",{"limit":1}]. EVENT, EOSE, CLOSED (for that subscription), NOTICE or
 * AUTH make it a relay; the REQ echoed back makes it not one at once. Other messages are noted
 * and waited past: no Nostr message within the network's response_timeout of the REQ (or before
 * the connection ends) means not a relay, with the first of them, or the silence, as the reason.
 */
struct validator_probe {
	char url[RELAY_URL_MAX + 1];
	enum net_network nw;
	struct validator_env *env;
	struct relay_conn *conn;    /* NULL once its on_close has run */
	int opened;
	uint64_t deadline;          /* of the answer, once opened */
	enum validator_verdict verdict;
	const char *category;       /* "relay", "echo", "not_nostr", "silent", or a net error name */
	char reason[VALIDATOR_REASON_MAX + 64];
	int noted;                  /* a message that is not Nostr arrived; note says which */
	char note[VALIDATOR_REASON_MAX];
	long long rtt_open_ms;
};

/* Starts the test; every outcome arrives through the probe's state. */
void validator_probe_start(struct validator_probe *p, struct validator_env *env, const char *url,
			   enum net_network nw);

/* Applies the answer's deadline at now (mono_ms). */
void validator_probe_tick(struct validator_probe *p, uint64_t now);

/* 1 once the verdict is in and the connection is gone. */
int validator_probe_finished(const struct validator_probe *p);

#endif
