/* resolver.c — a fixed pool of threads running getaddrinfo for the helper's direct (no proxy) connections. */
#include "net/resolver.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct job {
	uint64_t tag;
	char host[256];
	int port;
	int done;
	struct resolver_result res;
};

/*
 * Jobs live in one ring of cap slots: [head, head+n) are outstanding, the pending ones
 * first in submission order. Workers mark jobs done in place; take() returns done jobs
 * from anywhere in the ring and compacts nothing: a taken slot is only reused once every
 * older slot is taken too, which bounds the work per call by cap.
 */
struct resolver {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *jobs;
	size_t cap, head, n, next_pending; /* next_pending: offset from head of the next job to run */
	int notify_fd;
	int stopping;
	int refs; /* the owner plus each live worker */
};

static void unref(struct resolver *r)
{
	int last = --r->refs == 0;
	pthread_mutex_unlock(&r->mu);
	if (!last)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct job *j = &r->jobs[(r->head + i) % r->cap];
		if (j->done == 1 && j->res.ai)
			freeaddrinfo(j->res.ai);
	}
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r->jobs);
	free(r);
}

static void *worker(void *arg)
{
	struct resolver *r = arg;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->stopping && r->next_pending >= r->n)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stopping)
			break;
		struct job *j = &r->jobs[(r->head + r->next_pending++) % r->cap];
		char host[256], port[8];
		snprintf(host, sizeof(host), "%s", j->host);
		snprintf(port, sizeof(port), "%d", j->port);
		pthread_mutex_unlock(&r->mu);
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG };
		struct addrinfo *ai = NULL;
		int err = getaddrinfo(host, port, &hints, &ai), sys_errno = errno;
		pthread_mutex_lock(&r->mu);
		if (r->stopping) {
			if (ai)
				freeaddrinfo(ai);
			break;
		}
		j->res.ai = err ? NULL : ai;
		j->res.gai_err = err;
		j->res.sys_errno = err == EAI_SYSTEM ? sys_errno : 0;
		j->done = 1;
		ssize_t w = write(r->notify_fd, "r", 1);
		(void)w;
	}
	unref(r);
	return NULL;
}

struct resolver *resolver_new(int threads, size_t cap, int notify_fd)
{
	struct resolver *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->jobs = calloc(cap, sizeof(*r->jobs));
	if (!r->jobs) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->cap = cap;
	r->notify_fd = notify_fd;
	r->refs = 1;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int started = 0;
	for (int i = 0; i < threads; i++) {
		pthread_t t;
		pthread_mutex_lock(&r->mu);
		r->refs++;
		pthread_mutex_unlock(&r->mu);
		if (pthread_create(&t, &attr, worker, r) != 0) {
			pthread_mutex_lock(&r->mu);
			r->refs--;
			pthread_mutex_unlock(&r->mu);
			break;
		}
		started++;
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started < threads) {
		resolver_free(r);
		return NULL;
	}
	return r;
}

int resolver_submit(struct resolver *r, uint64_t tag, const char *host, int port)
{
	pthread_mutex_lock(&r->mu);
	if (r->n == r->cap || strlen(host) >= sizeof(r->jobs[0].host)) {
		pthread_mutex_unlock(&r->mu);
		return -1;
	}
	struct job *j = &r->jobs[(r->head + r->n++) % r->cap];
	memset(j, 0, sizeof(*j));
	j->tag = tag;
	j->res.tag = tag;
	snprintf(j->host, sizeof(j->host), "%s", host);
	j->port = port;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

int resolver_take(struct resolver *r, struct resolver_result *out)
{
	int found = 0;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->next_pending && !found; i++) {
		struct job *j = &r->jobs[(r->head + i) % r->cap];
		if (j->done == 1) {
			*out = j->res;
			j->done = 2; /* taken */
			found = 1;
		}
	}
	while (r->n > 0 && r->next_pending > 0 && r->jobs[r->head].done == 2) {
		r->head = (r->head + 1) % r->cap;
		r->n--;
		r->next_pending--;
	}
	pthread_mutex_unlock(&r->mu);
	return found;
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = 1;
	pthread_cond_broadcast(&r->cv);
	unref(r);
}
