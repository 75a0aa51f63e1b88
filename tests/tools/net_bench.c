/* net_bench.c — streams one REQ's worth of events from a relay through the network layer and prints the rate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/log.h"
#include "core/util.h"
#include "net/relay.h"

/*
 * usage: net_bench URL LIMIT [direct|helper|socks HOST:PORT]
 *   direct  lws connects to the relay itself, no helper (the baseline)
 *   helper  through the in-process helper, which connects directly ([tor] socks_proxy empty)
 *   socks   through the helper and the SOCKS5 proxy at HOST:PORT
 * Sends ["REQ","b",{"limit":LIMIT}], counts EVENT messages until EOSE, and prints
 * "events=N bytes=B seconds=S rate=R cpu=C" (events per second from the REQ to the EOSE; C is
 * the CPU seconds, user and system, of the whole process: lws thread and helper thread).
 * Exits 1 when the stream did not end with EOSE.
 */

struct run {
	uint64_t t0, t1;
	unsigned long events, bytes;
	int eose;
	char req[96];
	char reason[300];
};

static void b_open(struct relay_conn *c, void *user, long long rtt)
{
	(void)rtt;
	struct run *r = user;
	r->t0 = mono_ms();
	relay_conn_send(c, r->req, strlen(r->req), 1);
}

static void b_message(struct relay_conn *c, void *user, const char *text, size_t len)
{
	struct run *r = user;
	if (strncmp(text, "[\"EVENT\"", 8) == 0) {
		r->events++;
		r->bytes += len;
	} else if (strncmp(text, "[\"EOSE\"", 7) == 0) {
		r->t1 = mono_ms();
		r->eose = 1;
		relay_conn_close(c);
	}
}

static void b_close(struct relay_conn *c, void *user, const struct relay_conn_status *st)
{
	(void)c;
	struct run *r = user;
	snprintf(r->reason, sizeof(r->reason), "%s", st->reason);
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[3], "socks") == 0 && argc < 5)) {
		fprintf(stderr, "usage: net_bench URL LIMIT direct|helper|socks HOST:PORT\n");
		return 2;
	}
	static const struct relay_conn_ops ops = { b_open, b_message, NULL, b_close };
	struct net_options o;
	memset(&o, 0, sizeof(o));
	o.socks_proxy = strcmp(argv[3], "socks") == 0 ? argv[4] : "";
	o.no_helper = strcmp(argv[3], "direct") == 0;
	for (int i = 0; i < NET_NETWORKS; i++)
		o.limits[i] = (struct net_limits){ .max_connections = 4, .connect_timeout_ms = 10000,
						   .tls_timeout_ms = 10000, .upgrade_timeout_ms = 10000,
						   .response_timeout_ms = 60000, .idle_timeout_ms = 60000 };
	o.max_message_size = 1 << 20;
	o.nip11_max_size = 65536;
	o.max_tunnels = 16;
	o.allow_local = 1;
	struct log_options lo = { .level = LOG_WARN };
	char err[256];
	struct log_sink *sink = log_sink_new(&lo, err, sizeof(err));
	struct logger lg = { sink, "bench" };
	struct net *n = net_new(&o, &lg, NULL, err, sizeof(err));
	if (!n) {
		fprintf(stderr, "net_bench: %s\n", err);
		return 1;
	}
	struct run r = { 0 };
	snprintf(r.req, sizeof(r.req), "[\"REQ\",\"b\",{\"limit\":%s}]", argv[2]);
	relay_conn_open(n, argv[1], NET_CLEARNET, &ops, &r, NULL);
	net_run(n, NULL, -1);
	net_free(n);
	log_sink_free(sink);
	if (!r.eose) {
		fprintf(stderr, "net_bench: no EOSE: %s\n", r.reason);
		return 1;
	}
	double s = (double)(r.t1 - r.t0) / 1000.0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		     ru.ru_stime.tv_usec / 1e6;
	printf("events=%lu bytes=%lu seconds=%.3f rate=%.0f cpu=%.3f\n", r.events, r.bytes, s,
	       s > 0 ? r.events / s : 0.0, cpu);
	return 0;
}
