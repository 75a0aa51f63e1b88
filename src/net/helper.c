/* helper.c — the in-process loopback helper that turns libwebsockets' HTTP CONNECT into SOCKS5 (or a direct connection). */
#include "net/helper_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/config.h"
#include "core/util.h"

/*
 * Threading: the helper runs in its own thread with a poll(2) loop, not inside the lws
 * event loop. lws 4.1 cannot adopt a socket we connected as a client connection, so the
 * helper sits beside lws rather than under it; its own thread keeps the SOCKS handshakes
 * and the direct-mode DNS (in a small fixed resolver pool) from ever blocking the relay
 * client's loop, moves bytes on the second core while lws does TLS and websocket framing,
 * and leaves the lws callbacks free of a second protocol state machine. Everything is
 * bounded: max_tunnels tickets, max_tunnels + SPARE_SLOTS accepted sockets, two
 * buffers per established tunnel (C2U_BUF + U2C_BUF), one thread plus the resolver pool.
 * The tickets are the only state shared with the client's thread, under one mutex.
 *
 * Any local user can connect to the port. A connection that has not shown the secret gets
 * REQUEST_TIMEOUT_MS, and when every slot is taken the oldest such connection is closed to
 * make room (after reading the requests already waiting, so lws' own get through). Out of
 * descriptors, the listener rests for ACCEPT_PAUSE_MS instead of spinning on it; a side that
 * hangs up is settled in tunnel.c whatever its buffers hold. What the helper drops before
 * reading a request, lws reports and link.c words as NET_ERR_LIMIT: a local failure
 * (net_error_is_local), never stored against the relay.
 */

/* Resolves the proxy address once, at start: a numeric address needs no lookup at all. */
static int resolve_proxy(struct helper *h, const char *spec, char *err, size_t errlen)
{
	char host[256];
	int port;
	if (config_split_hostport(spec, host, sizeof(host), &port) < 0) {
		snprintf(err, errlen, "[tor] socks_proxy '%s' is not host:port", spec);
		return -1;
	}
	char ps[8];
	snprintf(ps, sizeof(ps), "%d", port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, ps, &hints, &ai) != 0) {
		hints.ai_flags = AI_NUMERICSERV;
		int rc = getaddrinfo(host, ps, &hints, &ai);
		if (rc != 0) {
			snprintf(err, errlen, "[tor] socks_proxy '%s': %s", spec, gai_strerror(rc));
			return -1;
		}
	}
	memcpy(&h->proxy, ai->ai_addr, ai->ai_addrlen);
	h->proxy_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	snprintf(h->proxy_name, sizeof(h->proxy_name), "%s", spec);
	return 0;
}

static int open_listener(struct helper *h, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->lfd < 0 || bind(h->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(h->lfd, 128) < 0 ||
	    getsockname(h->lfd, (struct sockaddr *)&a, &len) < 0) {
		snprintf(err, errlen, "helper: cannot listen on 127.0.0.1: %s", strerror(errno));
		return -1;
	}
	unsigned char secret[16];
	char hex[33];
	if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret)) {
		snprintf(err, errlen, "helper: no randomness for the secret: %s", strerror(errno));
		return -1;
	}
	hex_encode(secret, sizeof(secret), hex);
	snprintf(h->auth, sizeof(h->auth), "brotr:%s", hex);
	snprintf(h->spec, sizeof(h->spec), "%s@127.0.0.1:%u", h->auth, ntohs(a.sin_port));
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(hex, sizeof(hex));
	return 0;
}

static void close_slot(struct helper *h, size_t i)
{
	tunnel_free(h->tunnels[i]);
	h->tunnels[i] = NULL;
	h->active--;
	h->accept_paused_until = 0; /* a descriptor came free */
	metric_set(h->m_active, (double)h->active);
}

/* A free slot's index, or n_slots. */
static size_t free_slot(const struct helper *h)
{
	size_t i = 0;
	while (i < h->n_slots && h->tunnels[i])
		i++;
	return i;
}

/*
 * Every slot is taken. Connections that have not yet shown the secret go first: each one's
 * request, if it has arrived, is read now (lws' own move past TP_REQUEST at once), then the
 * oldest still waiting is closed. Returns a free slot, or n_slots when every slot holds an
 * authenticated tunnel (max_tunnels of them at most: a ticket each, and SPARE_SLOTS more).
 */
static size_t make_room(struct helper *h)
{
	size_t oldest = h->n_slots;
	for (size_t i = 0; i < h->n_slots; i++) {
		struct tunnel *t = h->tunnels[i];
		if (t && t->phase == TP_REQUEST && tunnel_io(h, t, POLLIN, 0) < 0)
			close_slot(h, i);
		t = h->tunnels[i];
		if (t && t->phase == TP_REQUEST && (oldest == h->n_slots || t->tag < h->tunnels[oldest]->tag))
			oldest = i;
	}
	size_t i = free_slot(h);
	if (i < h->n_slots || oldest == h->n_slots)
		return i;
	log_warn(&h->log, "helper full: closed the oldest connection that had not shown the process secret",
		 LOG_U("slots", h->n_slots));
	metric_add(h->m_evicted, 1);
	close_slot(h, oldest);
	return oldest;
}

/* accept4 failed: out of descriptors or memory rests the listener (it stays readable, and
 * polling it would spin); anything else ends this round. */
static void accept_failed(struct helper *h)
{
	if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM)
		return;
	h->accept_paused_until = mono_ms() + ACCEPT_PAUSE_MS;
	log_warn(&h->log, "helper cannot accept: out of file descriptors or memory; pausing",
		 LOG_S("error", strerror(errno)), LOG_U("tunnels", h->active));
}

/* Accepts what is waiting, making room by closing the oldest unauthenticated connection. */
static void accept_all(struct helper *h)
{
	for (;;) {
		int fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			accept_failed(h);
			return;
		}
		size_t i = free_slot(h);
		if (i == h->n_slots)
			i = make_room(h);
		struct tunnel *t = i < h->n_slots ? tunnel_new(fd, ++h->serial << 16 | i) : NULL;
		if (!t) {
			log_warn(&h->log, "helper refused a connection: every slot holds an established tunnel",
				 LOG_U("slots", h->n_slots));
			metric_add(h->m_refused, 1);
			close(fd);
			continue;
		}
		t->deadline = mono_ms() + REQUEST_TIMEOUT_MS;
		h->tunnels[i] = t;
		h->active++;
		metric_set(h->m_active, (double)h->active);
	}
}

static void take_resolved(struct helper *h)
{
	struct resolver_result r;
	while (h->resolver && resolver_take(h->resolver, &r)) {
		size_t i = (size_t)(r.tag & 0xffff);
		struct tunnel *t = i < h->n_slots ? h->tunnels[i] : NULL;
		if (!t || t->tag != r.tag || t->phase != TP_RESOLVING) {
			if (r.ai)
				freeaddrinfo(r.ai);
			continue;
		}
		if (tunnel_resolved(h, t, &r) < 0)
			close_slot(h, i);
	}
}

/* Fills pfds; returns the count and the poll timeout from the nearest deadline. */
static nfds_t build_poll(struct helper *h, int *timeout)
{
	nfds_t n = 0;
	uint64_t now = mono_ms(), next = now + 1000;
	if (h->accept_paused_until && now >= h->accept_paused_until)
		h->accept_paused_until = 0;
	if (h->accept_paused_until)
		next = h->accept_paused_until;
	/* a resting listener is left out: it stays readable while descriptors are short */
	h->pfds[n++] = (struct pollfd){ .fd = h->accept_paused_until ? -1 : h->lfd, .events = POLLIN };
	h->pfds[n++] = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
	for (size_t i = 0; i < h->n_slots; i++) {
		struct tunnel *t = h->tunnels[i];
		if (!t)
			continue;
		h->pfd_tag[n] = t->tag;
		/* polled even with no interest: a hang-up or an error is always reported, and handled */
		h->pfds[n++] = (struct pollfd){ .fd = t->cfd, .events = tunnel_events_c(t) };
		h->pfds[n++] = (struct pollfd){ .fd = t->ufd, .events = tunnel_events_u(t) };
		if (t->deadline && t->deadline < next)
			next = t->deadline;
		if (t->attempt_deadline && t->attempt_deadline < next)
			next = t->attempt_deadline;
	}
	*timeout = next > now ? (int)(next - now) : 0;
	return n;
}

static void serve(struct helper *h, nfds_t n)
{
	for (nfds_t k = 2; k + 1 < n; k += 2) {
		size_t i = (size_t)(h->pfd_tag[k] & 0xffff);
		struct tunnel *t = h->tunnels[i];
		short crev = h->pfds[k].revents, urev = h->pfds[k + 1].revents;
		/* the tag guards against a slot closed and refilled since the poll set was built */
		if (t && t->tag == h->pfd_tag[k] && (crev || urev) && tunnel_io(h, t, crev, urev) < 0)
			close_slot(h, i);
	}
	uint64_t now = mono_ms();
	for (size_t i = 0; i < h->n_slots; i++) {
		struct tunnel *t = h->tunnels[i];
		int due = t && ((t->deadline && now >= t->deadline) ||
				(t->attempt_deadline && now >= t->attempt_deadline));
		if (due && tunnel_timeout(h, t) < 0)
			close_slot(h, i);
	}
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	while (!atomic_load(&h->stop)) {
		int timeout;
		nfds_t n = build_poll(h, &timeout);
		atomic_fetch_add_explicit(&h->wakeups, 1, memory_order_relaxed);
		if (poll(h->pfds, n, timeout) < 0 && errno != EINTR) {
			log_error(&h->log, "helper poll failed", LOG_S("error", strerror(errno)));
			break;
		}
		if (h->pfds[1].revents) {
			char drain[64];
			while (read(h->wake[0], drain, sizeof(drain)) > 0)
				;
			take_resolved(h);
		}
		if (h->pfds[0].revents)
			accept_all(h);
		serve(h, n);
	}
	for (size_t i = 0; i < h->n_slots; i++)
		if (h->tunnels[i])
			close_slot(h, i);
	return NULL;
}

static int alloc_tables(struct helper *h, int max_tunnels)
{
	h->n_tickets = (size_t)max_tunnels;
	h->n_slots = (size_t)max_tunnels + SPARE_SLOTS;
	h->tickets = calloc(h->n_tickets, sizeof(*h->tickets));
	h->tunnels = calloc(h->n_slots, sizeof(*h->tunnels));
	h->pfds = calloc(2 + 2 * h->n_slots, sizeof(*h->pfds));
	h->pfd_tag = calloc(2 + 2 * h->n_slots, sizeof(*h->pfd_tag));
	return h->tickets && h->tunnels && h->pfds && h->pfd_tag ? 0 : -1;
}

static int start_thread(struct helper *h)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals belong to the service's thread */
	int rc = pthread_create(&h->thread, NULL, helper_main, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	h->thread_started = rc == 0;
	return rc == 0 ? 0 : -1;
}

struct helper *helper_start(const struct helper_options *o, char *err, size_t errlen)
{
	struct helper *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "helper: out of memory");
		return NULL;
	}
	h->lfd = h->wake[0] = h->wake[1] = -1;
	pthread_mutex_init(&h->mu, NULL);
	h->log = o->log;
	h->metrics = o->metrics;
	h->allow_local = o->allow_local;
	h->direct = !o->socks_proxy || !*o->socks_proxy;
	if (o->max_tunnels < 1 || o->max_tunnels > 65000) {
		snprintf(err, errlen, "helper: max_tunnels must be 1..65000");
		goto fail;
	}
	if (!h->direct && resolve_proxy(h, o->socks_proxy, err, errlen) < 0)
		goto fail;
	if (alloc_tables(h, o->max_tunnels) < 0 || pipe2(h->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "helper: out of memory or descriptors");
		goto fail;
	}
	if (open_listener(h, err, errlen) < 0)
		goto fail;
	if (h->direct && !(h->resolver = resolver_new(4, h->n_slots, h->wake[1]))) {
		snprintf(err, errlen, "helper: cannot start the resolver threads");
		goto fail;
	}
	if (h->metrics) {
		h->m_active = metrics_get(h->metrics, METRIC_GAUGE, "net_tunnels", "Tunnels open in the SOCKS5 helper.",
					  NULL);
		h->m_evicted = metrics_get(h->metrics, METRIC_COUNTER, "net_helper_evicted_total",
					   "Local connections to the SOCKS5 helper closed to make room before showing the secret.",
					   NULL);
		h->m_refused = metrics_get(h->metrics, METRIC_COUNTER, "net_helper_refused_total",
					   "Local connections to the SOCKS5 helper refused: every slot held a tunnel.", NULL);
	}
	if (start_thread(h) < 0) {
		snprintf(err, errlen, "helper: cannot start its thread");
		goto fail;
	}
	return h;
fail:
	helper_stop(h);
	return NULL;
}

unsigned long helper_descriptors(int max_tunnels)
{
	return 2 * ((unsigned long)max_tunnels + SPARE_SLOTS) + 3; /* the slots, the listener, the wake pipe */
}

void helper_stop(struct helper *h)
{
	if (!h)
		return;
	if (h->thread_started) {
		atomic_store(&h->stop, 1);
		ssize_t w = write(h->wake[1], "q", 1);
		(void)w;
		pthread_join(h->thread, NULL);
	}
	resolver_free(h->resolver);
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->wake[0] >= 0) {
		close(h->wake[0]);
		close(h->wake[1]);
	}
	pthread_mutex_destroy(&h->mu);
	free(h->tickets);
	free(h->tunnels);
	free(h->pfds);
	free(h->pfd_tag);
	explicit_bzero(h, sizeof(*h)); /* the secret, in auth and spec */
	free(h);
}

const char *helper_proxy_spec(const struct helper *h)
{
	return h->spec;
}

uint64_t helper_wakeups(const struct helper *h)
{
	return atomic_load_explicit(&((struct helper *)h)->wakeups, memory_order_relaxed);
}

/* Ticket ids: generation << 16 | slot; the generation is never 0. */
static struct ticket *ticket_get(struct helper *h, uint32_t id)
{
	size_t slot = id & 0xffff;
	uint16_t gen = (uint16_t)(id >> 16);
	if (gen == 0 || slot >= h->n_tickets || h->tickets[slot].gen != gen)
		return NULL;
	return &h->tickets[slot];
}

int helper_ticket_open(struct helper *h, const struct helper_ticket_req *r, char *token, size_t toklen,
		       uint32_t *id)
{
	if (strlen(r->host) >= sizeof(h->tickets[0].host) || (r->user && (strlen(r->user) > 255 ||
	    !r->pass || !*r->pass || strlen(r->pass) > 255)))
		return -1;
	pthread_mutex_lock(&h->mu);
	size_t i = 0;
	while (i < h->n_tickets && h->tickets[i].gen)
		i++;
	if (i == h->n_tickets) {
		pthread_mutex_unlock(&h->mu);
		return -1;
	}
	struct ticket *t = &h->tickets[i];
	memset(t, 0, sizeof(*t));
	if (++h->next_gen == 0)
		h->next_gen = 1;
	t->gen = h->next_gen;
	snprintf(t->host, sizeof(t->host), "%s", r->host);
	t->port = r->port;
	t->with_auth = r->user != NULL;
	if (r->user) {
		snprintf(t->user, sizeof(t->user), "%s", r->user);
		snprintf(t->pass, sizeof(t->pass), "%s", r->pass);
	}
	t->deadline = mono_ms() + (uint64_t)(r->connect_timeout_ms > 0 ? r->connect_timeout_ms : 1);
	t->st.state = TICKET_WAITING;
	t->st.socks_reply = -1;
	*id = (uint32_t)t->gen << 16 | (uint32_t)i;
	snprintf(token, toklen, "brotr-%u", (unsigned)*id);
	pthread_mutex_unlock(&h->mu);
	return 0;
}

void helper_ticket_status(struct helper *h, uint32_t id, struct helper_ticket_status *st)
{
	pthread_mutex_lock(&h->mu);
	struct ticket *t = ticket_get(h, id);
	if (t) {
		*st = t->st;
	} else {
		memset(st, 0, sizeof(*st));
		st->state = TICKET_FAILED;
		st->err = NET_ERR_LIMIT;
		st->socks_reply = -1;
		snprintf(st->reason, sizeof(st->reason), "no such tunnel ticket");
	}
	pthread_mutex_unlock(&h->mu);
}

void helper_ticket_close(struct helper *h, uint32_t id)
{
	pthread_mutex_lock(&h->mu);
	struct ticket *t = ticket_get(h, id);
	if (t)
		t->gen = 0;
	pthread_mutex_unlock(&h->mu);
}

int helper_claim(struct helper *h, const char *token, struct tunnel *tn, const char **why)
{
	char *end;
	if (strncmp(token, "brotr-", 6) != 0) {
		*why = "unknown destination token";
		return -1;
	}
	errno = 0;
	unsigned long id = strtoul(token + 6, &end, 10);
	if (errno || *end || id > UINT32_MAX) {
		*why = "malformed destination token";
		return -1;
	}
	int rc = -1;
	pthread_mutex_lock(&h->mu);
	struct ticket *t = ticket_get(h, (uint32_t)id);
	if (!t)
		*why = "no such ticket (expired or released)";
	else if (t->claimed)
		*why = "ticket already used";
	else {
		t->claimed = 1;
		t->st.state = TICKET_CONNECTING;
		tn->ticket = (uint32_t)id;
		snprintf(tn->host, sizeof(tn->host), "%s", t->host);
		tn->port = t->port;
		tn->with_auth = t->with_auth;
		snprintf(tn->user, sizeof(tn->user), "%s", t->user);
		snprintf(tn->pass, sizeof(tn->pass), "%s", t->pass);
		tn->deadline = t->deadline;
		rc = 0;
	}
	pthread_mutex_unlock(&h->mu);
	return rc;
}

void helper_ticket_set(struct helper *h, uint32_t id, enum helper_ticket_state state, enum net_error err,
		       int socks_reply, const char *reason)
{
	pthread_mutex_lock(&h->mu);
	struct ticket *t = ticket_get(h, id);
	if (t && t->st.state != TICKET_FAILED) {
		t->st.state = state;
		t->st.err = err;
		t->st.socks_reply = socks_reply;
		if (state == TICKET_ESTABLISHED)
			t->st.established_ms = mono_ms();
		snprintf(t->st.reason, sizeof(t->st.reason), "%s", reason ? reason : "");
	}
	pthread_mutex_unlock(&h->mu);
}
