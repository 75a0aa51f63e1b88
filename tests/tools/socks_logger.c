/* socks_logger.c — a SOCKS5 server for tests: logs every CONNECT (ATYP, host, port, credentials), maps names, fails on demand. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * usage: socks_logger [options]
 *   --port N             listen on 127.0.0.1:N (0: any free port; the default)
 *   --log FILE           one line per CONNECT: "connect atyp=3 host=H port=P method=2 user=U pass=W"
 *   --map NAME=HOST:PORT connect requests for NAME to HOST:PORT instead (e.g. a fake .onion)
 *   --fail NAME=CODE     answer CONNECT for NAME with reply CODE (decimal or 0xNN); NAME * = any
 *   --short NAME=CODE    answer with only VER and CODE, then close
 *   --garbage NAME       answer CONNECT for NAME with bytes that are not a SOCKS reply
 *   --hang NAME          never answer CONNECT for NAME
 *   --no-auth            never choose username/password, even when offered
 *   --reject-auth        choose username/password and then refuse the credentials
 * Unmapped names are resolved here (it is the proxy) and connected to. Prints
 * "ready port=P" once listening. Every connection gets a thread; tests make few.
 */

struct rule {
	char name[256];
	char kind; /* m map, f fail, s short, g garbage, h hang */
	char host[256];
	int port, code;
};

static struct rule rules[64];
static int n_rules, no_auth, reject_auth;
static FILE *logf;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	if (!logf)
		return;
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&log_mu);
	vfprintf(logf, fmt, ap);
	fputc('\n', logf);
	fflush(logf);
	pthread_mutex_unlock(&log_mu);
	va_end(ap);
}

static int read_n(int fd, unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void reply(int fd, int code)
{
	unsigned char r[10] = { 5, (unsigned char)code, 0, 1, 0, 0, 0, 0, 0, 0 };
	ssize_t w = write(fd, r, sizeof(r));
	(void)w;
}

static const struct rule *find(const char *host, char kind)
{
	for (int i = 0; i < n_rules; i++)
		if (rules[i].kind == kind && (strcmp(rules[i].name, host) == 0 || strcmp(rules[i].name, "*") == 0))
			return &rules[i];
	return NULL;
}

static int dial(const char *host, int port)
{
	char ps[8];
	snprintf(ps, sizeof(ps), "%d", port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	if (getaddrinfo(host, ps, &hints, &ai) != 0)
		return -1;
	int fd = -1;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd;
}

static void pump(int a, int b)
{
	unsigned char buf[16384];
	struct pollfd p[2] = { { a, POLLIN, 0 }, { b, POLLIN, 0 } };
	for (;;) {
		if (poll(p, 2, -1) < 0)
			return;
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			ssize_t n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0)
				return;
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(p[1 - i].fd, buf + off, (size_t)(n - off));
				if (w <= 0)
					return;
				off += w;
			}
		}
	}
}

/* Greeting and optional RFC 1929 auth. Returns the chosen method, or -1. */
static int negotiate(int fd, char *user, char *pass)
{
	unsigned char h[2], methods[255], b[2];
	int offered_auth = 0;
	if (read_n(fd, h, 2) < 0 || h[0] != 5 || read_n(fd, methods, h[1]) < 0)
		return -1;
	for (int i = 0; i < h[1]; i++)
		offered_auth |= methods[i] == 2;
	int method = offered_auth && !no_auth ? 2 : 0;
	unsigned char choice[2] = { 5, (unsigned char)method };
	if (write(fd, choice, 2) != 2)
		return -1;
	if (method != 2)
		return method;
	unsigned char ul, pl;
	if (read_n(fd, b, 2) < 0 || b[0] != 1)
		return -1;
	ul = b[1];
	if (read_n(fd, (unsigned char *)user, ul) < 0 || read_n(fd, &pl, 1) < 0 ||
	    read_n(fd, (unsigned char *)pass, pl) < 0)
		return -1;
	user[ul] = pass[pl] = '\0';
	unsigned char st[2] = { 1, (unsigned char)(reject_auth ? 1 : 0) };
	if (write(fd, st, 2) != 2 || reject_auth)
		return -1;
	return 2;
}

/* The CONNECT request: fills host (text) and port, returns the ATYP, or -1. */
static int request(int fd, char *host, int *port)
{
	unsigned char h[4], len, a[16], p[2];
	if (read_n(fd, h, 4) < 0 || h[0] != 5 || h[1] != 1)
		return -1;
	if (h[3] == 3) {
		if (read_n(fd, &len, 1) < 0 || read_n(fd, (unsigned char *)host, len) < 0)
			return -1;
		host[len] = '\0';
	} else if (h[3] == 1 || h[3] == 4) {
		if (read_n(fd, a, h[3] == 1 ? 4 : 16) < 0)
			return -1;
		inet_ntop(h[3] == 1 ? AF_INET : AF_INET6, a, host, 256);
	} else {
		return -1;
	}
	if (read_n(fd, p, 2) < 0)
		return -1;
	*port = p[0] << 8 | p[1];
	return h[3];
}

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg, up = -1, port, atyp, method;
	char user[256] = "", pass[256] = "", host[256];
	const struct rule *r;
	if ((method = negotiate(fd, user, pass)) < 0 || (atyp = request(fd, host, &port)) < 0)
		goto out;
	logline("connect atyp=%d host=%s port=%d method=%d user=%s pass=%s", atyp, host, port, method, user, pass);
	if ((r = find(host, 'h'))) {
		char c;
		while (read(fd, &c, 1) > 0)
			;
		goto out;
	}
	if ((r = find(host, 'g'))) {
		ssize_t w = write(fd, "HTTP/1.0 400 nope\r\n\r\n", 21);
		(void)w;
		goto out;
	}
	if ((r = find(host, 's'))) {
		unsigned char s[2] = { 5, (unsigned char)r->code };
		ssize_t w = write(fd, s, 2);
		(void)w;
		goto out;
	}
	if ((r = find(host, 'f'))) {
		reply(fd, r->code);
		goto out;
	}
	r = find(host, 'm');
	up = r ? dial(r->host, r->port) : dial(host, port);
	if (up < 0) {
		reply(fd, 5);
		goto out;
	}
	reply(fd, 0);
	pump(fd, up);
out:
	if (up >= 0)
		close(up);
	close(fd);
	return NULL;
}

static void add_rule(char kind, const char *arg)
{
	if (n_rules == (int)(sizeof(rules) / sizeof(rules[0]))) {
		fprintf(stderr, "socks_logger: too many rules\n");
		exit(2);
	}
	struct rule *r = &rules[n_rules++];
	r->kind = kind;
	const char *eq = strchr(arg, '=');
	snprintf(r->name, sizeof(r->name), "%.*s", (int)(eq ? eq - arg : (long)strlen(arg)), arg);
	if (kind == 'm') {
		const char *colon = eq ? strrchr(eq, ':') : NULL;
		if (!colon) {
			fprintf(stderr, "socks_logger: --map NAME=HOST:PORT\n");
			exit(2);
		}
		snprintf(r->host, sizeof(r->host), "%.*s", (int)(colon - eq - 1), eq + 1);
		r->port = atoi(colon + 1);
	} else if (kind == 'f' || kind == 's') {
		if (!eq) {
			fprintf(stderr, "socks_logger: --fail/--short NAME=CODE\n");
			exit(2);
		}
		r->code = (int)strtol(eq + 1, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", 1, 0, 'p' }, { "log", 1, 0, 'l' }, { "map", 1, 0, 'm' }, { "fail", 1, 0, 'f' },
		{ "short", 1, 0, 's' }, { "garbage", 1, 0, 'g' }, { "hang", 1, 0, 'h' }, { "no-auth", 0, 0, 'n' },
		{ "reject-auth", 0, 0, 'r' }, { 0, 0, 0, 0 },
	};
	int c, port = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'l':
			if (!(logf = fopen(optarg, "a"))) {
				perror(optarg);
				return 2;
			}
			break;
		case 'n': no_auth = 1; break;
		case 'r': reject_auth = 1; break;
		case 'm': case 'f': case 's': case 'g': case 'h': add_rule((char)c, optarg); break;
		default: fprintf(stderr, "socks_logger: bad arguments (see the top of socks_logger.c)\n"); return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 64) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0) {
		perror("socks_logger: listen");
		return 1;
	}
	printf("ready port=%d\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		pthread_t t;
		if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) != 0)
			close(fd);
		else
			pthread_detach(t);
	}
}
