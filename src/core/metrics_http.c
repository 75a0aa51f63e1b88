/* metrics_http.c — an HTTP endpoint serving /metrics and /health from a background thread. */
#include "core/metrics_http.h"

#include "core/config.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One connection: its request head while reading, then its whole response while writing. */
struct client {
	int fd; /* -1: free slot */
	uint64_t deadline;
	int writing;
	size_t in_len;
	char in[METRICS_HTTP_REQUEST_MAX];
	struct buf out;
	size_t sent;
};

struct metrics_http {
	int fd;
	int wake[2]; /* written to by stop() */
	pthread_t thread;
	struct metrics *m;
	const struct logger *lg;
	uint64_t listen_after; /* mono_ms before which the listener rests (accept ran out of resources) */
	struct client c[METRICS_HTTP_CLIENTS];
};

static int sockaddr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family != AF_INET6)
		return 0;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* Resolves addr without any lookup ("localhost" is 127.0.0.1). Returns 0, or -1 with a reason. */
static int parse_listen(const char *addr, struct addrinfo **res, char *err, size_t errlen)
{
	char host[256], port[8];
	int p;
	if (config_split_hostport(addr, host, sizeof(host), &p) < 0) {
		snprintf(err, errlen, "metrics listen address %s is not host:port", addr);
		return -1;
	}
	snprintf(port, sizeof(port), "%d", p);
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	int rc = getaddrinfo(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, port, &hints, res);
	if (rc != 0) {
		snprintf(err, errlen, "metrics listen address %s: %s (a literal address or localhost)", addr,
			 gai_strerror(rc));
		return -1;
	}
	return 0;
}

static int listen_on(const char *addr, int allow_remote, char *err, size_t errlen)
{
	struct addrinfo *res;
	if (parse_listen(addr, &res, err, errlen) < 0)
		return -1;
	int fd = -1, one = 1;
	if (!allow_remote && !sockaddr_is_loopback(res->ai_addr)) {
		snprintf(err, errlen, "metrics listen address %s is not loopback and [metrics] allow_remote is off", addr);
		goto out;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	freeaddrinfo(res);
	return fd;
}

static void client_close(struct client *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	buf_free(&c->out);
}

static void respond(struct client *c, int status, const char *reason, const char *type, const char *body,
		    size_t len)
{
	buf_reset(&c->out);
	buf_printf(&c->out,
		   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
		   reason, type, len);
	buf_append(&c->out, body, len);
	c->writing = 1;
	c->sent = 0;
}

static void answer(struct metrics_http *h, struct client *c)
{
	char method[8], path[256];
	if (sscanf(c->in, "%7s %255s", method, path) != 2) {
		respond(c, 400, "Bad Request", "text/plain", "bad request\n", 12);
	} else if (strcmp(method, "GET") != 0) {
		respond(c, 405, "Method Not Allowed", "text/plain", "GET only\n", 9);
	} else if (strcmp(path, "/metrics") == 0) {
		struct buf b;
		buf_init(&b);
		metrics_render(h->m, &b);
		if (b.failed)
			respond(c, 500, "Internal Server Error", "text/plain", "out of memory\n", 14);
		else
			respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "", b.len);
		buf_free(&b);
	} else if (strcmp(path, "/health") == 0) {
		int ok = metrics_last_pass_ok(h->m);
		const char *body = ok == 1 ? "{\"status\":\"ok\"}\n"
				   : ok == 0 ? "{\"status\":\"failed\"}\n"
					     : "{\"status\":\"starting\"}\n";
		respond(c, ok == 0 ? 503 : 200, ok == 0 ? "Service Unavailable" : "OK", "application/json", body,
			strlen(body));
	} else {
		respond(c, 404, "Not Found", "text/plain", "not found\n", 10);
	}
	if (c->out.failed)
		client_close(c);
}

/* Reads what the client has sent; answers once the head is complete, 431 when it cannot be. */
static void on_readable(struct metrics_http *h, struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	if (strstr(c->in, "\r\n\r\n") || strstr(c->in, "\n\n"))
		answer(h, c);
	else if (c->in_len == sizeof(c->in) - 1)
		respond(c, 431, "Request Header Fields Too Large", "text/plain", "request too large\n", 18);
}

static void on_writable(struct client *c)
{
	ssize_t n = send(c->fd, c->out.data + c->sent, c->out.len - c->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0 || (c->sent += (size_t)n) == c->out.len)
		client_close(c);
}

static struct client *free_slot(struct metrics_http *h)
{
	for (size_t i = 0; i < METRICS_HTTP_CLIENTS; i++)
		if (h->c[i].fd < 0)
			return &h->c[i];
	return NULL;
}

/* Accepts while there is a free slot. Out of descriptors or memory, the listener rests a while
 * rather than staying readable and spinning the loop. */
static void accept_clients(struct metrics_http *h)
{
	struct client *c;
	while ((c = free_slot(h)) != NULL) {
		int fd = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			c->fd = fd;
			c->deadline = mono_ms() + METRICS_HTTP_DEADLINE_MS;
			c->writing = 0;
			c->in_len = 0;
			buf_init(&c->out);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			log_warn(h->lg, "metrics endpoint cannot accept; pausing it", LOG_S("error", strerror(errno)),
				 LOG_U("pause_ms", METRICS_HTTP_BACKOFF_MS));
			h->listen_after = mono_ms() + METRICS_HTTP_BACKOFF_MS;
		}
		return; /* EAGAIN, or a connection that went away before it was accepted */
	}
}

/* Fills the poll set: wake pipe, listener (when it may accept), then the clients in slot order.
 * Returns the number of entries and the poll timeout. */
static nfds_t poll_set(struct metrics_http *h, struct pollfd *p, int *timeout)
{
	uint64_t now = mono_ms(), next = UINT64_MAX;
	nfds_t n = 0;
	p[n++] = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
	int room = free_slot(h) != NULL;
	if (room && now >= h->listen_after)
		p[n++] = (struct pollfd){ .fd = h->fd, .events = POLLIN };
	else if (room)
		next = h->listen_after;
	for (size_t i = 0; i < METRICS_HTTP_CLIENTS; i++) {
		struct client *c = &h->c[i];
		if (c->fd < 0)
			continue;
		p[n++] = (struct pollfd){ .fd = c->fd, .events = c->writing ? POLLOUT : POLLIN };
		if (c->deadline < next)
			next = c->deadline;
	}
	*timeout = next == UINT64_MAX ? -1 : next <= now ? 0 : (int)(next - now);
	return n;
}

static void *run(void *arg)
{
	struct metrics_http *h = arg;
	struct pollfd p[METRICS_HTTP_CLIENTS + 2];
	for (;;) {
		int timeout;
		nfds_t n = poll_set(h, p, &timeout);
		if (poll(p, n, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		for (nfds_t i = 1; i < n; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == h->fd) {
				accept_clients(h);
				continue;
			}
			for (size_t k = 0; k < METRICS_HTTP_CLIENTS; k++)
				if (h->c[k].fd == p[i].fd)
					h->c[k].writing ? on_writable(&h->c[k]) : on_readable(h, &h->c[k]);
		}
		uint64_t now = mono_ms();
		for (size_t k = 0; k < METRICS_HTTP_CLIENTS; k++)
			if (h->c[k].fd >= 0 && now >= h->c[k].deadline)
				client_close(&h->c[k]);
	}
	return NULL;
}

struct metrics_http *metrics_http_start(const char *listen, int allow_remote, struct metrics *m,
					const struct logger *lg, char *err, size_t errlen)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->m = m;
	h->lg = lg;
	h->wake[0] = h->wake[1] = -1;
	for (size_t i = 0; i < METRICS_HTTP_CLIENTS; i++)
		h->c[i].fd = -1;
	h->fd = listen_on(listen, allow_remote, err, errlen);
	if (h->fd < 0)
		goto fail;
	if (pipe2(h->wake, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	if (pthread_create(&h->thread, NULL, run, h) != 0) {
		snprintf(err, errlen, "cannot start the metrics thread");
		goto fail;
	}
	log_info(lg, "metrics endpoint listening", LOG_S("listen", listen));
	return h;
fail:
	if (h->fd >= 0)
		close(h->fd);
	if (h->wake[0] >= 0) {
		close(h->wake[0]);
		close(h->wake[1]);
	}
	free(h);
	return NULL;
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	char c = 1;
	ssize_t r;
	do
		r = write(h->wake[1], &c, 1);
	while (r < 0 && errno == EINTR);
	pthread_join(h->thread, NULL);
	for (size_t i = 0; i < METRICS_HTTP_CLIENTS; i++)
		client_close(&h->c[i]);
	close(h->fd);
	close(h->wake[0]);
	close(h->wake[1]);
	free(h);
}
