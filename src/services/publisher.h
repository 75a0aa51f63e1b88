/* publisher.h — NIP-66 publishing inside a monitor pass: events for what was observed, sent to the publish relays on the pass's own event loop, recorded once a relay accepted them. */
#ifndef BROTR_SERVICES_PUBLISHER_H
#define BROTR_SERVICES_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "db.h"
#include "net/net.h"
#include "nostr/ctx.h"
#include "nostr/keys.h"
#include "services/publisher_event.h"

#define PUBLISHER_RELAYS_MAX 16

/*
 * Every event is queued with the facts that decide whether it goes out: it is published when the
 * database has no row for its key, when the facts differ from the row's, or when the event
 * published last expires within one and a half [monitor] intervals (so consumers always hold an
 * unexpired one while the relay keeps answering). Queued events go out in rounds of at most
 * PUBLISHER_QUEUE events: the round's keys are read in one statement, the events to publish are
 * signed with [monitor] private_key, sent to every publish relay (PUBLISHER_WINDOW unanswered at a
 * time per relay, each answer within the network's response timeout), and the keys of those that
 * at least one relay accepted (OK true, or OK false "duplicate:") are recorded in one statement.
 * An event no relay accepted is tried again by the next pass. Memory: a round of events and the
 * queue, which holds PUBLISHER_QUEUE events plus those of the checks in flight when it filled (the
 * monitor starts no check while publisher_backlogged).
 */
#define PUBLISHER_QUEUE 256
#define PUBLISHER_WINDOW 16

struct publisher_stats {
	size_t queued;      /* events queued */
	size_t unchanged;   /* not published: the same facts are out and not about to expire */
	size_t published;   /* sent to the publish relays */
	size_t accepted;    /* by at least one of them */
	size_t refused;     /* answered, by none accepted */
	size_t unanswered;  /* answered by no relay */
	size_t recorded;    /* rows written */
	size_t failed;      /* events lost to a local failure (memory, signing, the database) */
};

/* Validates [publisher] without keeping anything: when enabled, [monitor] private_key is set, relays
 * lists 1..16 usable relay URLs, profile is empty or a JSON object. Returns 0, or -1 with err. */
int publisher_check_config(const struct config *cfg, char *err, size_t errlen) __attribute__((warn_unused_result));

struct publisher;

/*
 * A publisher for one pass starting at now (Unix s). key signs (it must outlive the publisher); net
 * carries the publish connections (their callbacks run in the pass's net_run); db holds what was
 * published. Queues the 10166 announcement (and kinds 0 and 10002 when configured). Returns NULL
 * when out of memory or the configuration is unusable (logged).
 */
struct publisher *publisher_new(const struct config *cfg, const struct nostr_ctx *nctx, const struct nostr_key *key,
				struct net *net, struct db *db, int64_t now, const struct logger *lg, struct metrics *m);

/* Queues f's kind 30166 event, created at now (Unix s). Copies what it needs. Returns 0, or -1 when
 * out of memory (counted as failed). */
int publisher_add(struct publisher *p, const struct pub_relay_facts *f, int64_t now);

/* Moves the rounds on: records a round whose relays are all done, starts one when the queue is full
 * (or, after publisher_finish, not empty). Call after each net_run. */
void publisher_poll(struct publisher *p);

/* 1 when a round's worth is queued behind the round under way: start no more checks yet. */
int publisher_backlogged(const struct publisher *p);

/* No more events will be queued: what is queued goes out in the rounds that follow. */
void publisher_finish(struct publisher *p);

/* 1 when nothing is queued and no round is under way. */
int publisher_idle(const struct publisher *p);

/* Logs the summary, gives the totals, frees everything. Only after net_free or once idle. */
void publisher_free(struct publisher *p, struct publisher_stats *st);

#endif
