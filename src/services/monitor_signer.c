/* monitor_signer.c — the write test's event: signed, NIP-13 mined when a relay asks, on a helper thread off the event loop. */
#include "services/monitor_signer.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jobq.h"
#include "nostr/message.h"
#include "nostr/pow.h"

#define ROUND_TRIES (1u << 18) /* nonces per round of mining; the cancel flag is read between rounds */

/* Rounds allowed: 32 times the expected work, so a failure is a bug, never bad luck (p < e^-32). */
static uint64_t max_rounds(unsigned difficulty)
{
	if (difficulty == 0)
		return 1;
	uint64_t expected = difficulty >= 40 ? (uint64_t)1 << 40 : (uint64_t)1 << difficulty;
	return expected * 32 / ROUND_TRIES + 2;
}

static int one_round(const struct nostr_ctx *ctx, const struct nostr_key *key, uint32_t kind, int64_t created_at,
		     unsigned difficulty, struct nostr_event *ev, struct nostr_err *err)
{
	unsigned char salt[8];
	char hex[17], content[64];
	if (nostr_random(salt, sizeof(salt)) < 0)
		return nostr_fail(err, NOSTR_E_ARG, "random", "getrandom failed");
	hex_encode(salt, sizeof(salt), hex);
	int n = snprintf(content, sizeof(content), "brotr monitor write test %s", hex);
	return nostr_event_create(ctx, ev, key, kind, created_at, NULL, 0, content, (size_t)n, difficulty,
				  ROUND_TRIES, err);
}

int monitor_write_event(const struct nostr_ctx *ctx, const struct nostr_key *key, uint32_t kind, int64_t created_at,
			unsigned difficulty, const atomic_int *cancel, struct buf *msg, unsigned char id[32],
			char *err, size_t errlen)
{
	struct nostr_event ev;
	struct nostr_err e = { 0 };
	int rc = -1;
	nostr_event_init(&ev);
	snprintf(err, errlen, "cancelled");
	for (uint64_t round = 0, rounds = max_rounds(difficulty); round < rounds; round++) {
		if (cancel && atomic_load(cancel))
			goto out;
		if (one_round(ctx, key, kind, created_at, difficulty, &ev, &e) == 0) {
			rc = 0;
			break;
		}
		if (e.code == NOSTR_E_NOMEM)
			break;
	}
	if (rc < 0) {
		char why[96];
		snprintf(err, errlen, "cannot build the test event: %s", nostr_err_str(&e, why, sizeof(why)));
		goto out;
	}
	memcpy(id, ev.id, 32);
	if (nostr_build_event(msg, &ev, &e) < 0) {
		rc = -1;
		snprintf(err, errlen, "out of memory");
	}
out:
	nostr_event_free(&ev);
	return rc;
}

struct job {
	struct jobq_job link;
	struct monitor_signed r;
};

struct monitor_signer {
	const struct nostr_ctx *ctx;
	const struct nostr_key *key;
	uint32_t kind;
	struct jobq *q;
	atomic_int cancel; /* read by the miner between rounds */
};

static struct job *job_of(struct jobq_job *j)
{
	return j ? (struct job *)((char *)j - offsetof(struct job, link)) : NULL;
}

/* Builds one test event on the signer's thread (never a queue failure: the outcome is in r). */
static int run_job(void *ctx, struct jobq_job *link, int skip)
{
	struct monitor_signer *s = ctx;
	struct job *j = job_of(link);
	struct buf msg;
	(void)skip;
	buf_init(&msg);
	uint64_t t0 = mono_ms();
	j->r.ok = monitor_write_event(s->ctx, s->key, s->kind, wall_ms() / 1000, j->r.difficulty, &s->cancel, &msg,
				      j->r.id, j->r.error, sizeof(j->r.error)) == 0;
	j->r.elapsed_ms = (long long)(mono_ms() - t0);
	if (j->r.ok) {
		j->r.msg = msg.data; /* the buffer's memory changes hands */
		j->r.len = msg.len;
	} else {
		buf_free(&msg);
	}
	return 0;
}

struct monitor_signer *monitor_signer_new(const struct nostr_ctx *ctx, const struct nostr_key *key, uint32_t kind)
{
	struct monitor_signer *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ctx = ctx;
	s->key = key;
	s->kind = kind;
	if (!(s->q = jobq_start(run_job, s, 1))) {
		free(s);
		return NULL;
	}
	return s;
}

int monitor_signer_submit(struct monitor_signer *s, void *token, unsigned difficulty)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return -1;
	j->r.token = token;
	j->r.difficulty = difficulty;
	jobq_put(s->q, &j->link);
	return 0;
}

int monitor_signer_take(struct monitor_signer *s, struct monitor_signed *out)
{
	struct job *j = job_of(jobq_take(s->q, 0));
	if (!j)
		return 0;
	*out = j->r;
	free(j);
	return 1;
}

void monitor_signer_wait(struct monitor_signer *s, long long ms)
{
	jobq_wait_done(s->q, ms);
}

void monitor_signer_free(struct monitor_signer *s)
{
	if (!s)
		return;
	atomic_store(&s->cancel, 1); /* the jobs still queued return at their first round */
	struct jobq_job *left = jobq_stop(s->q);
	while (left) {
		struct job *j = job_of(left);
		left = left->next;
		free(j->r.msg);
		free(j);
	}
	free(s);
}
