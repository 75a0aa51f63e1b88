/* resolver.h — a fixed pool of threads running getaddrinfo for the helper's direct (no proxy) connections. */
#ifndef BROTR_NET_RESOLVER_H
#define BROTR_NET_RESOLVER_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>

struct resolver;

struct resolver_result {
	uint64_t tag;         /* as submitted */
	struct addrinfo *ai;  /* owned by the taker (freeaddrinfo); NULL on failure */
	int gai_err;          /* 0, or the getaddrinfo error (gai_strerror) */
	int sys_errno;        /* with EAI_SYSTEM, errno (EMFILE: this host's shortage, not the relay's) */
};

/*
 * Starts threads workers (never more) and a queue of at most cap outstanding lookups
 * (submitted and not yet taken). Each finished lookup writes one byte to notify_fd.
 * Workers block every signal. Returns NULL when a thread or memory cannot be had.
 */
struct resolver *resolver_new(int threads, size_t cap, int notify_fd);

/* Queues a lookup of host (port as the service). Returns 0, or -1 when the queue is full. */
int resolver_submit(struct resolver *r, uint64_t tag, const char *host, int port);

/* Takes one finished lookup. Returns 1 and fills out, or 0 when none is ready. */
int resolver_take(struct resolver *r, struct resolver_result *out);

/*
 * Stops the pool without waiting for lookups in progress (a slow DNS server must not delay
 * shutdown): workers exit when their getaddrinfo returns, and the last one frees the pool.
 * Results not taken are freed. Accepts NULL.
 */
void resolver_free(struct resolver *r);

#endif
