/* helper_int.h — private structures shared by helper.c (thread, tickets) and tunnel.c (one tunnel's state machine). */
#ifndef BROTR_NET_HELPER_INT_H
#define BROTR_NET_HELPER_INT_H

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "net/helper.h"
#include "net/http_connect.h"
#include "net/resolver.h"
#include "net/socks5.h"

#define C2U_BUF 16384          /* lws to the relay: requests, small; allocated once established */
#define U2C_BUF 65536          /* the relay to lws: the event stream, read in large pieces */
#define REQUEST_TIMEOUT_MS 2000 /* lws sends its CONNECT at once: a silent local stranger is cut soon */
#define DRAIN_TIMEOUT_MS 5000  /* after one side ends, time to flush what the other is owed */
#define SPARE_SLOTS 8          /* accepted connections beyond max_tunnels */
#define ACCEPT_PAUSE_MS 100    /* out of descriptors: the listener rests this long (or until a slot frees) */

enum tunnel_phase {
	TP_REQUEST,     /* reading lws' CONNECT request */
	TP_RESOLVING,   /* direct mode: waiting for the resolver pool */
	TP_CONNECTING,  /* TCP connect to the proxy, or to the relay in direct mode */
	TP_SOCKS_METHOD,
	TP_SOCKS_AUTH,
	TP_SOCKS_REPLY,
	TP_ANSWERING,   /* sending our answer to lws: 200 then relay, or an error then close */
	TP_RELAY,
	TP_DRAINING,    /* one side ended: flush the other, then close */
};

struct tunnel {
	int cfd, ufd;              /* lws' side, the upstream side; -1 when closed */
	enum tunnel_phase phase;
	uint32_t ticket;           /* 0 until the request names one */
	uint64_t deadline;         /* mono ms: the current phase must end by then */
	uint64_t attempt_deadline; /* direct mode: this connect attempt's share of the deadline */
	uint64_t tag;              /* resolver tag, unique per tunnel */
	char host[256];
	int port;
	char user[256], pass[256];
	int with_auth;
	uint8_t in[HTTP_CONNECT_MAX + 1]; /* handshake bytes received */
	size_t in_len;
	uint8_t out[SOCKS5_AUTH_MAX + 8]; /* handshake bytes to send upstream */
	size_t out_len, out_off;
	const char *answer;        /* to lws, in TP_ANSWERING */
	size_t answer_off;
	int answer_ok;             /* 200: relay afterwards; else close */
	struct addrinfo *ai, *next_ai; /* direct mode candidates */
	int candidates_left;
	char attempt[80];          /* the address being connected to, for messages */
	char last_err[160];
	uint8_t *c2u, *u2c;        /* relay buffers, C2U_BUF and U2C_BUF bytes */
	size_t c2u_len, u2c_len;
};

struct ticket {
	uint16_t gen;              /* 0: free */
	int claimed;               /* a tunnel took it (one CONNECT per ticket) */
	char host[256];
	int port;
	char user[256], pass[256];
	int with_auth;
	uint64_t deadline;
	struct helper_ticket_status st;
};

struct helper {
	int lfd;
	int wake[2];
	pthread_t thread;
	int thread_started;
	atomic_int stop;
	char spec[128];            /* brotr:<secret>@127.0.0.1:<port> */
	char auth[64];             /* brotr:<secret> */
	int direct;
	struct sockaddr_storage proxy;
	socklen_t proxy_len;
	char proxy_name[300];
	int allow_local;
	struct logger log;
	struct metrics *metrics;
	struct metric *m_active;
	struct resolver *resolver;

	pthread_mutex_t mu;        /* guards tickets */
	struct ticket *tickets;
	size_t n_tickets;
	uint16_t next_gen;

	/* helper thread only */
	struct tunnel **tunnels;
	size_t n_slots;
	uint64_t serial;
	struct pollfd *pfds;
	uint64_t *pfd_tag;         /* for a tunnel's first pfds entry, its tag (slot in the low 16 bits) */
	size_t active;
	uint64_t accept_paused_until; /* mono ms; 0: the listener is polled */
	_Atomic uint64_t wakeups;     /* poll rounds, read by the no-busy-loop tests */
	struct metric *m_evicted, *m_refused;
};

/* tunnel.c */
struct tunnel *tunnel_new(int cfd, uint64_t tag);
void tunnel_free(struct tunnel *t);
/* Poll interest of each side (0 when the fd is closed). */
short tunnel_events_c(const struct tunnel *t);
short tunnel_events_u(const struct tunnel *t);
/* Handles readiness of lws' side (crev) and the upstream side (urev). Returns -1 when the tunnel is done. */
int tunnel_io(struct helper *h, struct tunnel *t, short crev, short urev);
/* The deadline passed. Returns -1 when the tunnel is done. */
int tunnel_timeout(struct helper *h, struct tunnel *t);
/* A resolver result for this tunnel. Returns -1 when the tunnel is done. */
int tunnel_resolved(struct helper *h, struct tunnel *t, struct resolver_result *r);

/* helper.c, for tunnel.c: ticket access under the lock. */
/* Claims the ticket named by token; copies its destination into t. Returns 0, or -1 with a reason. */
int helper_claim(struct helper *h, const char *token, struct tunnel *t, const char **why);
void helper_ticket_set(struct helper *h, uint32_t id, enum helper_ticket_state state, enum net_error err,
		       int socks_reply, const char *reason);

#endif
