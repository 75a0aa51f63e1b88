/* monitor_signer.c — the write test's event: signed, NIP-13 mined when a relay asks, on a helper thread off the event loop. */
#include "services/monitor_signer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	struct job *next;
	struct monitor_signed r;
};

struct monitor_signer {
	const struct nostr_ctx *ctx;
	const struct nostr_key *key;
	uint32_t kind;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct job *queue, *queue_tail, *finished; /* finished: a stack, order does not matter */
	atomic_int cancel;                         /* read by the miner between rounds, without the lock */
	int quit;
};

static void run_job(struct monitor_signer *s, struct job *j)
{
	struct buf msg;
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
}

static void *thread_main(void *arg)
{
	struct monitor_signer *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->quit && !s->queue)
			pthread_cond_wait(&s->work, &s->mu);
		if (s->quit)
			break;
		struct job *j = s->queue;
		s->queue = j->next;
		if (!s->queue)
			s->queue_tail = NULL;
		pthread_mutex_unlock(&s->mu);
		run_job(s, j);
		pthread_mutex_lock(&s->mu);
		j->next = s->finished;
		s->finished = j;
		pthread_cond_signal(&s->done);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct monitor_signer *monitor_signer_new(const struct nostr_ctx *ctx, const struct nostr_key *key, uint32_t kind)
{
	struct monitor_signer *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ctx = ctx;
	s->key = key;
	s->kind = kind;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, NULL);
	if (pthread_create(&s->thread, NULL, thread_main, s) != 0) {
		pthread_cond_destroy(&s->work);
		pthread_cond_destroy(&s->done);
		pthread_mutex_destroy(&s->mu);
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
	pthread_mutex_lock(&s->mu);
	if (s->queue_tail)
		s->queue_tail->next = j;
	else
		s->queue = j;
	s->queue_tail = j;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int monitor_signer_take(struct monitor_signer *s, struct monitor_signed *out)
{
	pthread_mutex_lock(&s->mu);
	struct job *j = s->finished;
	if (j)
		s->finished = j->next;
	pthread_mutex_unlock(&s->mu);
	if (!j)
		return 0;
	*out = j->r;
	free(j);
	return 1;
}

void monitor_signer_wait(struct monitor_signer *s, long long ms)
{
	struct timespec ts;
	deadline_in_ms(&ts, ms);
	pthread_mutex_lock(&s->mu);
	if (!s->finished)
		pthread_cond_timedwait(&s->done, &s->mu, &ts);
	pthread_mutex_unlock(&s->mu);
}

static void free_list(struct job *j)
{
	while (j) {
		struct job *next = j->next;
		free(j->r.msg);
		free(j);
		j = next;
	}
}

void monitor_signer_free(struct monitor_signer *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	atomic_store(&s->cancel, 1);
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	free_list(s->queue);
	free_list(s->finished);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
