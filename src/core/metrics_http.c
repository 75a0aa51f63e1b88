/* metrics_http.c — a loopback HTTP endpoint serving /metrics and /health from a background thread. */
#include "core/metrics_http.h"

#include "core/config.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST_MAX 4096
#define IO_TIMEOUT_MS 2000

struct metrics_http {
	int fd;
	int wake[2]; /* written to by stop() */
	pthread_t thread;
	struct metrics *m;
	const struct logger *lg;
};

static int listen_on(const char *addr, char *err, size_t errlen)
{
	char host[256], port[8];
	int p;
	if (config_split_hostport(addr, host, sizeof(host), &p) < 0) {
		snprintf(err, errlen, "metrics listen address %s is not host:port", addr);
		return -1;
	}
	snprintf(port, sizeof(port), "%d", p);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "metrics listen address %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Reads until the end of the request head or the limit; returns bytes read or -1. */
static ssize_t read_request(int fd, char *req, size_t cap)
{
	size_t len = 0;
	uint64_t deadline = mono_ms() + IO_TIMEOUT_MS;
	while (len < cap - 1) {
		uint64_t now = mono_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0)
			return -1;
		ssize_t n = read(fd, req + len, cap - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	return (ssize_t)len;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void respond(int fd, int status, const char *reason, const char *type, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, reason, type, len);
	write_all(fd, head, (size_t)n);
	write_all(fd, body, len);
}

static void serve_one(struct metrics_http *h, int fd)
{
	char req[REQUEST_MAX];
	if (read_request(fd, req, sizeof(req)) < 0)
		return;
	char method[8], path[256];
	if (sscanf(req, "%7s %255s", method, path) != 2) {
		respond(fd, 400, "Bad Request", "text/plain", "bad request\n", 12);
		return;
	}
	if (strcmp(method, "GET") != 0) {
		respond(fd, 405, "Method Not Allowed", "text/plain", "GET only\n", 9);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		struct buf b;
		buf_init(&b);
		metrics_render(h->m, &b);
		if (!b.failed)
			respond(fd, 200, "OK", "text/plain; version=0.0.4", b.data ? b.data : "", b.len);
		buf_free(&b);
	} else if (strcmp(path, "/health") == 0) {
		int ok = metrics_last_pass_ok(h->m);
		const char *body = ok == 1 ? "{\"status\":\"ok\"}\n"
				   : ok == 0 ? "{\"status\":\"failed\"}\n"
					     : "{\"status\":\"starting\"}\n";
		respond(fd, ok == 0 ? 503 : 200, ok == 0 ? "Service Unavailable" : "OK", "application/json", body,
			strlen(body));
	} else {
		respond(fd, 404, "Not Found", "text/plain", "not found\n", 10);
	}
}

static void *run(void *arg)
{
	struct metrics_http *h = arg;
	for (;;) {
		struct pollfd p[2] = { { .fd = h->fd, .events = POLLIN }, { .fd = h->wake[0], .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int c = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve_one(h, c);
		close(c);
	}
	return NULL;
}

struct metrics_http *metrics_http_start(const char *listen, struct metrics *m, const struct logger *lg, char *err,
					size_t errlen)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->m = m;
	h->lg = lg;
	h->wake[0] = h->wake[1] = -1;
	h->fd = listen_on(listen, err, errlen);
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
	write_all(h->wake[1], &c, 1);
	pthread_join(h->thread, NULL);
	close(h->fd);
	close(h->wake[0]);
	close(h->wake[1]);
	free(h);
}
