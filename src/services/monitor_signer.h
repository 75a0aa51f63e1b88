/* monitor_signer.h — the write test's event: signed, NIP-13 mined when a relay asks, on a helper thread off the event loop. */
#ifndef BROTR_SERVICES_MONITOR_SIGNER_H
#define BROTR_SERVICES_MONITOR_SIGNER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "nostr/ctx.h"
#include "nostr/keys.h"

/*
 * Builds ["EVENT",<event>] for the write test into msg: kind, created_at, content
 * "brotr monitor write test <16 random hex digits>" (so no two tests share an id), no tags but
 * the NIP-13 nonce when difficulty > 0, signed with key. Mining runs in rounds of fresh content
 * and checks *cancel (may be NULL) between them. id gets the event id. Returns 0, or -1 with a
 * reason in err (cancelled, or a nostr error).
 */
int monitor_write_event(const struct nostr_ctx *ctx, const struct nostr_key *key, uint32_t kind, int64_t created_at,
			unsigned difficulty, const atomic_int *cancel, struct buf *msg, unsigned char id[32],
			char *err, size_t errlen);

/* A finished job, handed back to the thread that submitted it. */
struct monitor_signed {
	void *token;           /* as submitted */
	int ok;
	char *msg;             /* ["EVENT",...], malloc'd, the receiver frees it; NULL unless ok */
	size_t len;
	unsigned char id[32];
	unsigned difficulty;   /* as asked */
	long long elapsed_ms;  /* time spent building it */
	char error[128];       /* why not, unless ok */
};

/* One helper thread and its queue. ctx and key are only read and must outlive it. */
struct monitor_signer;

/* Starts the thread. Returns NULL when out of memory or threads. */
struct monitor_signer *monitor_signer_new(const struct nostr_ctx *ctx, const struct nostr_key *key, uint32_t kind);

/* Queues a job (created_at is taken when it starts). Returns 0, or -1 when out of memory. */
int monitor_signer_submit(struct monitor_signer *s, void *token, unsigned difficulty);

/* Takes one finished job into *out. Returns 1, or 0 when none is ready. */
int monitor_signer_take(struct monitor_signer *s, struct monitor_signed *out);

/* Waits at most ms for a finished job (returns at once when one is ready). */
void monitor_signer_wait(struct monitor_signer *s, long long ms);

/* Cancels the job under way, drops the queued and finished ones, joins the thread. Accepts NULL. */
void monitor_signer_free(struct monitor_signer *s);

#endif
