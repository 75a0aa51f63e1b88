/* tunnel.c — one helper tunnel: lws' CONNECT request, SOCKS5 or direct connect, the one-send answer, then relaying. */
#include "net/helper_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "net/addr.h"

static const char ANSWER_OK[] = "HTTP/1.1 200 Connection established\r\n\r\n";
static const char ANSWER_BAD_REQUEST[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
static const char ANSWER_FORBIDDEN[] = "HTTP/1.1 403 Forbidden\r\n\r\n";
static const char ANSWER_AUTH[] = "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n";
static const char ANSWER_FAILED[] = "HTTP/1.1 502 Bad Gateway\r\n\r\n";
static const char ANSWER_TIMEOUT[] = "HTTP/1.1 504 Gateway Timeout\r\n\r\n";

static void nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

struct tunnel *tunnel_new(int cfd, uint64_t tag)
{
	struct tunnel *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cfd = cfd;
	t->ufd = -1;
	t->tag = tag;
	t->phase = TP_REQUEST;
	nodelay(cfd);
	return t;
}

void tunnel_free(struct tunnel *t)
{
	if (!t)
		return;
	if (t->cfd >= 0)
		close(t->cfd);
	if (t->ufd >= 0)
		close(t->ufd);
	if (t->ai)
		freeaddrinfo(t->ai);
	free(t->c2u);
	free(t->u2c);
	explicit_bzero(t, sizeof(*t)); /* the request held the process secret, and isolation credentials */
	free(t);
}

short tunnel_events_c(const struct tunnel *t)
{
	switch (t->phase) {
	case TP_ANSWERING:
		return POLLOUT;
	case TP_RELAY:
		return (short)((t->c2u_len < C2U_BUF ? POLLIN : 0) | (t->u2c_len ? POLLOUT : 0));
	case TP_DRAINING:
		return t->u2c_len ? POLLOUT : 0;
	default:
		return POLLIN; /* the request, or lws giving up while we connect */
	}
}

short tunnel_events_u(const struct tunnel *t)
{
	switch (t->phase) {
	case TP_CONNECTING:
		return POLLOUT;
	case TP_SOCKS_METHOD:
	case TP_SOCKS_AUTH:
	case TP_SOCKS_REPLY:
		return t->out_off < t->out_len ? POLLOUT : POLLIN;
	case TP_RELAY:
		return (short)((t->u2c_len < U2C_BUF ? POLLIN : 0) | (t->c2u_len ? POLLOUT : 0));
	case TP_DRAINING:
		return t->c2u_len ? POLLOUT : 0;
	default:
		return 0;
	}
}

/* Sends what is left of the answer; then relays (200) or ends the tunnel (anything else). */
static int send_answer(struct tunnel *t)
{
	size_t n = strlen(t->answer);
	while (t->answer_off < n) {
		ssize_t w = send(t->cfd, t->answer + t->answer_off, n - t->answer_off, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		t->answer_off += (size_t)w;
	}
	if (!t->answer_ok)
		return -1;
	t->phase = TP_RELAY;
	t->deadline = 0;
	return 0;
}

static int answer(struct tunnel *t, const char *text, int ok)
{
	t->answer = text;
	t->answer_off = 0;
	t->answer_ok = ok;
	t->phase = TP_ANSWERING;
	t->deadline = mono_ms() + DRAIN_TIMEOUT_MS;
	t->attempt_deadline = 0;
	return send_answer(t);
}

/* Records why the tunnel failed in its ticket (before lws can see the answer), then answers. */
static int fail(struct helper *h, struct tunnel *t, enum net_error err, int rep, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fail(struct helper *h, struct tunnel *t, enum net_error err, int rep, const char *fmt, ...)
{
	char reason[224];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (t->ticket)
		helper_ticket_set(h, t->ticket, TICKET_FAILED, err, rep, reason);
	log_debug(&h->log, "tunnel failed", LOG_S("host", t->host), LOG_I("port", t->port),
		  LOG_S("error", net_error_name(err)), LOG_S("reason", reason));
	if (h->metrics) {
		char labels[64];
		metric_add(metrics_get(h->metrics, METRIC_COUNTER, "net_tunnel_failures_total",
				       "Tunnels the SOCKS5 helper could not establish, by category.",
				       metrics_labels(labels, sizeof(labels), "error", net_error_name(err), NULL)),
			   1);
	}
	if (t->ufd >= 0) {
		close(t->ufd);
		t->ufd = -1;
	}
	return answer(t, err == NET_ERR_TIMEOUT ? ANSWER_TIMEOUT : ANSWER_FAILED, 0);
}

static int established(struct helper *h, struct tunnel *t)
{
	t->c2u = malloc(C2U_BUF);
	t->u2c = malloc(U2C_BUF);
	if (!t->c2u || !t->u2c)
		return fail(h, t, NET_ERR_LIMIT, -1, "out of memory for the tunnel's buffers");
	helper_ticket_set(h, t->ticket, TICKET_ESTABLISHED, NET_OK, -1, "");
	return answer(t, ANSWER_OK, 1); /* one send: lws reads the answer in a single recv() */
}

/* Writes the pending handshake bytes upstream. Returns 0, or -1 on error (reported). */
static int flush_out(struct helper *h, struct tunnel *t)
{
	while (t->out_off < t->out_len) {
		ssize_t w = send(t->ufd, t->out + t->out_off, t->out_len - t->out_off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return fail(h, t, NET_ERR_PROXY, -1, "SOCKS proxy %s: write failed: %s", h->proxy_name,
				    strerror(errno));
		}
		t->out_off += (size_t)w;
	}
	return 0;
}

static int queue_out(struct helper *h, struct tunnel *t, size_t len, enum tunnel_phase next)
{
	t->out_len = len;
	t->out_off = 0;
	t->in_len = 0;
	t->phase = next;
	return flush_out(h, t);
}

static int send_connect(struct helper *h, struct tunnel *t)
{
	size_t n = socks5_connect_request(t->out, sizeof(t->out), t->host, (uint16_t)t->port);
	if (!n)
		return fail(h, t, NET_ERR_URL, -1, "host name too long for SOCKS5");
	return queue_out(h, t, n, TP_SOCKS_REPLY);
}

/* Starts a non-blocking connect. Returns 0 (in progress or done), or -1 with t->last_err set. */
static int start_connect(struct tunnel *t, const struct sockaddr *sa, socklen_t len)
{
	net_addr_format(sa, t->attempt, sizeof(t->attempt));
	t->ufd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->ufd >= 0) {
		nodelay(t->ufd);
		if (connect(t->ufd, sa, len) == 0 || errno == EINPROGRESS) {
			t->phase = TP_CONNECTING;
			return 0;
		}
	}
	snprintf(t->last_err, sizeof(t->last_err), "%s: %s", t->attempt, strerror(errno));
	if (t->ufd >= 0)
		close(t->ufd);
	t->ufd = -1;
	return -1;
}

/* This host ran out of descriptors or memory: nothing to say about the destination. */
static int local_shortage(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

/* Direct mode: tries the next allowed address, sharing the time left among those remaining. */
static int try_next(struct helper *h, struct tunnel *t)
{
	while (t->next_ai) {
		struct addrinfo *ai = t->next_ai;
		t->next_ai = ai->ai_next;
		if (!h->allow_local && net_addr_is_local(ai->ai_addr))
			continue;
		int share = t->candidates_left--;
		if (start_connect(t, ai->ai_addr, ai->ai_addrlen) == 0) {
			uint64_t now = mono_ms();
			uint64_t left = t->deadline > now ? t->deadline - now : 0;
			t->attempt_deadline = share > 1 ? now + left / (uint64_t)share : 0;
			return 0;
		}
		if (local_shortage(errno))
			return fail(h, t, NET_ERR_LIMIT, -1, "cannot open a socket here: %s", strerror(errno));
	}
	return fail(h, t, NET_ERR_CONNECT, -1, "connect failed: %s", t->last_err);
}

int tunnel_resolved(struct helper *h, struct tunnel *t, struct resolver_result *r)
{
	if (r->gai_err == EAI_MEMORY || (r->gai_err == EAI_SYSTEM && local_shortage(r->sys_errno)))
		return fail(h, t, NET_ERR_LIMIT, -1, "the DNS lookup could not run here: %s",
			    r->gai_err == EAI_MEMORY ? gai_strerror(r->gai_err) : strerror(r->sys_errno));
	if (r->gai_err)
		return fail(h, t, NET_ERR_DNS, -1, "DNS: %s", gai_strerror(r->gai_err));
	t->ai = t->next_ai = r->ai;
	char first[80] = "";
	for (struct addrinfo *ai = r->ai; ai; ai = ai->ai_next) {
		if (!first[0])
			net_addr_format(ai->ai_addr, first, sizeof(first));
		if (h->allow_local || !net_addr_is_local(ai->ai_addr))
			t->candidates_left++;
	}
	if (!t->candidates_left)
		return fail(h, t, NET_ERR_LOCAL, -1, "the name resolves only to local addresses (%s) and [network] allow_local is off",
			    first);
	return try_next(h, t);
}

/* lws' CONNECT request: check the secret, claim the ticket, start the upstream side. */
static int on_request(struct helper *h, struct tunnel *t)
{
	ssize_t n = recv(t->cfd, t->in + t->in_len, sizeof(t->in) - t->in_len, 0);
	if (n <= 0)
		return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	t->in_len += (size_t)n;
	struct http_connect_req req;
	size_t used;
	enum parse_result pr = http_connect_parse((const char *)t->in, t->in_len, &req, &used);
	if (pr == PARSE_NEED_MORE)
		return 0;
	if (pr == PARSE_INVALID || used != t->in_len) {
		log_warn(&h->log, "helper refused a malformed CONNECT request", LOG_U("bytes", t->in_len));
		return answer(t, ANSWER_BAD_REQUEST, 0);
	}
	size_t al = strlen(h->auth);
	int authentic = req.has_auth && strlen(req.auth) == al && CRYPTO_memcmp(req.auth, h->auth, al) == 0;
	explicit_bzero(req.auth, sizeof(req.auth));
	explicit_bzero(t->in, t->in_len);
	if (!authentic) {
		log_warn(&h->log, "helper refused a connection without the process secret");
		return answer(t, ANSWER_AUTH, 0);
	}
	const char *why;
	if (helper_claim(h, req.host, t, &why) < 0) {
		log_warn(&h->log, "helper refused a CONNECT request", LOG_S("token", req.host), LOG_S("reason", why));
		return answer(t, ANSWER_FORBIDDEN, 0);
	}
	if (req.port != t->port)
		return fail(h, t, NET_ERR_LIMIT, -1, "CONNECT port %d does not match the ticket's %d", req.port,
			    t->port);
	t->in_len = 0;
	if (h->direct) {
		t->phase = TP_RESOLVING;
		if (resolver_submit(h->resolver, t->tag, t->host, t->port) < 0)
			return fail(h, t, NET_ERR_LIMIT, -1, "too many DNS lookups in progress");
		return 0;
	}
	if (start_connect(t, (const struct sockaddr *)&h->proxy, h->proxy_len) < 0)
		return fail(h, t, NET_ERR_PROXY, -1, "SOCKS proxy %s unreachable: %s", h->proxy_name, t->last_err);
	return 0;
}

static int on_connected(struct helper *h, struct tunnel *t)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(t->ufd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return 0;
	if (err) {
		close(t->ufd);
		t->ufd = -1;
		if (!h->direct)
			return fail(h, t, NET_ERR_PROXY, -1, "SOCKS proxy %s unreachable: %s", h->proxy_name,
				    strerror(err));
		snprintf(t->last_err, sizeof(t->last_err), "%s: %s", t->attempt, strerror(err));
		return try_next(h, t);
	}
	t->attempt_deadline = 0;
	if (h->direct)
		return established(h, t);
	return queue_out(h, t, socks5_greeting(t->out, t->with_auth), TP_SOCKS_METHOD);
}

/* One SOCKS reply has arrived whole. */
static int on_socks_message(struct helper *h, struct tunnel *t, uint8_t value)
{
	switch (t->phase) {
	case TP_SOCKS_METHOD:
		if (value == SOCKS5_METHOD_NONE)
			return send_connect(h, t);
		{
			size_t n = socks5_auth_request(t->out, sizeof(t->out), t->user, t->pass);
			if (!n)
				return fail(h, t, NET_ERR_PROXY, -1, "SOCKS proxy asked for credentials we cannot send");
			return queue_out(h, t, n, TP_SOCKS_AUTH);
		}
	case TP_SOCKS_AUTH:
		if (value != 0)
			return fail(h, t, NET_ERR_PROXY, -1, "SOCKS proxy %s rejected the isolation credentials (status %u)",
				    h->proxy_name, value);
		return send_connect(h, t);
	default:
		if (value != 0)
			return fail(h, t, NET_ERR_SOCKS, value, "SOCKS: %s (0x%02X)", socks5_reply_reason(value), value);
		return established(h, t);
	}
}

/* Parses what has arrived of the current SOCKS reply; *want gets the bytes still missing. */
static enum parse_result parse_socks(struct tunnel *t, uint8_t *value, size_t *want)
{
	enum parse_result pr;
	size_t need = 2;
	if (t->phase == TP_SOCKS_METHOD)
		pr = socks5_parse_method(t->in, t->in_len, t->with_auth, value);
	else if (t->phase == TP_SOCKS_AUTH)
		pr = socks5_parse_auth(t->in, t->in_len, value);
	else
		pr = socks5_parse_reply(t->in, t->in_len, value, &need);
	*want = need > t->in_len ? need - t->in_len : 0;
	return pr;
}

/* Reads exactly the reply, never a byte past it: after the 200, the bytes belong to lws. */
static int on_socks_read(struct helper *h, struct tunnel *t)
{
	uint8_t value = 0;
	size_t want;
	parse_socks(t, &value, &want);
	ssize_t n = recv(t->ufd, t->in + t->in_len, want ? want : 1, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		if (t->phase == TP_SOCKS_REPLY && t->in_len >= 2 && t->in[0] == SOCKS5_VERSION && t->in[1] != 0)
			return fail(h, t, NET_ERR_SOCKS, t->in[1], "SOCKS: %s (0x%02X)", socks5_reply_reason(t->in[1]),
				    t->in[1]);
		return fail(h, t, NET_ERR_PROXY, -1, "SOCKS proxy %s closed the connection during the handshake%s%s",
			    h->proxy_name, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
	}
	t->in_len += (size_t)n;
	enum parse_result pr = parse_socks(t, &value, &want);
	if (pr == PARSE_NEED_MORE)
		return 0;
	if (pr == PARSE_INVALID) {
		if (t->phase == TP_SOCKS_METHOD && t->in_len >= 2 && t->in[1] == SOCKS5_METHOD_REJECTED)
			return fail(h, t, NET_ERR_PROXY, -1, "SOCKS proxy %s accepted none of our authentication methods",
				    h->proxy_name);
		return fail(h, t, NET_ERR_PROXY, -1, "SOCKS proxy %s sent a malformed reply", h->proxy_name);
	}
	return on_socks_message(h, t, value);
}

/* Reads from fd into buf (cap bytes). Returns 1 data or nothing to do, 0 end of stream, -1 error. */
static int fill(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	if (*len >= cap)
		return 1;
	ssize_t n = recv(fd, buf + *len, cap - *len, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 1 : -1;
	*len += (size_t)n;
	return n > 0;
}

/* Writes buf to fd as far as it goes; keeps the rest at the front. Returns 0, or -1 on error. */
static int drain(int fd, uint8_t *buf, size_t *len)
{
	if (!*len)
		return 0;
	ssize_t n = send(fd, buf, *len, MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	memmove(buf, buf + n, *len - (size_t)n);
	*len -= (size_t)n;
	return 0;
}

static int relay(struct tunnel *t, short crev, short urev)
{
	int ended = 0;
	if (t->phase == TP_RELAY && (crev & (POLLIN | POLLHUP | POLLERR))) {
		int r = fill(t->cfd, t->c2u, C2U_BUF, &t->c2u_len);
		if (r < 0)
			return -1;
		ended |= r == 0;
	}
	if (t->phase == TP_RELAY && (urev & (POLLIN | POLLHUP | POLLERR))) {
		int r = fill(t->ufd, t->u2c, U2C_BUF, &t->u2c_len);
		if (r < 0)
			return -1;
		ended |= r == 0;
	}
	if (drain(t->ufd, t->c2u, &t->c2u_len) < 0 || drain(t->cfd, t->u2c, &t->u2c_len) < 0)
		return -1;
	if (ended) {
		t->phase = TP_DRAINING;
		t->deadline = mono_ms() + DRAIN_TIMEOUT_MS;
	}
	if (t->phase == TP_DRAINING && !t->c2u_len && !t->u2c_len)
		return -1;
	return 0;
}

/*
 * Once the answer is under way, a side that hung up or failed takes and gives no more bytes,
 * and poll reports it on every round whatever the events asked: with a full buffer nothing
 * would read it away, and the loop would spin. So it is settled here, after relay() has read
 * what it could. lws gone: the tunnel ends. The relay gone: lws gets what is buffered for it.
 */
static int hung_up(struct tunnel *t, short crev, short urev)
{
	if (crev & (POLLHUP | POLLERR))
		return -1;
	if (!(urev & (POLLHUP | POLLERR)) || t->ufd < 0)
		return 0;
	if (t->phase == TP_ANSWERING)
		return -1;
	close(t->ufd);
	t->ufd = -1;
	t->c2u_len = 0;
	if (t->phase == TP_RELAY) {
		t->phase = TP_DRAINING;
		t->deadline = mono_ms() + DRAIN_TIMEOUT_MS;
	}
	return t->u2c_len ? 0 : -1;
}

/* Before the answer, lws' side only ever speaks to give up (EOF) or by mistake. */
static int client_spoke(struct tunnel *t, short crev)
{
	if (!(crev & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	char c;
	ssize_t n = recv(t->cfd, &c, 1, MSG_PEEK);
	return !(n < 0 && (errno == EAGAIN || errno == EINTR));
}

int tunnel_io(struct helper *h, struct tunnel *t, short crev, short urev)
{
	switch (t->phase) {
	case TP_REQUEST:
		return on_request(h, t);
	case TP_ANSWERING:
		return send_answer(t) < 0 ? -1 : hung_up(t, crev, urev);
	case TP_RELAY:
	case TP_DRAINING:
		return relay(t, crev, urev) < 0 ? -1 : hung_up(t, crev, urev);
	default:
		break;
	}
	if (client_spoke(t, crev))
		return -1; /* lws gave up (its own timeout); the ticket keeps what we knew */
	if (t->phase == TP_CONNECTING)
		return urev ? on_connected(h, t) : 0;
	if (t->phase == TP_RESOLVING || !urev)
		return 0;
	if (t->out_off < t->out_len)
		return flush_out(h, t);
	return on_socks_read(h, t);
}

int tunnel_timeout(struct helper *h, struct tunnel *t)
{
	uint64_t now = mono_ms();
	switch (t->phase) {
	case TP_REQUEST:
	case TP_ANSWERING:
	case TP_DRAINING:
		return -1;
	case TP_RESOLVING:
		return fail(h, t, NET_ERR_TIMEOUT, -1, "timeout: the DNS lookup took longer than the connect timeout");
	case TP_CONNECTING:
		if (h->direct && now < t->deadline) { /* this address's share is used up: next one */
			close(t->ufd);
			t->ufd = -1;
			snprintf(t->last_err, sizeof(t->last_err), "%s: timed out", t->attempt);
			return try_next(h, t);
		}
		if (h->direct)
			return fail(h, t, NET_ERR_TIMEOUT, -1, "timeout connecting to the relay");
		return fail(h, t, NET_ERR_TIMEOUT, -1, "timeout connecting to the SOCKS proxy %s", h->proxy_name);
	case TP_SOCKS_METHOD:
	case TP_SOCKS_AUTH:
		return fail(h, t, NET_ERR_TIMEOUT, -1, "timeout in the SOCKS handshake with %s", h->proxy_name);
	case TP_SOCKS_REPLY:
		/* No relay name here: reasons are stored with the relay's snapshot, and identical
		 * outcomes of different relays must share one document. */
		return fail(h, t, NET_ERR_TIMEOUT, -1,
			    "timeout: SOCKS proxy %s did not answer CONNECT within the connect timeout", h->proxy_name);
	default:
		return 0;
	}
}
