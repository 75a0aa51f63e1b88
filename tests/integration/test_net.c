/* test_net.c — the network layer against real servers: fixture relays, microsocks, a logging SOCKS5 server, a black hole. */
#include <check.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "net/helper.h"
#include "net/nip11.h"
#include "net/relay.h"
#include "net/socks5.h"
#include "procs.h"

#define N_EVENTS 5
#define ONION "brotrfixturexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxiqdyd.onion"

/* ---- every name this process resolves (the proof of privacy), recorded by interposition ---- */

static pthread_mutex_t res_mu = PTHREAD_MUTEX_INITIALIZER;
static char resolved[256][128];
static int n_resolved;

static void record_name(const char *name)
{
	pthread_mutex_lock(&res_mu);
	if (name && n_resolved < 256)
		snprintf(resolved[n_resolved++], sizeof(resolved[0]), "%s", name);
	pthread_mutex_unlock(&res_mu);
}

static int was_resolved(const char *name)
{
	int hit = 0;
	pthread_mutex_lock(&res_mu);
	for (int i = 0; i < n_resolved; i++)
		hit |= strcmp(resolved[i], name) == 0;
	pthread_mutex_unlock(&res_mu);
	return hit;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
	int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
		(int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))dlsym(RTLD_NEXT,
													  "getaddrinfo");
	record_name(node);
	return real(node, service, hints, res);
}

struct hostent *gethostbyname(const char *name)
{
	struct hostent *(*real)(const char *) = (struct hostent * (*)(const char *)) dlsym(RTLD_NEXT, "gethostbyname");
	record_name(name);
	return real(name);
}

/* ---- the servers, started once for the whole suite ---- */

enum {
	R_MAIN, R_OVERSIZED, R_FRAGMENTED, R_SILENT, R_CA, R_NIP11_301, R_NIP11_404, R_NIP11_HTML, R_DROPPY, R_BINARY,
	R_DRIBBLE, R_EXPIRED, R_COUNT
};
static struct proc relays[R_COUNT], socks, hole;
static char events_path[256], nip11_path[256], socks_log[256], droppy_log[256], ca_pem[300], pki_dir[256];
static int microsocks_port;
static struct log_sink *sink;
static struct logger lg;

static void write_fixtures(void)
{
	FILE *f = fopen(tmp_path("events.jsonl", events_path, sizeof(events_path)), "w");
	for (int i = 1; i <= N_EVENTS; i++)
		fprintf(f, "{\"id\":\"%064d\",\"pubkey\":\"%064d\",\"created_at\":%d,\"kind\":1,\"tags\":[],"
			   "\"content\":\"event %d \\\"quoted\\\" \\u00e9\",\"sig\":\"%0128d\"}\n",
			i, 7, 1700000000 + i, i, 0);
	fclose(f);
	f = fopen(tmp_path("nip11.json", nip11_path, sizeof(nip11_path)), "w");
	fprintf(f, "{\"name\":\"fixture\",\"description\":\"");
	for (int i = 0; i < 2000; i++)
		fputc('d', f);
	fprintf(f, "\",\"supported_nips\":[1,11]}");
	fclose(f);
}

static void make_certs(void)
{
	char dir[256];
	tmp_path("pki", dir, sizeof(dir));
	ck_assert_int_eq(run_cmd("set -e; mkdir -p %s; cd %s;"
				 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self.key"
				 " -out self.pem -days 2 -subj /CN=localhost"
				 " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null;"
				 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key"
				 " -out ca.pem -days 2 -subj /CN=brotr-test-ca 2>/dev/null;"
				 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key"
				 " -out leaf.csr -subj /CN=relay.test 2>/dev/null;"
				 "printf 'subjectAltName=DNS:relay.test\\n' > leaf.ext;"
				 "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem"
				 " -days 2 -extfile leaf.ext 2>/dev/null;"
				 /* the same CA's certificate for expired.test, valid for one day of 2020 */
				 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout old.key"
				 " -out old.csr -subj /CN=expired.test 2>/dev/null;"
				 "printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=index.txt\\nnew_certs_dir=.\\nserial=serial\\n"
				 "default_md=sha256\\npolicy=p\\n[p]\\ncommonName=supplied\\n' > ca.cnf;"
				 ": > index.txt; echo 01 > serial; printf 'subjectAltName=DNS:expired.test\\n' > old.ext;"
				 "openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in old.csr -out old.pem"
				 " -notext -startdate 20200101000000Z -enddate 20200102000000Z -extfile old.ext 2>/dev/null",
				 dir, dir),
			 0);
	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", dir);
	snprintf(pki_dir, sizeof(pki_dir), "%s", dir);
}

static void start_relay(int i, const char *extra1, const char *extra2, const char *extra3, const char *extra4)
{
	char bin[256], dir[256], cert[300], key[300];
	tmp_path("pki", dir, sizeof(dir));
	const char *name = i == R_CA ? "leaf" : i == R_EXPIRED ? "old" : "self";
	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, name);
	snprintf(key, sizeof(key), "%s/%s.key", dir, name);
	char *argv[24] = { (char *)tool_path("fixture_relay", bin, sizeof(bin)), "--events", events_path, "--nip11",
			   nip11_path, "--tls-port", "0", "--cert", cert, "--key", key };
	int n = 11;
	const char *extra[] = { extra1, extra2, extra3, extra4 };
	for (int k = 0; k < 4; k++)
		if (extra[k])
			argv[n++] = (char *)extra[k];
	ck_assert_int_eq(proc_start(&relays[i], argv), 0);
}

static void start_socks(void)
{
	char bin[256], maps[8][320];
	char *argv[64] = { (char *)tool_path("socks_logger", bin, sizeof(bin)), "--log",
			   (char *)tmp_path("socks.log", socks_log, sizeof(socks_log)) };
	int n = 3;
	const struct {
		const char *name;
		int relay, tls;
	} map[] = { { "relay-a.test", R_MAIN, 0 }, { "relay-b.test", R_MAIN, 0 }, { ONION, R_MAIN, 0 },
		    { "relay.test", R_CA, 1 },     { "wrong.test", R_CA, 1 },     { "expired.test", R_EXPIRED, 1 } };
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const struct proc *r = &relays[map[i].relay];
		snprintf(maps[i], sizeof(maps[i]), "%s=127.0.0.1:%d", map[i].name, map[i].tls ? r->tls_port : r->port);
		argv[n++] = "--map";
		argv[n++] = maps[i];
	}
	static char codes[16][64];
	static const int code_list[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7 };
	for (int i = 0; i < 16; i++) {
		snprintf(codes[i], sizeof(codes[i]), "code-%d.test=%d", code_list[i], code_list[i]);
		argv[n++] = "--fail";
		argv[n++] = codes[i];
	}
	argv[n++] = "--garbage";
	argv[n++] = "garbage.test";
	ck_assert_int_eq(proc_start(&socks, argv), 0);
}

static void servers_up(void)
{
	char bin[256];
	struct log_options lo = { .level = LOG_ERROR, .format = LOG_FORMAT_TEXT };
	char err[256];
	sink = log_sink_new(&lo, err, sizeof(err));
	lg = (struct logger){ sink, "net" };
	const char *ms = getenv("TEST_SOCKS_PORT");
	microsocks_port = ms ? atoi(ms) : 0;
	write_fixtures();
	make_certs();
	start_relay(R_MAIN, NULL, NULL, NULL, NULL);
	start_relay(R_OVERSIZED, "--mode", "oversized", "--oversize", "200000");
	start_relay(R_FRAGMENTED, "--mode", "fragmented", "--fragment", "7");
	start_relay(R_SILENT, "--mode", "silent", NULL, NULL);
	start_relay(R_CA, NULL, NULL, NULL, NULL);
	start_relay(R_NIP11_301, "--nip11-status", "301", "--nip11-location", "https://elsewhere.example/");
	start_relay(R_NIP11_404, "--nip11-status", "404", NULL, NULL);
	start_relay(R_NIP11_HTML, "--nip11-type", "text/html", NULL, NULL);
	tmp_path("droppy.log", droppy_log, sizeof(droppy_log));
	start_relay(R_DROPPY, "--close-after", "1", "--log", droppy_log);
	start_relay(R_BINARY, "--mode", "binary", NULL, NULL);
	start_relay(R_DRIBBLE, "--mode", "dribble", "--dribble-ms", "20");
	start_relay(R_EXPIRED, NULL, NULL, NULL, NULL);
	start_socks();
	char *hargv[] = { (char *)tool_path("tcp_blackhole", bin, sizeof(bin)), NULL };
	ck_assert_int_eq(proc_start(&hole, hargv), 0);
}

static void servers_down(void)
{
	for (int i = 0; i < R_COUNT; i++)
		proc_stop(&relays[i]);
	proc_stop(&socks);
	proc_stop(&hole);
	log_sink_free(sink);
}

/* ---- a client that records what happens ---- */

struct probe {
	const char *req;     /* sent on open (expecting a reply), or NULL */
	int keep_open;       /* do not close after EOSE/CLOSED */
	int opens, closes, events, eose, notices, closed_msgs, dropped;
	long long rtt_open;
	struct relay_conn_status st;
	char reason[320];
	struct net_tls_facts tls; /* st.tls points here when the attempt had facts */
	struct buf text;     /* every EVENT message, one per line */
	int *open_now, *open_max;
	volatile sig_atomic_t *stop_on_open;
};

static void p_open(struct relay_conn *c, void *user, long long rtt)
{
	struct probe *p = user;
	p->opens++;
	p->rtt_open = rtt;
	if (p->open_now && ++*p->open_now > *p->open_max)
		*p->open_max = *p->open_now;
	if (p->stop_on_open)
		*p->stop_on_open = 1;
	if (p->req)
		ck_assert_int_eq(relay_conn_send(c, p->req, strlen(p->req), 1), 0);
}

static void p_message(struct relay_conn *c, void *user, const char *text, size_t len)
{
	struct probe *p = user;
	ck_assert_uint_eq(strlen(text), len);
	if (strncmp(text, "[\"EVENT\"", 8) == 0) {
		p->events++;
		buf_append(&p->text, text, len);
		buf_putc(&p->text, '\n');
	} else if (strncmp(text, "[\"EOSE\"", 7) == 0) {
		p->eose++;
		if (!p->keep_open)
			relay_conn_close(c);
	} else if (strncmp(text, "[\"NOTICE\"", 9) == 0) {
		p->notices++;
	} else if (strncmp(text, "[\"CLOSED\"", 9) == 0) {
		p->closed_msgs++;
	}
}

static void p_dropped(struct relay_conn *c, void *user, const char *reason, size_t len)
{
	(void)c;
	struct probe *p = user;
	if (strcmp(reason, "oversized") == 0)
		ck_assert_uint_ge(len, 65537);
	else
		ck_assert_str_eq(reason, "binary");
	p->dropped++;
}

static void p_close(struct relay_conn *c, void *user, const struct relay_conn_status *st)
{
	(void)c;
	struct probe *p = user;
	p->closes++;
	p->st = *st;
	snprintf(p->reason, sizeof(p->reason), "%s", st->reason);
	p->st.reason = p->reason;
	if (st->tls) {
		p->tls = *st->tls;
		p->st.tls = &p->tls;
	}
	if (p->open_now && st->was_open)
		--*p->open_now;
}

static const struct relay_conn_ops probe_ops = { p_open, p_message, p_dropped, p_close };

static struct net_options options(const char *proxy)
{
	struct net_options o;
	memset(&o, 0, sizeof(o));
	o.socks_proxy = proxy;
	for (int i = 0; i < NET_NETWORKS; i++)
		o.limits[i] = (struct net_limits){ .max_connections = 50, .connect_timeout_ms = 5000,
						   .tls_timeout_ms = 5000, .upgrade_timeout_ms = 5000,
						   .response_timeout_ms = 5000, .idle_timeout_ms = 30000 };
	o.max_message_size = 1 << 20;
	o.nip11_max_size = 65536;
	o.max_tunnels = 256;
	o.allow_local = 1;
	return o;
}

static struct net *new_net(const struct net_options *o)
{
	char err[256] = "";
	struct net *n = net_new(o, &lg, NULL, err, sizeof(err));
	ck_assert_msg(n != NULL, "net_new: %s", err);
	return n;
}

static char socks_spec[64], micro_spec[64];

static const char *logger_proxy(void)
{
	snprintf(socks_spec, sizeof(socks_spec), "127.0.0.1:%d", socks.port);
	return socks_spec;
}

static const char *micro_proxy(void)
{
	snprintf(micro_spec, sizeof(micro_spec), "127.0.0.1:%d", microsocks_port);
	return micro_spec;
}

static const char *url(char *buf, const char *scheme, const char *host, int port)
{
	snprintf(buf, 128, "%s://%s:%d", scheme, host, port);
	return buf;
}

#define REQ_ALL "[\"REQ\",\"t\",{\"limit\":100}]"

static void run_one(struct net *n, const char *u, enum net_network nw, struct probe *p)
{
	buf_init(&p->text);
	ck_assert_ptr_nonnull(relay_conn_open(n, u, nw, &probe_ops, p, NULL));
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
}

static void assert_complete(const struct probe *p, const char *what)
{
	ck_assert_msg(p->opens == 1 && p->eose == 1 && p->events == N_EVENTS, "%s: opens %d eose %d events %d (%s)",
		      what, p->opens, p->eose, p->events, p->reason);
	ck_assert_msg(p->closes == 1 && p->st.err == NET_OK, "%s: closed with %s: %s", what,
		      net_error_name(p->st.err), p->reason);
}

/* ---- the tests ---- */

START_TEST(direct_ws_delivers_events_in_order)
{
	struct net_options o = options("");
	struct net *n = new_net(&o);
	struct probe p = { .req = REQ_ALL };
	char u[128];
	run_one(n, url(u, "ws", "127.0.0.1", relays[R_MAIN].port), NET_CLEARNET, &p);
	assert_complete(&p, "direct");
	/* newest first, byte for byte as stored */
	char *first = strstr(p.text.data, "\"id\":\"");
	ck_assert_ptr_nonnull(first);
	ck_assert_int_eq(strncmp(first + 6, "0000000000000000000000000000000000000000000000000000000000000005", 64), 0);
	ck_assert_ptr_nonnull(strstr(p.text.data, "\"content\":\"event 3 \\\"quoted\\\" \\u00e9\""));
	struct net_stats s;
	net_get_stats(n, &s);
	ck_assert_uint_eq(s.opened, 1);
	ck_assert_uint_eq(s.messages, N_EVENTS + 1);
	ck_assert_uint_eq(s.failed, 0);
	buf_free(&p.text);
	net_free(n);
}
END_TEST

START_TEST(ws_and_wss_through_microsocks)
{
	ck_assert_msg(microsocks_port > 0, "TEST_SOCKS_PORT is not set: run through tests/run");
	struct net_options o = options(micro_proxy());
	o.limits[NET_CLEARNET].allow_insecure = 1;
	struct net *n = new_net(&o);
	struct probe a = { .req = REQ_ALL }, b = { .req = REQ_ALL };
	char u[128], v[128];
	buf_init(&a.text);
	buf_init(&b.text);
	relay_conn_open(n, url(u, "ws", "127.0.0.1", relays[R_MAIN].port), NET_CLEARNET, &probe_ops, &a, NULL);
	relay_conn_open(n, url(v, "wss", "localhost", relays[R_MAIN].tls_port), NET_CLEARNET, &probe_ops, &b, NULL);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	assert_complete(&a, "ws via microsocks");
	assert_complete(&b, "wss via microsocks");
	ck_assert_str_eq(a.text.data, b.text.data);
	buf_free(&a.text);
	buf_free(&b.text);
	net_free(n);
}
END_TEST

static int socks_lines_for(const char *host, char users[][64], int max)
{
	FILE *f = fopen(socks_log, "r");
	char line[1024], needle[300];
	int n = 0;
	snprintf(needle, sizeof(needle), " host=%s ", host);
	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, needle))
			continue;
		ck_assert_msg(strncmp(line, "connect atyp=3 ", 15) == 0, "not a domain-name CONNECT: %s", line);
		const char *u = strstr(line, " user=");
		if (n < max && u)
			sscanf(u, " user=%63s", users[n]);
		n++;
	}
	if (f)
		fclose(f);
	return n;
}

static void nip11_store(void *user, const char *u, const struct net_nip11_result *r)
{
	(void)u;
	struct net_nip11_result *out = user;
	*out = *r;
	out->reason = strdup(r->reason);
	out->content_type = strdup(r->content_type);
	out->body = r->body ? strndup(r->body, r->len) : NULL;
}

static void nip11_clear(struct net_nip11_result *r)
{
	free((char *)r->reason);
	free((char *)r->content_type);
	free((char *)r->body);
}

START_TEST(privacy_no_local_dns_and_domain_connects_with_isolation)
{
	struct net_options o = options(logger_proxy());
	struct net *n = new_net(&o);
	struct probe a1 = { .req = REQ_ALL }, a2 = { .req = REQ_ALL }, b = { .req = REQ_ALL }, on = { .req = REQ_ALL };
	struct net_nip11_result doc = { 0 };
	buf_init(&a1.text);
	buf_init(&a2.text);
	buf_init(&b.text);
	buf_init(&on.text);
	relay_conn_open(n, "ws://relay-a.test", NET_CLEARNET, &probe_ops, &a1, NULL);
	relay_conn_open(n, "ws://relay-a.test", NET_CLEARNET, &probe_ops, &a2, NULL);
	relay_conn_open(n, "ws://relay-b.test/", NET_CLEARNET, &probe_ops, &b, NULL);
	relay_conn_open(n, "ws://" ONION, NET_TOR, &probe_ops, &on, NULL);
	ck_assert_int_eq(net_nip11_fetch(n, "ws://relay-a.test", NET_CLEARNET, nip11_store, &doc), 0);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	assert_complete(&a1, "relay-a 1");
	assert_complete(&a2, "relay-a 2");
	assert_complete(&b, "relay-b");
	assert_complete(&on, ".onion");
	ck_assert_msg(doc.err == NET_OK, "NIP-11 through the proxy: %s", doc.reason);
	/* nothing about a relay was resolved in this process */
	ck_assert(!was_resolved("relay-a.test"));
	ck_assert(!was_resolved("relay-b.test"));
	ck_assert(!was_resolved(ONION));
	/* each connection reached the SOCKS server as ATYP 3 with the relay's isolation username */
	char users[8][64], want_a[32], want_b[32], want_o[32];
	net_isolation_user(n, "relay-a.test", 80, want_a, sizeof(want_a));
	net_isolation_user(n, "relay-b.test", 80, want_b, sizeof(want_b));
	net_isolation_user(n, ONION, 80, want_o, sizeof(want_o));
	ck_assert_str_ne(want_a, want_b);
	ck_assert_int_eq(socks_lines_for("relay-a.test", users, 8), 3); /* two websockets and the NIP-11 GET */
	for (int i = 0; i < 3; i++)
		ck_assert_str_eq(users[i], want_a);
	ck_assert_int_eq(socks_lines_for("relay-b.test", users, 8), 1);
	ck_assert_str_eq(users[0], want_b);
	ck_assert_int_eq(socks_lines_for(ONION, users, 8), 1);
	ck_assert_str_eq(users[0], want_o);
	nip11_clear(&doc);
	buf_free(&a1.text);
	buf_free(&a2.text);
	buf_free(&b.text);
	buf_free(&on.text);
	net_free(n);
}
END_TEST

START_TEST(interposer_sees_direct_mode_lookups)
{
	/* the positive control of the test above: without a proxy the helper resolves the host */
	struct net_options o = options("");
	struct net *n = new_net(&o);
	struct probe p = { .req = REQ_ALL };
	char u[128];
	run_one(n, url(u, "ws", "localhost", relays[R_MAIN].port), NET_CLEARNET, &p);
	assert_complete(&p, "direct localhost");
	ck_assert(was_resolved("localhost"));
	buf_free(&p.text);
	net_free(n);
}
END_TEST

START_TEST(isolation_per_connection_and_none)
{
	struct net_options o = options(logger_proxy());
	o.isolation = NET_ISOLATE_CONNECTION;
	struct net *n = new_net(&o);
	struct probe a = { .req = REQ_ALL }, b = { .req = REQ_ALL };
	buf_init(&a.text);
	buf_init(&b.text);
	relay_conn_open(n, "ws://relay-b.test:80", NET_CLEARNET, &probe_ops, &a, NULL);
	relay_conn_open(n, "ws://relay-b.test:80", NET_CLEARNET, &probe_ops, &b, NULL);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	assert_complete(&a, "per connection 1");
	assert_complete(&b, "per connection 2");
	char users[16][64];
	int k = socks_lines_for("relay-b.test", users, 16);
	ck_assert_int_ge(k, 2);
	ck_assert_str_ne(users[k - 1], users[k - 2]);
	ck_assert_int_eq(strncmp(users[k - 1], "brotr-", 6), 0);
	net_free(n);
	buf_free(&a.text);
	buf_free(&b.text);

	o.isolation = NET_ISOLATE_NONE;
	n = new_net(&o);
	struct probe c = { .req = REQ_ALL };
	run_one(n, "ws://relay-b.test", NET_CLEARNET, &c);
	assert_complete(&c, "no isolation");
	ck_assert_int_eq(count_lines(socks_log, "host=relay-b.test port=80 method=0 user= pass="), 1);
	buf_free(&c.text);
	net_free(n);
}
END_TEST

START_TEST(socks_reply_codes_become_reasons)
{
	static const int codes[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7 };
	struct net_options o = options(logger_proxy());
	struct net *n = new_net(&o);
	struct probe p[16];
	memset(p, 0, sizeof(p));
	for (int i = 0; i < 16; i++) {
		char u[128];
		snprintf(u, sizeof(u), "ws://code-%d.test", codes[i]);
		relay_conn_open(n, u, codes[i] >= 0xF0 ? NET_TOR : NET_CLEARNET, &probe_ops, &p[i], NULL);
	}
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	for (int i = 0; i < 16; i++) {
		char hex[16];
		snprintf(hex, sizeof(hex), "(0x%02X)", codes[i]);
		ck_assert_int_eq(p[i].opens, 0);
		ck_assert_int_eq(p[i].st.err, NET_ERR_SOCKS);
		ck_assert_int_eq(p[i].st.socks_reply, codes[i]);
		ck_assert_msg(strstr(p[i].reason, socks5_reply_reason((uint8_t)codes[i])) && strstr(p[i].reason, hex),
			      "code %d: %s", codes[i], p[i].reason);
	}
	struct net_stats s;
	net_get_stats(n, &s);
	ck_assert_uint_eq(s.by_error[NET_ERR_SOCKS], 16);
	net_free(n);
}
END_TEST

static int dead_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	return ntohs(a.sin_port);
}

START_TEST(proxy_down_garbage_and_refused)
{
	char spec[64], u[128];
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", dead_port());
	struct net_options o = options(spec);
	struct net *n = new_net(&o);
	struct probe p = { 0 };
	run_one(n, "ws://relay-a.test", NET_CLEARNET, &p);
	ck_assert_int_eq(p.st.err, NET_ERR_PROXY);
	ck_assert_ptr_nonnull(strstr(p.reason, "unreachable"));
	net_free(n);

	o = options(logger_proxy());
	n = new_net(&o);
	struct probe g = { 0 }, r = { 0 };
	relay_conn_open(n, "ws://garbage.test", NET_CLEARNET, &probe_ops, &g, NULL);
	relay_conn_open(n, url(u, "ws", "127.0.0.1", dead_port()), NET_CLEARNET, &probe_ops, &r, NULL);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	ck_assert_int_eq(g.st.err, NET_ERR_PROXY);
	ck_assert_ptr_nonnull(strstr(g.reason, "malformed"));
	ck_assert_int_eq(r.st.err, NET_ERR_SOCKS); /* the proxy could not connect: reply 5 */
	ck_assert_int_eq(r.st.socks_reply, 5);
	net_free(n);

	o = options("");
	n = new_net(&o);
	struct probe d = { 0 };
	run_one(n, url(u, "ws", "127.0.0.1", dead_port()), NET_CLEARNET, &d);
	ck_assert_int_eq(d.st.err, NET_ERR_CONNECT);
	ck_assert_ptr_nonnull(strstr(d.reason, "Connection refused"));
	net_free(n);
}
END_TEST

START_TEST(onion_needs_a_proxy_and_the_tor_network)
{
	struct net_options o = options("");
	struct net *n = new_net(&o);
	struct probe a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	relay_conn_open(n, "ws://" ONION, NET_TOR, &probe_ops, &a, NULL);
	relay_conn_open(n, "wss://" ONION, NET_CLEARNET, &probe_ops, &b, NULL);
	relay_conn_open(n, "http://relay.example", NET_CLEARNET, &probe_ops, &c, NULL);
	/* URLs are read by src/nostr's normaliser: a v3 name with a wrong checksum is not a relay */
	relay_conn_open(n, "ws://brotrfixturexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxjqdyd.onion", NET_TOR, &probe_ops, &d,
			NULL);
	ck_assert_int_eq(a.closes + b.closes + c.closes + d.closes, 0); /* never from inside relay_conn_open */
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	ck_assert_int_eq(a.st.err, NET_ERR_URL);
	ck_assert_ptr_nonnull(strstr(a.reason, "socks_proxy is empty"));
	ck_assert_int_eq(b.st.err, NET_ERR_URL);
	ck_assert_ptr_nonnull(strstr(b.reason, "on the tor network, not clearnet"));
	ck_assert_int_eq(c.st.err, NET_ERR_URL);
	ck_assert_ptr_nonnull(strstr(c.reason, "scheme must be ws or wss"));
	ck_assert_int_eq(d.st.err, NET_ERR_URL);
	ck_assert_ptr_nonnull(strstr(d.reason, "onion address checksum does not match"));
	ck_assert(!was_resolved(ONION));
	net_free(n);
}
END_TEST

START_TEST(black_hole_and_silent_relay_time_out)
{
	char u[128], v[128];
	struct net_options o = options("");
	o.limits[NET_CLEARNET].upgrade_timeout_ms = 1000;
	o.limits[NET_CLEARNET].response_timeout_ms = 1000;
	struct net *n = new_net(&o);
	struct probe h = { .req = REQ_ALL }, s = { .req = REQ_ALL }, ok = { .req = REQ_ALL };
	buf_init(&ok.text);
	relay_conn_open(n, url(u, "ws", "127.0.0.1", hole.port), NET_CLEARNET, &probe_ops, &h, NULL);
	relay_conn_open(n, url(v, "ws", "127.0.0.1", relays[R_SILENT].port), NET_CLEARNET, &probe_ops, &s, NULL);
	relay_conn_open(n, "ws://127.0.0.1:1", NET_CLEARNET, &probe_ops, &(struct probe){ 0 }, NULL);
	char w[128];
	relay_conn_open(n, url(w, "ws", "127.0.0.1", relays[R_MAIN].port), NET_CLEARNET, &probe_ops, &ok, NULL);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	ck_assert_int_eq(h.st.err, NET_ERR_TIMEOUT);
	ck_assert_msg(strstr(h.reason, "websocket upgrade") != NULL, "%s", h.reason);
	ck_assert_int_eq(s.opens, 1);
	ck_assert_int_eq(s.st.err, NET_ERR_TIMEOUT);
	ck_assert_msg(strstr(s.reason, "no response") != NULL, "%s", s.reason);
	assert_complete(&ok, "the good relay beside the bad ones");
	buf_free(&ok.text);
	net_free(n);
}
END_TEST

START_TEST(black_hole_through_socks_times_out)
{
	ck_assert_msg(microsocks_port > 0, "TEST_SOCKS_PORT is not set");
	char u[128];
	struct net_options o = options(micro_proxy());
	o.limits[NET_CLEARNET].upgrade_timeout_ms = 1000;
	struct net *n = new_net(&o);
	struct probe h = { .req = REQ_ALL };
	run_one(n, url(u, "ws", "127.0.0.1", hole.port), NET_CLEARNET, &h);
	ck_assert_int_eq(h.st.err, NET_ERR_TIMEOUT);
	ck_assert_msg(strstr(h.reason, "websocket upgrade") != NULL, "%s", h.reason);
	net_free(n);
}
END_TEST

START_TEST(oversized_message_is_dropped_and_counted)
{
	struct net_options o = options("");
	o.max_message_size = 65536;
	struct net *n = new_net(&o);
	struct probe p = { .req = REQ_ALL };
	char u[128];
	run_one(n, url(u, "ws", "127.0.0.1", relays[R_OVERSIZED].port), NET_CLEARNET, &p);
	assert_complete(&p, "after the oversized message");
	ck_assert_int_eq(p.dropped, 1);
	ck_assert_int_eq(p.notices, 0);
	struct net_stats s;
	net_get_stats(n, &s);
	ck_assert_uint_eq(s.dropped_oversized, 1);
	buf_free(&p.text);
	net_free(n);

	o.max_message_size = 1 << 20; /* under the cap the same message is delivered whole */
	n = new_net(&o);
	struct probe q = { .req = REQ_ALL };
	run_one(n, u, NET_CLEARNET, &q);
	ck_assert_int_eq(q.notices, 1);
	ck_assert_int_eq(q.dropped, 0);
	buf_free(&q.text);
	net_free(n);
}
END_TEST

START_TEST(binary_messages_are_dropped_and_counted)
{
	struct net_options o = options("");
	struct net *n = new_net(&o);
	struct probe p = { .req = REQ_ALL };
	char u[128];
	run_one(n, url(u, "ws", "127.0.0.1", relays[R_BINARY].port), NET_CLEARNET, &p);
	ck_assert_int_eq(p.events, 0);
	ck_assert_int_eq(p.dropped, N_EVENTS);
	ck_assert_int_eq(p.eose, 1);
	ck_assert_int_eq(p.st.err, NET_OK);
	struct net_stats s;
	net_get_stats(n, &s);
	ck_assert_uint_eq(s.dropped_binary, N_EVENTS);
	buf_free(&p.text);
	net_free(n);
}
END_TEST

START_TEST(fragmented_messages_are_reassembled)
{
	struct net_options o = options("");
	struct net *n = new_net(&o);
	struct probe whole = { .req = REQ_ALL }, frag = { .req = REQ_ALL };
	char u[128], v[128];
	buf_init(&whole.text);
	buf_init(&frag.text);
	relay_conn_open(n, url(u, "ws", "127.0.0.1", relays[R_MAIN].port), NET_CLEARNET, &probe_ops, &whole, NULL);
	relay_conn_open(n, url(v, "ws", "127.0.0.1", relays[R_FRAGMENTED].port), NET_CLEARNET, &probe_ops, &frag,
			NULL);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	assert_complete(&whole, "whole");
	assert_complete(&frag, "fragmented");
	ck_assert_str_eq(whole.text.data, frag.text.data);
	buf_free(&whole.text);
	buf_free(&frag.text);
	net_free(n);
}
END_TEST

/* A relay sending each message one byte at a time (20 ms apart: an event takes seconds) is cut
 * after one response timeout, not after its whole stream; the good relay beside it completes. */
START_TEST(dribbling_relay_times_out_per_message)
{
	struct net_options o = options("");
	o.limits[NET_CLEARNET].response_timeout_ms = 1000;
	struct net *n = new_net(&o);
	struct probe d = { .req = REQ_ALL }, ok = { .req = REQ_ALL };
	char u[128], v[128];
	buf_init(&ok.text);
	relay_conn_open(n, url(u, "ws", "127.0.0.1", relays[R_DRIBBLE].port), NET_CLEARNET, &probe_ops, &d, NULL);
	relay_conn_open(n, url(v, "ws", "127.0.0.1", relays[R_MAIN].port), NET_CLEARNET, &probe_ops, &ok, NULL);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	assert_complete(&ok, "the good relay beside the dribbling one");
	ck_assert_int_eq(d.opens, 1);
	ck_assert_int_eq(d.events, 0);
	ck_assert_msg(d.st.err == NET_ERR_TIMEOUT && strstr(d.reason, "bytes of a message so far"), "%s: %s",
		      net_error_name(d.st.err), d.reason);
	/* cut inside the first event (over 200 bytes): a byte never re-arms the deadline */
	const char *so_far = strstr(d.reason, "(");
	ck_assert_msg(so_far && atoi(so_far + 1) > 0 && atoi(so_far + 1) < 200, "%s", d.reason);
	buf_free(&ok.text);
	net_free(n);
}
END_TEST

START_TEST(tls_verification)
{
	char u[128];
	struct net_options o = options("");
	struct net *n = new_net(&o);
	struct probe self = { .req = REQ_ALL };
	run_one(n, url(u, "wss", "localhost", relays[R_MAIN].tls_port), NET_CLEARNET, &self);
	ck_assert_int_eq(self.st.err, NET_ERR_TLS);
	ck_assert_msg(strstr(self.reason, "self-signed") != NULL, "%s", self.reason);
	struct probe plain = { .req = REQ_ALL }; /* wss:// to a port that does not speak TLS */
	char v[128];
	run_one(n, url(v, "wss", "127.0.0.1", relays[R_MAIN].port), NET_CLEARNET, &plain);
	ck_assert_int_eq(plain.st.err, NET_ERR_TLS);
	ck_assert_msg(strstr(plain.reason, "TLS handshake failed") != NULL, "%s", plain.reason);
	net_free(n);

	o.limits[NET_CLEARNET].allow_insecure = 1;
	n = new_net(&o);
	struct probe ins = { .req = REQ_ALL };
	run_one(n, u, NET_CLEARNET, &ins);
	assert_complete(&ins, "allow_insecure");
	buf_free(&ins.text);
	net_free(n);

	/* a certificate from a private CA for relay.test, reached through the SOCKS server by name:
	 * the name checked is the relay's, not the helper token lws connects to */
	o = options(logger_proxy());
	o.ca_file = ca_pem;
	n = new_net(&o);
	struct probe good = { .req = REQ_ALL }, wrong = { .req = REQ_ALL };
	buf_init(&good.text);
	relay_conn_open(n, "wss://relay.test", NET_CLEARNET, &probe_ops, &good, NULL);
	relay_conn_open(n, "wss://wrong.test", NET_CLEARNET, &probe_ops, &wrong, NULL);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	assert_complete(&good, "CA-signed relay.test");
	ck_assert_int_eq(wrong.st.err, NET_ERR_TLS);
	ck_assert_msg(strstr(wrong.reason, "hostname mismatch") != NULL, "%s", wrong.reason);
	buf_free(&good.text);
	net_free(n);
}
END_TEST

/* What `openssl x509` prints as the SHA-256 fingerprint of pki/<name>.pem. */
static void openssl_fingerprint(const char *name, char *out, size_t len)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "openssl x509 -noout -fingerprint -sha256 -in %s/%s.pem", pki_dir, name);
	FILE *f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	char line[256] = "";
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	pclose(f);
	char *eq = strchr(line, '=');
	ck_assert_ptr_nonnull(eq);
	eq[strcspn(eq, "\n")] = '\0';
	snprintf(out, len, "%s", eq + 1);
}

static void assert_refused_facts(const struct probe *p, const char *why)
{
	ck_assert_ptr_nonnull(p->st.tls);
	ck_assert_int_eq(p->st.tls->verified, 0);
	ck_assert_msg(strstr(p->st.tls->verify_error, why) != NULL, "%s", p->st.tls->verify_error);
}

/* The handshake's facts, refused or not: what the certificate says, and the verdict. */
START_TEST(tls_facts_of_the_handshake)
{
	char u[128], v[128], fp[128];
	struct net_options o = options("");
	struct net *n = new_net(&o);
	struct probe self = { .req = REQ_ALL }, plain = { .req = REQ_ALL };
	run_one(n, url(u, "wss", "localhost", relays[R_MAIN].tls_port), NET_CLEARNET, &self);
	ck_assert_int_eq(self.st.err, NET_ERR_TLS);
	assert_refused_facts(&self, "self-signed");
	const struct net_tls_facts *f = self.st.tls;
	ck_assert_str_eq(f->subject, "CN=localhost");
	ck_assert_str_eq(f->issuer, "CN=localhost");
	ck_assert_int_eq(f->n_sans, 2);
	ck_assert_str_eq(f->sans[0], "DNS:localhost");
	ck_assert_str_eq(f->sans[1], "IP:127.0.0.1");
	ck_assert_int_eq(f->not_after - f->not_before, 2 * 86400);
	openssl_fingerprint("self", fp, sizeof(fp));
	ck_assert_str_eq(f->sha256, fp);
	run_one(n, url(v, "ws", "127.0.0.1", relays[R_MAIN].port), NET_CLEARNET, &plain);
	assert_complete(&plain, "ws");
	ck_assert_ptr_null(plain.st.tls);
	buf_free(&plain.text);
	net_free(n);

	/* accepted with allow_insecure: the verdict still says why a verifying client would refuse */
	o.limits[NET_CLEARNET].allow_insecure = 1;
	n = new_net(&o);
	struct probe ins = { .req = REQ_ALL };
	run_one(n, u, NET_CLEARNET, &ins);
	assert_complete(&ins, "allow_insecure");
	assert_refused_facts(&ins, "self-signed");
	ck_assert_str_eq(ins.st.tls->version, "TLSv1.3");
	ck_assert_msg(strncmp(ins.st.tls->cipher, "TLS_", 4) == 0, "%s", ins.st.tls->cipher);
	buf_free(&ins.text);
	net_free(n);

	/* the private CA's relay.test verifies; its expired.test and a wrong name do not, refused or accepted */
	for (int insecure = 0; insecure < 2; insecure++) {
		o = options(logger_proxy());
		o.ca_file = ca_pem;
		o.limits[NET_CLEARNET].allow_insecure = insecure;
		n = new_net(&o);
		struct probe good = { .req = REQ_ALL }, old = { .req = REQ_ALL }, wrong = { .req = REQ_ALL };
		run_one(n, "wss://relay.test", NET_CLEARNET, &good);
		run_one(n, "wss://expired.test", NET_CLEARNET, &old);
		run_one(n, "wss://wrong.test", NET_CLEARNET, &wrong);
		assert_complete(&good, "CA-signed relay.test");
		ck_assert_ptr_nonnull(good.st.tls);
		ck_assert_msg(good.st.tls->verified == 1, "%s", good.st.tls->verify_error);
		ck_assert_str_eq(good.st.tls->verify_error, "");
		ck_assert_str_eq(good.st.tls->subject, "CN=relay.test");
		ck_assert_str_eq(good.st.tls->issuer, "CN=brotr-test-ca");
		ck_assert_str_eq(good.st.tls->sans[0], "DNS:relay.test");
		openssl_fingerprint("leaf", fp, sizeof(fp));
		ck_assert_str_eq(good.st.tls->sha256, fp);
		ck_assert_int_eq(old.st.err, insecure ? NET_OK : NET_ERR_TLS);
		assert_refused_facts(&old, "certificate has expired");
		ck_assert_int_eq(old.st.tls->not_before, 1577836800); /* 2020-01-01 */
		ck_assert_int_eq(old.st.tls->not_after, 1577923200);
		ck_assert_int_eq(wrong.st.err, insecure ? NET_OK : NET_ERR_TLS);
		assert_refused_facts(&wrong, "hostname mismatch");
		buf_free(&good.text);
		buf_free(&old.text);
		buf_free(&wrong.text);
		net_free(n);
	}
}
END_TEST

START_TEST(nip11_documents_and_refusals)
{
	struct net_options o = options("");
	struct net *n = new_net(&o);
	struct net_nip11_result ok = { 0 }, r301 = { 0 }, r404 = { 0 }, html = { 0 };
	char u[4][128];
	net_nip11_fetch(n, url(u[0], "ws", "127.0.0.1", relays[R_MAIN].port), NET_CLEARNET, nip11_store, &ok);
	net_nip11_fetch(n, url(u[1], "ws", "127.0.0.1", relays[R_NIP11_301].port), NET_CLEARNET, nip11_store, &r301);
	net_nip11_fetch(n, url(u[2], "ws", "127.0.0.1", relays[R_NIP11_404].port), NET_CLEARNET, nip11_store, &r404);
	net_nip11_fetch(n, url(u[3], "ws", "127.0.0.1", relays[R_NIP11_HTML].port), NET_CLEARNET, nip11_store, &html);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	ck_assert_msg(ok.err == NET_OK, "%s", ok.reason);
	ck_assert_int_eq(ok.http_status, 200);
	ck_assert_str_eq(ok.content_type, "application/nostr+json");
	ck_assert_ptr_nonnull(strstr(ok.body, "\"name\":\"fixture\""));
	ck_assert_uint_eq(strlen(ok.body), ok.len);
	ck_assert_int_ge(ok.elapsed_ms, 0);
	ck_assert_int_eq(r301.err, NET_ERR_HTTP);
	ck_assert_int_eq(r301.http_status, 301);
	ck_assert_msg(strstr(r301.reason, "redirect to https://elsewhere.example/") != NULL, "%s", r301.reason);
	ck_assert_int_eq(r404.err, NET_ERR_HTTP);
	ck_assert_int_eq(r404.http_status, 404);
	ck_assert_int_eq(html.err, NET_ERR_HTTP);
	ck_assert_msg(strstr(html.reason, "text/html") != NULL, "%s", html.reason);
	ck_assert_ptr_null(html.body);
	nip11_clear(&ok);
	nip11_clear(&r301);
	nip11_clear(&r404);
	nip11_clear(&html);
	net_free(n);

	o.nip11_max_size = 1024; /* the fixture's document is over 2000 bytes */
	n = new_net(&o);
	struct net_nip11_result big = { 0 };
	net_nip11_fetch(n, u[0], NET_CLEARNET, nip11_store, &big);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	ck_assert_int_eq(big.err, NET_ERR_HTTP);
	ck_assert_msg(strstr(big.reason, "nip11_max_size") != NULL, "%s", big.reason);
	nip11_clear(&big);
	net_free(n);
}
END_TEST

struct reconnecting {
	int opens, closes, promised, final_err;
};

static void rc_open(struct relay_conn *c, void *user, long long rtt)
{
	(void)rtt;
	struct reconnecting *r = user;
	r->opens++;
	relay_conn_send(c, REQ_ALL, strlen(REQ_ALL), 1);
}

static void rc_message(struct relay_conn *c, void *user, const char *text, size_t len)
{
	(void)c, (void)user, (void)text, (void)len;
}

static void rc_close(struct relay_conn *c, void *user, const struct relay_conn_status *st)
{
	(void)c;
	struct reconnecting *r = user;
	r->closes++;
	r->promised += st->will_reconnect;
	ck_assert_int_eq(st->attempt, r->closes);
	r->final_err = st->err;
}

START_TEST(reconnects_with_backoff_then_gives_up)
{
	static const struct relay_conn_ops ops = { rc_open, rc_message, NULL, rc_close };
	struct net_options o = options("");
	struct net *n = new_net(&o);
	struct reconnecting r = { 0 };
	struct relay_conn_opts ro = { .reconnect = 1, .max_attempts = 3, .backoff_min_ms = 50, .backoff_max_ms = 200 };
	char u[128];
	int before = count_lines(droppy_log, "OPEN");
	relay_conn_open(n, url(u, "ws", "127.0.0.1", relays[R_DROPPY].port), NET_CLEARNET, &ops, &r, &ro);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	ck_assert_int_eq(r.opens, 3);
	ck_assert_int_eq(r.closes, 3);
	ck_assert_int_eq(r.promised, 2);
	ck_assert_int_eq(r.final_err, NET_ERR_CLOSED);
	ck_assert_int_eq(count_lines(droppy_log, "OPEN") - before, 3);
	struct net_stats s;
	net_get_stats(n, &s);
	ck_assert_uint_eq(s.reconnects, 2);
	net_free(n);
}
END_TEST

START_TEST(concurrency_limit_and_isolation_of_failures)
{
	struct net_options o = options("");
	o.limits[NET_CLEARNET].max_connections = 3;
	o.limits[NET_CLEARNET].upgrade_timeout_ms = 1000;
	struct net *n = new_net(&o);
	int now = 0, max = 0;
	struct probe good[12], bad[3];
	memset(good, 0, sizeof(good));
	memset(bad, 0, sizeof(bad));
	char u[128], h[128];
	url(u, "ws", "127.0.0.1", relays[R_MAIN].port);
	url(h, "ws", "127.0.0.1", hole.port);
	for (int i = 0; i < 12; i++) {
		good[i] = (struct probe){ .req = REQ_ALL, .open_now = &now, .open_max = &max };
		buf_init(&good[i].text);
		relay_conn_open(n, u, NET_CLEARNET, &probe_ops, &good[i], NULL);
		if (i % 4 == 0)
			relay_conn_open(n, i ? "ws://127.0.0.1:1" : h, NET_CLEARNET, &probe_ops, &bad[i / 4], NULL);
	}
	ck_assert_int_eq(net_pending(n), 15);
	ck_assert_int_eq(net_run(n, NULL, -1), 1);
	for (int i = 0; i < 12; i++) {
		assert_complete(&good[i], "one of many");
		buf_free(&good[i].text);
	}
	for (int i = 0; i < 3; i++)
		ck_assert_int_ne(bad[i].st.err, NET_OK);
	ck_assert_int_le(max, 3);
	ck_assert_int_ge(max, 1);
	net_free(n);
}
END_TEST

START_TEST(stop_flag_returns_and_free_is_quiet)
{
	volatile sig_atomic_t stop = 0;
	struct net_options o = options("");
	struct net *n = new_net(&o);
	struct probe p = { .keep_open = 1, .stop_on_open = &stop };
	char u[128];
	relay_conn_open(n, url(u, "ws", "127.0.0.1", relays[R_SILENT].port), NET_CLEARNET, &probe_ops, &p, NULL);
	ck_assert_int_eq(net_run(n, NULL, 0), 0); /* no time given: returns with work pending */
	ck_assert_int_eq(net_run(n, &stop, -1), -1);
	ck_assert_int_eq(p.opens, 1);
	ck_assert_uint_eq(net_pending(n), 1);
	net_free(n); /* no callback from here on */
	ck_assert_int_eq(p.closes, 0);
}
END_TEST

/* The helper itself: its port refuses anyone without the per-process secret. */
static void ask_helper(int port, const char *request, char *answer, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	ssize_t r = read(fd, answer, len - 1);
	answer[r > 0 ? r : 0] = '\0';
	close(fd);
}

START_TEST(helper_refuses_strangers_and_bounds_tickets)
{
	struct helper_options ho = { .socks_proxy = logger_proxy(), .max_tunnels = 2, .log = lg };
	char err[256], answer[256], req[512], token[32];
	struct helper *h = helper_start(&ho, err, sizeof(err));
	ck_assert_msg(h != NULL, "%s", err);
	const char *spec = helper_proxy_spec(h);
	int port = atoi(strrchr(spec, ':') + 1);
	ck_assert_int_eq(strncmp(spec, "brotr:", 6), 0);
	uint32_t id1, id2, id3;
	struct helper_ticket_req tr = { .host = "relay-a.test", .port = 80, .connect_timeout_ms = 5000 };
	ck_assert_int_eq(helper_ticket_open(h, &tr, token, sizeof(token), &id1), 0);
	ck_assert_int_eq(helper_ticket_open(h, &tr, token, sizeof(token), &id2), 0);
	ck_assert_int_eq(helper_ticket_open(h, &tr, token, sizeof(token), &id3), -1); /* max_tunnels */
	snprintf(req, sizeof(req), "CONNECT %s:80 HTTP/1.1\r\n\r\n", token);
	ask_helper(port, req, answer, sizeof(answer));
	ck_assert_msg(strncmp(answer, "HTTP/1.1 407 ", 13) == 0, "%s", answer);
	snprintf(req, sizeof(req), "CONNECT %s:80 HTTP/1.1\r\nProxy-Authorization: basic YnJvdHI6bm8=\r\n\r\n", token);
	ask_helper(port, req, answer, sizeof(answer)); /* brotr:no */
	ck_assert_msg(strncmp(answer, "HTTP/1.1 407 ", 13) == 0, "%s", answer);
	ask_helper(port, "GET / HTTP/1.1\r\n\r\n", answer, sizeof(answer));
	ck_assert_msg(strncmp(answer, "HTTP/1.1 400 ", 13) == 0, "%s", answer);
	struct helper_ticket_status st;
	helper_ticket_status(h, id2, &st);
	ck_assert_int_eq(st.state, TICKET_WAITING); /* nobody got through */
	helper_ticket_close(h, id1);
	ck_assert_int_eq(helper_ticket_open(h, &tr, token, sizeof(token), &id3), 0);
	helper_stop(h);
}
END_TEST

/* ---- local strangers and exhausted descriptors ---- */

/* The port of the one listening socket of this process: the helper's. */
static int own_listener_port(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int port = 0;
	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name), on = 0;
		socklen_t ol = sizeof(on);
		struct sockaddr_in a;
		socklen_t al = sizeof(a);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) == 0 && on &&
		    getsockname(fd, (struct sockaddr *)&a, &al) == 0 && a.sin_family == AF_INET)
			port = ntohs(a.sin_port);
	}
	if (d)
		closedir(d);
	ck_assert_int_gt(port, 0);
	return port;
}

static int connect_quietly(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd >= 0)
		connect(fd, (struct sockaddr *)&a, sizeof(a)); /* in progress or done: it never speaks */
	return fd;
}

struct flood {
	int port;
	volatile int stop;
	int ring[64];
	long made;
};

/* A local user keeps opening connections that never authenticate, one a millisecond. */
static void *flood_main(void *arg)
{
	struct flood *f = arg;
	for (int i = 0; i < 64; i++)
		f->ring[i] = -1;
	while (!f->stop) {
		int k = (int)(f->made++ % 64);
		if (f->ring[k] >= 0)
			close(f->ring[k]);
		f->ring[k] = connect_quietly(f->port);
		usleep(1000);
	}
	for (int i = 0; i < 64; i++)
		if (f->ring[i] >= 0)
			close(f->ring[i]);
	return NULL;
}

/* Strangers fill every slot before the relay is asked for, and keep coming: the relay's
 * connection still goes through, and a failure the helper causes would be a local one. */
START_TEST(helper_flood_by_local_strangers)
{
	struct net_options o = options("");
	o.max_tunnels = 2; /* 10 slots */
	struct net *n = new_net(&o);
	struct flood f = { .port = own_listener_port() };
	int early[100];
	for (int i = 0; i < 100; i++)
		early[i] = connect_quietly(f.port);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, flood_main, &f), 0);
	for (int round = 0; round < 3; round++) {
		struct probe p = { .req = REQ_ALL };
		char u[128];
		run_one(n, url(u, "ws", "127.0.0.1", relays[R_MAIN].port), NET_CLEARNET, &p);
		assert_complete(&p, "beside the flood");
		buf_free(&p.text);
	}
	f.stop = 1;
	pthread_join(th, NULL);
	for (int i = 0; i < 100; i++)
		close(early[i]);
	ck_assert_int_gt(f.made, 0);
	ck_assert(net_error_is_local(NET_ERR_LIMIT) && net_error_is_local(NET_ERR_PROXY));
	net_free(n);
}
END_TEST

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Over one second of wall time, the helper thread's poll rounds and the process's CPU time. */
static void assert_quiet(struct helper *h, const char *what)
{
	uint64_t w0 = helper_wakeups(h);
	double c0 = cpu_seconds();
	usleep(1000000);
	uint64_t w = helper_wakeups(h) - w0;
	double c = cpu_seconds() - c0;
	ck_assert_msg(w < 200 && c < 0.3, "%s: %llu poll rounds and %.2f s of CPU in 1 s", what, (unsigned long long)w, c);
}

/* The lowest descriptor number free now: a soft RLIMIT_NOFILE of it plus k allows at most k more. */
static int lowest_free_fd(void)
{
	int fd = dup(0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	return fd;
}

static void connect_fd(int fd, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	connect(fd, (struct sockaddr *)&a, sizeof(a)); /* non-blocking: in progress or done */
}

/* accept4 failing with EMFILE leaves the listener readable: the helper must rest, not spin. */
START_TEST(helper_out_of_descriptors_does_not_spin)
{
	struct helper_options ho = { .socks_proxy = logger_proxy(), .max_tunnels = 8, .log = lg };
	char err[256];
	struct helper *h = helper_start(&ho, err, sizeof(err));
	ck_assert_msg(h != NULL, "%s", err);
	int port = atoi(strrchr(helper_proxy_spec(h), ':') + 1);
	int fds[20];
	struct rlimit old, low;
	for (int i = 0; i < 20; i++)
		ck_assert_int_ge(fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), 0);
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)lowest_free_fd() + 4; /* the helper accepts 4, then EMFILE */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	for (int i = 0; i < 20; i++)
		connect_fd(fds[i], port);
	assert_quiet(h, "connections refused for want of descriptors");
	setrlimit(RLIMIT_NOFILE, &old);
	for (int i = 0; i < 20; i++)
		close(fds[i]);
	helper_stop(h);
}
END_TEST

/* Direct mode out of descriptors: the tunnel fails as a local limit, never as the relay's failure. */
START_TEST(direct_mode_out_of_descriptors_is_local)
{
	struct helper_options ho = { .socks_proxy = "", .max_tunnels = 2, .allow_local = 1, .log = lg };
	char err[256], token[32], req[512], auth[64], b64[96], answer[256];
	struct helper *h = helper_start(&ho, err, sizeof(err));
	ck_assert_msg(h != NULL, "%s", err);
	const char *spec = helper_proxy_spec(h);
	uint32_t id;
	struct helper_ticket_req tr = { .host = "127.0.0.1", .port = relays[R_MAIN].port, .connect_timeout_ms = 5000 };
	ck_assert_int_eq(helper_ticket_open(h, &tr, token, sizeof(token), &id), 0);
	snprintf(auth, sizeof(auth), "%.*s", (int)(strchr(spec, '@') - spec), spec);
	ck_assert_int_gt(EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)auth, (int)strlen(auth)), 0);
	snprintf(req, sizeof(req), "%s:%d HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n", token, tr.port, b64);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(strrchr(spec, ':') + 1)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(write(fd, "CONNECT ", 8), 8); /* accepted and read once this is answered... */
	usleep(200000); /* ...or soon: the helper now holds its side of the connection */
	struct rlimit old, none;
	getrlimit(RLIMIT_NOFILE, &old);
	none = old;
	none.rlim_cur = (rlim_t)lowest_free_fd(); /* not one more */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	ssize_t r = read(fd, answer, sizeof(answer) - 1);
	answer[r > 0 ? r : 0] = '\0';
	setrlimit(RLIMIT_NOFILE, &old);
	ck_assert_msg(strncmp(answer, "HTTP/1.1 502 ", 13) == 0, "%s", answer);
	struct helper_ticket_status st;
	helper_ticket_status(h, id, &st);
	ck_assert_msg(st.state == TICKET_FAILED && st.err == NET_ERR_LIMIT && net_error_is_local(st.err), "%s: %s",
		      net_error_name(st.err), st.reason);
	close(fd);
	helper_stop(h);
}
END_TEST

/* lws' side resets while its buffer toward a relay that never reads is full: the hang-up is
 * reported on every poll round, and must end the tunnel rather than spin. */
START_TEST(tunnel_hangup_with_full_buffer_does_not_spin)
{
	struct helper_options ho = { .socks_proxy = "", .max_tunnels = 2, .allow_local = 1, .log = lg };
	char err[256], token[32], req[512], auth[64], answer[256];
	struct helper *h = helper_start(&ho, err, sizeof(err));
	ck_assert_msg(h != NULL, "%s", err);
	const char *spec = helper_proxy_spec(h);
	int port = atoi(strrchr(spec, ':') + 1);
	uint32_t id;
	struct helper_ticket_req tr = { .host = "127.0.0.1", .port = hole.port, .connect_timeout_ms = 5000 };
	ck_assert_int_eq(helper_ticket_open(h, &tr, token, sizeof(token), &id), 0);
	snprintf(auth, sizeof(auth), "%.*s", (int)(strchr(spec, '@') - spec), spec);
	char b64[96];
	ck_assert_int_gt(EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)auth, (int)strlen(auth)), 0);
	snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n", token,
		 hole.port, b64);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	ssize_t r = read(fd, answer, sizeof(answer) - 1);
	answer[r > 0 ? r : 0] = '\0';
	ck_assert_msg(strncmp(answer, "HTTP/1.1 200 ", 13) == 0, "%s", answer);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	static char junk[1 << 16];
	int idle = 0;
	while (idle < 20) { /* until the hole's, the helper's and our own buffers are all full */
		if (write(fd, junk, sizeof(junk)) > 0)
			idle = 0;
		else
			idle++, usleep(20000);
	}
	struct linger lin = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(fd); /* a reset */
	assert_quiet(h, "a reset beside a full buffer");
	helper_stop(h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("servers");
	tcase_add_unchecked_fixture(tc, servers_up, servers_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, direct_ws_delivers_events_in_order);
	tcase_add_test(tc, ws_and_wss_through_microsocks);
	tcase_add_test(tc, privacy_no_local_dns_and_domain_connects_with_isolation);
	tcase_add_test(tc, interposer_sees_direct_mode_lookups);
	tcase_add_test(tc, isolation_per_connection_and_none);
	tcase_add_test(tc, socks_reply_codes_become_reasons);
	tcase_add_test(tc, proxy_down_garbage_and_refused);
	tcase_add_test(tc, onion_needs_a_proxy_and_the_tor_network);
	tcase_add_test(tc, black_hole_and_silent_relay_time_out);
	tcase_add_test(tc, black_hole_through_socks_times_out);
	tcase_add_test(tc, oversized_message_is_dropped_and_counted);
	tcase_add_test(tc, binary_messages_are_dropped_and_counted);
	tcase_add_test(tc, fragmented_messages_are_reassembled);
	tcase_add_test(tc, dribbling_relay_times_out_per_message);
	tcase_add_test(tc, tls_verification);
	tcase_add_test(tc, tls_facts_of_the_handshake);
	tcase_add_test(tc, nip11_documents_and_refusals);
	tcase_add_test(tc, reconnects_with_backoff_then_gives_up);
	tcase_add_test(tc, concurrency_limit_and_isolation_of_failures);
	tcase_add_test(tc, stop_flag_returns_and_free_is_quiet);
	tcase_add_test(tc, helper_refuses_strangers_and_bounds_tickets);
	tcase_add_test(tc, helper_flood_by_local_strangers);
	tcase_add_test(tc, helper_out_of_descriptors_does_not_spin);
	tcase_add_test(tc, tunnel_hangup_with_full_buffer_does_not_spin);
	tcase_add_test(tc, direct_mode_out_of_descriptors_is_local);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
