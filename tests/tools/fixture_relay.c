/* fixture_relay.c — a configurable Nostr relay for tests and benchmarks: ws/wss, NIP-01 REQ/EVENT/CLOSE, NIP-11, misbehaviour modes. */
#define JSMN_STATIC
#include <errno.h>
#include <getopt.h>
#include <jsmn.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nostr/ctx.h"
#include "nostr/event.h"
#include "nostr/verify.h"

/*
 * usage: fixture_relay [options]
 *   --port N              plain ws:// and http:// port (0: any free port; the default)
 *   --tls-port N          also wss:// and https:// on this port (0: any), with:
 *   --cert FILE --key FILE  PEM certificate and key (e.g. made with the openssl CLI)
 *   --events FILE         JSONL: one event object per line, served to REQ (newest first)
 *   --max-limit N         a filter returns at most N events, like real relays (default 500)
 *   --default-limit N     events for a filter without "limit" (default: --max-limit)
 *   --nip11 FILE          document served to GET with Accept: application/nostr+json
 *   --nip11-type TYPE     its Content-Type (default application/nostr+json)
 *   --nip11-status N      its HTTP status (default 200); --nip11-location URL for redirects
 *   --mode MODE           normal | silent (accepts, never answers a message) | oversized (a
 *                         NOTICE of --oversize bytes before each REQ's results) | fragmented
 *                         (every message in --fragment-byte frames) | garbage (a malformed
 *                         message before every event) | auth-required (NIP-42: a REQ or NEG-OPEN
 *                         before a valid AUTH gets the connection's challenge and CLOSED
 *                         auth-required:; ["AUTH",<event>] is checked: kind 22242, valid id and
 *                         signature, created_at within 10 minutes, the challenge, the relay tag) |
 *                         auth-silent (AUTH + a NOTICE to REQ, then nothing) |
 *                         binary (events in binary frames, the rest as text) |
 *                         dribble (every message in 1-byte frames, one per --dribble-ms) |
 *                         trickle (every message whole, one per --dribble-ms) |
 *                         escapes (a NOTICE full of terminal escape sequences to REQ, then a
 *                         close frame whose reason holds raw ESC bytes and invalid UTF-8)
 *                         hostile modes, each before (or instead of) a REQ's results:
 *                         deep (an EVENT whose tags nest [[[...]]] to --hostile-size bytes) |
 *                         tag-bomb (--hostile-count EVENTs of --hostile-size bytes of empty
 *                         tags [],[],..., forged, dated inside the window) | huge-numbers
 *                         (EVENTs with created_at and kind beyond int64, one of
 *                         --hostile-size digits) | flood (--hostile-count forged EVENTs dated
 *                         outside the window, since/until ignored, instead of the results) |
 *                         notices (--hostile-count NOTICEs of --hostile-size bytes) | endless
 *                         (forged EVENTs inside the window forever, never EOSE) | bad-sigs
 *                         (the stored events, each with its signature spoilt)
 *   --hostile-size BYTES  size of one hostile message (default 1048576: brotr's default cap)
 *   --hostile-count N     hostile messages per REQ (default 200)
 *   --nip11-hostile KIND  serve a generated NIP-11 document instead of --nip11: deep (nested
 *                         arrays to --nip11-size bytes) | number (1e200000 and friends)
 *   --nip11-size BYTES    default 65536 (brotr's default nip11_max_size)
 *                         echo (a websocket that sends every message back, nothing Nostr)
 *   --oversize BYTES      default 2097152;   --fragment BYTES  default 64
 *   --dribble-ms N        default 100
 *   --close-after N       drop the connection after sending N events on it
 *   --delay MS            answer each client message MS milliseconds after it arrives (one held at a time)
 *   --max-subs N          at most N subscriptions open on a connection (REQ to CLOSE): one more is refused
 *                         with CLOSED "error: too many concurrent REQs" (logged REFUSED sub)
 *   --max-subs-notice     ... refused with a NOTICE instead, naming no subscription
 *   --rtt MS              a network round trip: every client message is answered MS milliseconds after
 *                         it arrives, each on its own (messages in flight overlap, as on a real path)
 *   --reject-writes TEXT  answer EVENT with ["OK",id,false,TEXT] instead of storing it
 *   --count               answer NIP-45 COUNT (without it, COUNT gets a NOTICE, like most relays)
 *   --auth-writes         auth-required mode: EVENT before AUTH gets OK false auth-required: too
 *   --auth-neg-only       auth-required mode: only NEG-OPEN needs AUTH (REQ is served without)
 *   --auth-relay URL      the relay tag AUTH must carry (default ws://127.0.0.1:<port> or
 *                         wss://127.0.0.1:<tls port>, a trailing '/' allowed)
 *   --challenge-ttl N     a challenge answered N seconds or more after it was issued is
 *                         refused as expired (default 600; 0: every answer is late)
 *   --nip77 MODE          answer NEG-OPEN (NIP-77): msg (NEG-MSG with the empty-set reply) |
 *                         err (NEG-ERR) | closed (CLOSED) | silent (nothing) | notice (a
 *                         NOTICE); without the option NEG-OPEN gets the unknown-message NOTICE
 *   --log FILE            one line per connection and per client message (tests read it):
 *                         OPEN peer, REQ sub <message>, EVENT id, CLOSE sub, BAD, HTTP accept=..., CLOSED,
 *                         AUTH ok <pubkey> | AUTH refused <reason>, NEG-OPEN sub, NEG-CLOSE sub
 * Prints "ready port=P tls_port=Q" on stdout once listening; stops on SIGTERM or SIGINT.
 */

enum mode {
	M_NORMAL, M_SILENT, M_OVERSIZED, M_FRAGMENTED, M_GARBAGE, M_AUTH, M_BINARY, M_AUTH_SILENT, M_DRIBBLE, M_ESCAPES,
	M_TRICKLE, M_DEEP, M_TAG_BOMB, M_HUGE_NUMBERS, M_FLOOD, M_NOTICES, M_ENDLESS, M_BAD_SIGS, M_ECHO
};

struct opts {
	int port, tls_port;
	const char *cert, *key, *events, *nip11, *nip11_type, *nip11_location, *reject, *log;
	int max_limit, default_limit, nip11_status, close_after, count, delay_ms, rtt_ms, max_subs, max_subs_notice;
	enum mode mode;
	size_t oversize, fragment;
	int dribble_ms;
	size_t hostile_size, nip11_size;
	long hostile_count;
	const char *nip11_hostile;
	int auth_writes, auth_neg_only, challenge_ttl;
	const char *auth_relay, *nip77;
};

struct tag {
	char name;
	char *value;
};

struct ev {
	char *json;
	size_t len;
	char id[65], pubkey[65];
	long long created_at;
	long kind;
	struct tag *tags;
	size_t n_tags;
};

struct store {
	struct ev **ev; /* newest first; ties by id ascending */
	size_t n, cap;
};

struct out {
	struct out *next;
	char *msg; /* owned, with LWS_PRE bytes of headroom before msg */
	size_t len;
	int is_event;
};

/* --rtt: a client message and when it is answered. */
struct in_flight {
	struct in_flight *next;
	long long due_us;
	size_t len;
	char text[];
};

struct pss {
	char *rx; /* a client message arriving in several pieces */
	size_t rx_len;
	struct out *head, *tail;
	struct out *cur; /* being sent in fragments */
	size_t cur_off;
	int events_sent;
	int http_sent;
	int hang_up; /* close (escapes mode) once everything queued is sent */
	char endless_sub[72]; /* endless mode: the subscription being fed, "" when none */
	long long endless_at;
	char *held; /* --delay: the message waiting for its timer */
	size_t held_len;
	struct in_flight *fly_head, *fly_tail; /* --rtt: messages waiting for their time, oldest first */
	char subs[64][72]; /* --max-subs: the subscriptions open */
	int n_subs;
	char challenge[40]; /* auth-required mode: this connection's, and when it was issued */
	time_t issued;
	int authed;
};

static struct opts O = { .max_limit = 500, .nip11_status = 200, .oversize = 2097152, .fragment = 64,
			 .dribble_ms = 100, .hostile_size = 1048576, .hostile_count = 200, .nip11_size = 65536,
			 .challenge_ttl = 600 };
static int plain_port, tls_port; /* as listening: the default relay tags AUTH may carry */
static struct store S;
static FILE *logf;
static volatile sig_atomic_t stopping;
static char *nip11_doc;
static size_t nip11_len;

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	if (!logf)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(logf, fmt, ap);
	va_end(ap);
	fputc('\n', logf);
	fflush(logf);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fixture_relay: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ---- JSON helpers over jsmn tokens ---- */

static jsmntok_t *parse_json(const char *js, size_t len, int *ntok)
{
	jsmn_parser p;
	jsmn_init(&p);
	int n = jsmn_parse(&p, js, len, NULL, 0);
	if (n <= 0)
		return NULL;
	jsmntok_t *t = calloc((size_t)n, sizeof(*t));
	if (!t)
		return NULL;
	jsmn_init(&p);
	if (jsmn_parse(&p, js, len, t, (unsigned)n) != n) {
		free(t);
		return NULL;
	}
	*ntok = n;
	return t;
}

/* Index of the token after the subtree at i. */
static int skip(const jsmntok_t *t, int i)
{
	int end = i + 1;
	for (int k = 0; k < t[i].size; k++)
		end = skip(t, end);
	return end;
}

static int tok_eq(const char *js, const jsmntok_t *t, const char *s)
{
	size_t n = strlen(s);
	return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n && memcmp(js + t->start, s, n) == 0;
}

static long long tok_ll(const char *js, const jsmntok_t *t)
{
	return strtoll(js + t->start, NULL, 10);
}

/* ---- the event store ---- */

static int ev_newer(const struct ev *a, const struct ev *b)
{
	if (a->created_at != b->created_at)
		return a->created_at > b->created_at;
	return strcmp(a->id, b->id) < 0;
}

static void copy_hex(char out[65], const char *js, const jsmntok_t *t)
{
	int n = t->end - t->start;
	snprintf(out, 65, "%.*s", n > 64 ? 64 : n, js + t->start);
}

static void ev_tags(struct ev *e, const char *js, const jsmntok_t *t, int i)
{
	int n = t[i].size, k = i + 1;
	e->tags = calloc((size_t)n + 1, sizeof(*e->tags));
	for (int j = 0; j < n; j++) {
		const jsmntok_t *tag = &t[k];
		if (tag->type == JSMN_ARRAY && tag->size >= 2 && t[k + 1].end - t[k + 1].start == 1) {
			struct tag *g = &e->tags[e->n_tags++];
			g->name = js[t[k + 1].start];
			g->value = strndup(js + t[k + 2].start, (size_t)(t[k + 2].end - t[k + 2].start));
		}
		k = skip(t, k);
	}
}

/* Builds an event from its JSON object text. NULL when it is not an object with an id. */
static struct ev *ev_new(const char *js, size_t len)
{
	int n;
	jsmntok_t *t = parse_json(js, len, &n);
	if (!t || t[0].type != JSMN_OBJECT) {
		free(t);
		return NULL;
	}
	struct ev *e = calloc(1, sizeof(*e));
	e->json = strndup(js, len);
	e->len = len;
	for (int i = 1; i < n; i = skip(t, i + 1)) {
		const jsmntok_t *v = &t[i + 1];
		if (tok_eq(js, &t[i], "id"))
			copy_hex(e->id, js, v);
		else if (tok_eq(js, &t[i], "pubkey"))
			copy_hex(e->pubkey, js, v);
		else if (tok_eq(js, &t[i], "created_at"))
			e->created_at = tok_ll(js, v);
		else if (tok_eq(js, &t[i], "kind"))
			e->kind = (long)tok_ll(js, v);
		else if (tok_eq(js, &t[i], "tags") && v->type == JSMN_ARRAY)
			ev_tags(e, js, t, i + 1);
	}
	free(t);
	if (!e->id[0]) {
		free(e->json);
		free(e);
		return NULL;
	}
	return e;
}

static void store_add(struct ev *e)
{
	if (S.n == S.cap) {
		S.cap = S.cap ? S.cap * 2 : 1024;
		S.ev = realloc(S.ev, S.cap * sizeof(*S.ev));
	}
	size_t i = S.n;
	while (i > 0 && ev_newer(e, S.ev[i - 1])) {
		S.ev[i] = S.ev[i - 1];
		i--;
	}
	S.ev[i] = e;
	S.n++;
}

static int cmp_ev(const void *a, const void *b)
{
	const struct ev *x = *(struct ev *const *)a, *y = *(struct ev *const *)b;
	return ev_newer(x, y) ? -1 : ev_newer(y, x) ? 1 : 0;
}

static void load_events(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die("%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		struct ev *e = ev_new(line, (size_t)n);
		if (!e)
			die("%s:%d: not an event object", path, lineno);
		if (S.n == S.cap) {
			S.cap = S.cap ? S.cap * 2 : 1024;
			S.ev = realloc(S.ev, S.cap * sizeof(*S.ev));
		}
		S.ev[S.n++] = e;
	}
	free(line);
	fclose(f);
	qsort(S.ev, S.n, sizeof(*S.ev), cmp_ev);
}

/* ---- filters ---- */

struct filter {
	const char *js;
	const jsmntok_t *ids, *authors, *kinds, *tags[8];
	char tag_names[8];
	int n_tagf;
	long long since, until;
	int has_since, has_until;
	long limit;
};

static int in_list(const char *js, const jsmntok_t *arr, const char *v)
{
	const jsmntok_t *t = arr + 1;
	for (int k = 0; k < arr->size; k++, t++)
		if (tok_eq(js, t, v))
			return 1;
	return 0;
}

static int in_kinds(const char *js, const jsmntok_t *arr, long kind)
{
	const jsmntok_t *t = arr + 1;
	for (int k = 0; k < arr->size; k++, t++)
		if (tok_ll(js, t) == kind)
			return 1;
	return 0;
}

static int matches(const struct filter *f, const struct ev *e)
{
	if (f->ids && !in_list(f->js, f->ids, e->id))
		return 0;
	if (f->authors && !in_list(f->js, f->authors, e->pubkey))
		return 0;
	if (f->kinds && !in_kinds(f->js, f->kinds, e->kind))
		return 0;
	if ((f->has_since && e->created_at < f->since) || (f->has_until && e->created_at > f->until))
		return 0;
	for (int i = 0; i < f->n_tagf; i++) {
		int hit = 0;
		for (size_t j = 0; j < e->n_tags && !hit; j++)
			hit = e->tags[j].name == f->tag_names[i] && in_list(f->js, f->tags[i], e->tags[j].value);
		if (!hit)
			return 0;
	}
	return 1;
}

/* Reads the filter object at token i. */
static void filter_parse(struct filter *f, const char *js, const jsmntok_t *t, int i)
{
	memset(f, 0, sizeof(*f));
	f->js = js;
	f->limit = O.default_limit;
	int end = skip(t, i);
	for (int k = i + 1; k < end; k = skip(t, k + 1)) {
		const jsmntok_t *key = &t[k], *v = &t[k + 1];
		int arr = v->type == JSMN_ARRAY;
		if (tok_eq(js, key, "ids") && arr)
			f->ids = v;
		else if (tok_eq(js, key, "authors") && arr)
			f->authors = v;
		else if (tok_eq(js, key, "kinds") && arr)
			f->kinds = v;
		else if (tok_eq(js, key, "since"))
			f->since = tok_ll(js, v), f->has_since = 1;
		else if (tok_eq(js, key, "until"))
			f->until = tok_ll(js, v), f->has_until = 1;
		else if (tok_eq(js, key, "limit"))
			f->limit = (long)tok_ll(js, v);
		else if (key->end - key->start == 2 && js[key->start] == '#' && arr && f->n_tagf < 8) {
			f->tag_names[f->n_tagf] = js[key->start + 1];
			f->tags[f->n_tagf++] = v;
		}
	}
	if (f->limit > O.max_limit || f->limit < 0)
		f->limit = O.max_limit;
}

/* ---- outgoing messages ---- */

static void enqueue(struct pss *p, char *msg, size_t len, int is_event)
{
	struct out *o = calloc(1, sizeof(*o));
	o->msg = msg;
	o->len = len;
	o->is_event = is_event;
	if (p->tail)
		p->tail->next = o;
	else
		p->head = o;
	p->tail = o;
}

static void send_text(struct pss *p, int is_event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void send_text(struct pss *p, int is_event, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *buf = malloc(LWS_PRE + (size_t)n + 1);
	vsnprintf(buf + LWS_PRE, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	enqueue(p, buf, (size_t)n, is_event);
}

static void send_oversized(struct pss *p)
{
	char *buf = malloc(LWS_PRE + O.oversize + 1);
	char *m = buf + LWS_PRE;
	memset(m, 'x', O.oversize);
	memcpy(m, "[\"NOTICE\",\"", 11);
	memcpy(m + O.oversize - 2, "\"]", 2);
	m[O.oversize] = '\0';
	enqueue(p, buf, O.oversize, 0);
}

/* The store is newest first: the first event a filter with until can match, by binary search
 * (benchmarks page through a million events). */
static size_t first_until(const struct filter *f)
{
	size_t lo = 0, hi = S.n;
	while (f->has_until && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (S.ev[mid]->created_at > f->until)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- hostile modes: each one function, called from send_hostile ---- */

/* The first filter's window, for events dated inside (or outside) what was asked. */
static void req_window(const char *js, const jsmntok_t *t, long long *since, long long *until)
{
	*since = 0;
	*until = 1700000000;
	for (int i = skip(t, 2); i < skip(t, 0); i = skip(t, i)) {
		if (t[i].type != JSMN_OBJECT)
			continue;
		struct filter f;
		filter_parse(&f, js, t, i);
		if (f.has_since)
			*since = f.since;
		if (f.has_until)
			*until = f.until;
		return;
	}
}

/* A forged EVENT (made-up id, pubkey and signature) whose tags array holds unit n times (a trailing
 * comma dropped), then close; padded with spaces to `size` bytes when shorter. created_at and kind
 * are written as given (any JSON number). */
static void send_forged(struct pss *p, const char *sub, int sublen, const char *created_at, const char *kind,
			const char *unit, size_t n, const char *close, size_t size)
{
	static unsigned long long serial;
	char id[65], head[512];
	serial++;
	snprintf(id, sizeof(id), "%016llx%016llx%016llx%016llx", serial, serial * 7919, serial * 104729, ~serial);
	int hn = snprintf(head, sizeof(head), "[\"EVENT\",\"%.*s\",{\"id\":\"%s\",\"pubkey\":\"%.64s\",\"created_at\":",
			  sublen, sub, id, "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
	char mid[256];
	int mn = snprintf(mid, sizeof(mid), ",\"kind\":%s,\"content\":\"\",\"sig\":\"%s%s\",\"tags\":[", kind, id, id);
	static const char tail[] = "]}]";
	size_t cal = strlen(created_at), ul = strlen(unit), cl = strlen(close);
	size_t len = (size_t)hn + cal + (size_t)mn + n * ul + cl + sizeof(tail) - 1;
	if (len < size)
		len = size;
	char *buf = malloc(LWS_PRE + len + 1), *m = buf + LWS_PRE, *q = m;
	memcpy(q, head, (size_t)hn), q += hn;
	memcpy(q, created_at, cal), q += cal;
	memcpy(q, mid, (size_t)mn), q += mn;
	for (size_t i = 0; i < n; i++, q += ul)
		memcpy(q, unit, ul);
	if (n > 0 && unit[ul - 1] == ',')
		q--;
	memcpy(q, close, cl), q += cl;
	memcpy(q, tail, sizeof(tail) - 1), q += sizeof(tail) - 1;
	memset(q, ' ', (size_t)(m + len - q));
	m[len] = '\0';
	enqueue(p, buf, len, 1);
}

#define FORGED_OVERHEAD 400 /* bytes of a forged EVENT besides its tags, with room to spare */

/* [[[[...]]]] inside the tags, as deep as --hostile-size allows. */
static void send_deep(struct pss *p, const char *sub, int sublen, long long until)
{
	char ca[24];
	snprintf(ca, sizeof(ca), "%lld", until);
	size_t depth = (O.hostile_size - FORGED_OVERHEAD) / 2;
	char *close = malloc(depth + 1);
	memset(close, ']', depth);
	close[depth] = '\0';
	send_forged(p, sub, sublen, ca, "1", "[", depth, close, O.hostile_size);
	free(close);
}

static void send_tag_bombs(struct pss *p, const char *sub, int sublen, long long until)
{
	char ca[24];
	snprintf(ca, sizeof(ca), "%lld", until);
	for (long i = 0; i < O.hostile_count; i++)
		send_forged(p, sub, sublen, ca, "1", "[],", (O.hostile_size - FORGED_OVERHEAD) / 3, "", O.hostile_size);
}

static void send_huge_numbers(struct pss *p, const char *sub, int sublen, long long until)
{
	char ca[24];
	snprintf(ca, sizeof(ca), "%lld", until);
	size_t digits = O.hostile_size - FORGED_OVERHEAD;
	char *big = malloc(digits + 1);
	memset(big, '9', digits);
	big[digits] = '\0';
	send_forged(p, sub, sublen, big, "1", "[\"t\",\"x\"]", 1, "", 0);
	free(big);
	send_forged(p, sub, sublen, "1e200000", "1", "[\"t\",\"x\"]", 1, "", 0);
	send_forged(p, sub, sublen, "9223372036854775808", "1", "[\"t\",\"x\"]", 1, "", 0);
	send_forged(p, sub, sublen, "-1e200000", "1", "[\"t\",\"x\"]", 1, "", 0);
	send_forged(p, sub, sublen, ca, "1e200000", "[\"t\",\"x\"]", 1, "", 0);
	send_forged(p, sub, sublen, ca, "18446744073709551617", "[\"t\",\"x\"]", 1, "", 0);
}

/* Events dated after the window asked for (or before it, when it has no end): since/until ignored. */
static void send_flood(struct pss *p, const char *sub, int sublen, long long until)
{
	char ca[24];
	for (long i = 0; i < O.hostile_count; i++) {
		snprintf(ca, sizeof(ca), "%lld", until + 1 + i);
		send_forged(p, sub, sublen, ca, "1", "[\"t\",\"flood\"]", 1, "", 0);
	}
}

static void send_notices(struct pss *p)
{
	static const char head[] = "[\"NOTICE\",\"\\u001b[2J\\u001b]0;owned\\u0007 ";
	size_t len = O.hostile_size > sizeof(head) + 2 ? O.hostile_size : sizeof(head) + 2;
	for (long i = 0; i < O.hostile_count; i++) {
		char *buf = malloc(LWS_PRE + len + 1), *m = buf + LWS_PRE;
		memset(m, 'n', len);
		memcpy(m, head, sizeof(head) - 1);
		memcpy(m + len - 2, "\"]", 2);
		m[len] = '\0';
		enqueue(p, buf, len, 0);
	}
}

/* Endless mode: the next events of the stream (the writable callback asks for more). */
static void endless_more(struct pss *p)
{
	char ca[24];
	snprintf(ca, sizeof(ca), "%lld", p->endless_at);
	for (int i = 0; i < 64; i++)
		send_forged(p, p->endless_sub, (int)strlen(p->endless_sub), ca, "1", "[\"t\",\"endless\"]", 1, "", 0);
}

/* The stored event with the last hex digit of its signature changed: the id stays right. */
static void send_bad_sig(struct pss *p, const char *sub, int sublen, const struct ev *e)
{
	send_text(p, 1, "[\"EVENT\",\"%.*s\",%s]", sublen, sub, e->json);
	char *m = p->tail->msg + LWS_PRE, *sig = strstr(m, "\"sig\":\"");
	if (sig && strlen(sig) > 7 + 128)
		sig[7 + 127] = sig[7 + 127] == '0' ? '1' : '0';
}

/* What a hostile mode sends for a REQ. Returns 1 when it replaces the results and the EOSE. */
static int send_hostile(struct pss *p, const char *js, const jsmntok_t *t)
{
	int sublen = t[2].end - t[2].start;
	const char *sub = js + t[2].start;
	long long since, until;
	req_window(js, t, &since, &until);
	switch (O.mode) {
	case M_DEEP: send_deep(p, sub, sublen, until); return 0;
	case M_TAG_BOMB: send_tag_bombs(p, sub, sublen, until); return 0;
	case M_HUGE_NUMBERS: send_huge_numbers(p, sub, sublen, until); return 0;
	case M_NOTICES: send_notices(p); return 0;
	case M_FLOOD:
		send_flood(p, sub, sublen, until);
		send_text(p, 0, "[\"EOSE\",\"%.*s\"]", sublen, sub);
		return 1;
	case M_ENDLESS:
		snprintf(p->endless_sub, sizeof(p->endless_sub), "%.*s", sublen > 64 ? 64 : sublen, sub);
		p->endless_at = until;
		endless_more(p);
		return 1;
	default: return 0;
	}
}

/* --nip11-hostile: the generated document. */
static void make_hostile_nip11(void)
{
	size_t n = O.nip11_size;
	if (strcmp(O.nip11_hostile, "deep") == 0) {
		static const char head[] = "{\"name\":\"deep\",\"limitation\":";
		size_t depth = (n - sizeof(head) - 1) / 2;
		nip11_doc = malloc(n + 1);
		char *q = nip11_doc;
		memcpy(q, head, sizeof(head) - 1), q += sizeof(head) - 1;
		memset(q, '[', depth), q += depth;
		memset(q, ']', depth), q += depth;
		*q++ = '}';
		nip11_len = (size_t)(q - nip11_doc);
	} else if (strcmp(O.nip11_hostile, "number") == 0) {
		static const char doc[] =
			"{\"name\":\"huge numbers\",\"supported_nips\":[1,11,1e200000,-1e200000],"
			"\"limitation\":{\"max_message_length\":1e200000,\"max_subscriptions\":-1e200000,"
			"\"max_limit\":18446744073709551617,\"min_pow_difficulty\":1e-200000,\"created_at_lower_limit\":"
			"-99999999999999999999999,\"auth_required\":false,\"x_limit\":1e200000},"
			"\"retention\":[{\"kinds\":[1e200000],\"time\":1e200000}],"
			"\"fees\":{\"admission\":[{\"amount\":1e200000,\"unit\":\"msats\"}]},"
			"\"x_unknown\":{\"big\":1e200000,\"small\":-1e-200000}}";
		nip11_doc = strdup(doc);
		nip11_len = sizeof(doc) - 1;
	} else {
		die("unknown --nip11-hostile %s", O.nip11_hostile);
	}
}

/* ---- NIP-42 (auth-required mode) ---- */

/* A connection's challenge: random, and when it was issued (--challenge-ttl). */
static void new_challenge(struct pss *p)
{
	unsigned char r[8];
	nostr_random(r, sizeof(r));
	memcpy(p->challenge, "fixture-", 8);
	hex_encode(r, sizeof(r), p->challenge + 8);
	p->issued = time(NULL);
}

/* Before AUTH: the challenge and a CLOSED for the subscription. Returns 1 when sent. */
static int demand_auth(struct pss *p, const char *sub, int sublen)
{
	if (O.mode != M_AUTH || p->authed)
		return 0;
	send_text(p, 0, "[\"AUTH\",\"%s\"]", p->challenge);
	send_text(p, 0, "[\"CLOSED\",\"%.*s\",\"auth-required: this relay requires authentication\"]", sublen, sub);
	return 1;
}

static int tag_is(const struct nostr_event *ev, const char *name, const char *want, int slash_ok)
{
	long i = nostr_event_find_tag(ev, name);
	const struct nostr_str *v = i >= 0 ? nostr_event_tag_item(ev, (size_t)i, 1) : NULL;
	size_t n = strlen(want);
	if (!v)
		return 0;
	return (v->len == n || (slash_ok && v->len == n + 1 && v->s[n] == '/')) && memcmp(v->s, want, n) == 0;
}

static int relay_tag_ok(const struct nostr_event *ev)
{
	char url[96];
	if (O.auth_relay)
		return tag_is(ev, "relay", O.auth_relay, 1);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d", plain_port);
	if (tag_is(ev, "relay", url, 1))
		return 1;
	snprintf(url, sizeof(url), "wss://127.0.0.1:%d", tls_port);
	return tls_port > 0 && tag_is(ev, "relay", url, 1);
}

/* Why the AUTH event is refused, or NULL when it authenticates the connection. */
static const char *auth_problem(const struct pss *p, const struct nostr_event *ev)
{
	time_t now = time(NULL);
	if (ev->kind != 22242)
		return "invalid: not a kind 22242 event";
	if (ev->created_at < (int64_t)now - 600 || ev->created_at > (int64_t)now + 600)
		return "invalid: created_at is not within 10 minutes of now";
	if (!tag_is(ev, "challenge", p->challenge, 0))
		return "invalid: wrong challenge";
	if (now - p->issued >= O.challenge_ttl)
		return "invalid: challenge expired";
	if (!relay_tag_ok(ev))
		return "invalid: wrong relay tag";
	return NULL;
}

static void on_auth(struct pss *p, const char *js, const jsmntok_t *t)
{
	static struct nostr_verifier *v;
	static struct nostr_ctx *ctx;
	struct nostr_err err = { 0 };
	char id[65] = "", why[160], pk[65];
	if (!v && (!(ctx = nostr_ctx_new()) || !(v = nostr_verifier_new(ctx))))
		die("out of memory");
	int bad = nostr_verifier_text(v, js + t[2].start, (size_t)(t[2].end - t[2].start), &err);
	const struct nostr_event *ev = nostr_verifier_event(v);
	if (ev->have_id)
		hex_encode(ev->id, 32, id);
	const char *problem = bad ? nostr_err_str(&err, why, sizeof(why)) : auth_problem(p, ev);
	if (problem) {
		logline("AUTH refused %s", problem);
		send_text(p, 0, "[\"OK\",\"%s\",false,\"%s%s\"]", id, bad ? "invalid: " : "", problem);
		return;
	}
	hex_encode(ev->pubkey, 32, pk);
	logline("AUTH ok %s", pk);
	p->authed = 1;
	send_text(p, 0, "[\"OK\",\"%s\",true,\"\"]", id);
}

/* ---- NIP-77 ---- */

static void on_neg_open(struct pss *p, const char *js, const jsmntok_t *t)
{
	int sublen = t[2].end - t[2].start;
	const char *sub = js + t[2].start;
	logline("NEG-OPEN %.*s", sublen, sub);
	if (demand_auth(p, sub, sublen))
		return;
	if (strcmp(O.nip77, "msg") == 0)
		send_text(p, 0, "[\"NEG-MSG\",\"%.*s\",\"6100000200\"]", sublen, sub);
	else if (strcmp(O.nip77, "err") == 0)
		send_text(p, 0, "[\"NEG-ERR\",\"%.*s\",\"blocked: negentropy is disabled here\"]", sublen, sub);
	else if (strcmp(O.nip77, "closed") == 0)
		send_text(p, 0, "[\"CLOSED\",\"%.*s\",\"error: unsupported\"]", sublen, sub);
	else if (strcmp(O.nip77, "notice") == 0)
		send_text(p, 0, "[\"NOTICE\",\"error: unknown message type\"]");
}

/* --max-subs: sub opens (or replaces itself); 0 when it is one too many (refused here). */
static int open_sub(struct pss *p, const char *sub, int sublen)
{
	if (!O.max_subs || sublen >= (int)sizeof(p->subs[0]))
		return 1;
	for (int i = 0; i < p->n_subs; i++)
		if ((int)strlen(p->subs[i]) == sublen && memcmp(p->subs[i], sub, (size_t)sublen) == 0)
			return 1;
	if (p->n_subs >= O.max_subs || p->n_subs >= (int)(sizeof(p->subs) / sizeof(p->subs[0]))) {
		logline("REFUSED %.*s", sublen, sub);
		if (O.max_subs_notice)
			send_text(p, 0, "[\"NOTICE\",\"ERROR: too many concurrent REQs\"]");
		else
			send_text(p, 0, "[\"CLOSED\",\"%.*s\",\"error: too many concurrent REQs\"]", sublen, sub);
		return 0;
	}
	memcpy(p->subs[p->n_subs], sub, (size_t)sublen);
	p->subs[p->n_subs++][sublen] = 0;
	return 1;
}

static void close_sub(struct pss *p, const char *sub, int sublen)
{
	for (int i = 0; i < p->n_subs; i++)
		if ((int)strlen(p->subs[i]) == sublen && memcmp(p->subs[i], sub, (size_t)sublen) == 0) {
			memcpy(p->subs[i], p->subs[--p->n_subs], sizeof(p->subs[i]));
			return;
		}
}

static void on_req(struct pss *p, const char *js, size_t len, const jsmntok_t *t)
{
	int sublen = t[2].end - t[2].start;
	const char *sub = js + t[2].start;
	logline("REQ %.*s %.*s", sublen, sub, len > 2000 ? 2000 : (int)len, js); /* tests check the filters */
	if (!O.auth_neg_only && demand_auth(p, sub, sublen))
		return;
	if (!open_sub(p, sub, sublen))
		return;
	if (O.mode == M_AUTH_SILENT) {
		send_text(p, 0, "[\"AUTH\",\"fixture-challenge\"]");
		send_text(p, 0, "[\"NOTICE\",\"\\\"sign in\\\" first\"]");
		return;
	}
	if (O.mode == M_ESCAPES) {
		/* clear screen, set the window title, CSI (C1, as UTF-8), a right-to-left override */
		send_text(p, 0, "[\"NOTICE\",\"\\u001b[2J\\u001b]0;owned\\u0007 \\u009b31m red \\u202egnp.exe\"]");
		p->hang_up = 1;
		return;
	}
	if (O.mode == M_OVERSIZED)
		send_oversized(p);
	if (send_hostile(p, js, t))
		return;
	char *sent = calloc(S.n ? S.n : 1, 1);
	for (int i = skip(t, 2); i < skip(t, 0); i = skip(t, i)) {
		if (t[i].type != JSMN_OBJECT)
			continue;
		struct filter f;
		filter_parse(&f, js, t, i);
		long n = 0;
		for (size_t k = first_until(&f); k < S.n && n < f.limit; k++) {
			if (!matches(&f, S.ev[k]))
				continue;
			n++;
			if (sent[k])
				continue;
			sent[k] = 1;
			if (O.mode == M_GARBAGE)
				send_text(p, 0, "[\"EVENT\",\"%.*s\",{\"id\":", sublen, sub);
			if (O.mode == M_BAD_SIGS)
				send_bad_sig(p, sub, sublen, S.ev[k]);
			else
				send_text(p, 1, "[\"EVENT\",\"%.*s\",%s]", sublen, sub, S.ev[k]->json);
		}
	}
	free(sent);
	send_text(p, 0, "[\"EOSE\",\"%.*s\"]", sublen, sub);
}

/* NIP-45: how many stored events match any of the filters (limit does not bound a count). */
static void on_count(struct pss *p, const char *js, size_t len, const jsmntok_t *t)
{
	int sublen = t[2].end - t[2].start;
	logline("COUNT %.*s %.*s", sublen, js + t[2].start, len > 2000 ? 2000 : (int)len, js);
	long n = 0;
	for (size_t k = 0; k < S.n; k++) {
		for (int i = skip(t, 2); i < skip(t, 0); i = skip(t, i)) {
			struct filter f;
			if (t[i].type != JSMN_OBJECT)
				continue;
			filter_parse(&f, js, t, i);
			if (matches(&f, S.ev[k])) {
				n++;
				break;
			}
		}
	}
	send_text(p, 0, "[\"COUNT\",\"%.*s\",{\"count\":%ld}]", sublen, js + t[2].start, n);
}

static void on_event(struct pss *p, const char *js, const jsmntok_t *t)
{
	struct ev *e = ev_new(js + t[2].start, (size_t)(t[2].end - t[2].start));
	if (!e) {
		send_text(p, 0, "[\"NOTICE\",\"invalid: EVENT without an event object\"]");
		return;
	}
	logline("EVENT %s", e->id);
	if (O.mode == M_AUTH && O.auth_writes && !p->authed) {
		send_text(p, 0, "[\"AUTH\",\"%s\"]", p->challenge);
		send_text(p, 0, "[\"OK\",\"%s\",false,\"auth-required: sign in to publish\"]", e->id);
		free(e->json);
		free(e);
		return;
	}
	if (O.reject) {
		send_text(p, 0, "[\"OK\",\"%s\",false,\"%s\"]", e->id, O.reject);
		free(e->json);
		free(e);
		return;
	}
	send_text(p, 0, "[\"OK\",\"%s\",true,\"\"]", e->id);
	store_add(e);
}

static void on_message(struct pss *p, const char *js, size_t len)
{
	int n;
	jsmntok_t *t = parse_json(js, len, &n);
	if (!t || t[0].type != JSMN_ARRAY || t[0].size < 2 || t[1].type != JSMN_STRING) {
		logline("BAD %zu", len);
		send_text(p, 0, "[\"NOTICE\",\"error: could not parse the message\"]");
	} else if (tok_eq(js, &t[1], "REQ") && t[2].type == JSMN_STRING) {
		on_req(p, js, len, t);
	} else if (tok_eq(js, &t[1], "EVENT") && t[2].type == JSMN_OBJECT) {
		on_event(p, js, t);
	} else if (O.count && tok_eq(js, &t[1], "COUNT") && t[2].type == JSMN_STRING) {
		on_count(p, js, len, t);
	} else if (O.mode == M_AUTH && tok_eq(js, &t[1], "AUTH") && t[0].size == 2 && t[2].type == JSMN_OBJECT) {
		on_auth(p, js, t);
	} else if (O.nip77 && tok_eq(js, &t[1], "NEG-OPEN") && t[0].size == 4 && t[2].type == JSMN_STRING) {
		on_neg_open(p, js, t);
	} else if (O.nip77 && tok_eq(js, &t[1], "NEG-CLOSE") && t[2].type == JSMN_STRING) {
		logline("NEG-CLOSE %.*s", t[2].end - t[2].start, js + t[2].start);
	} else if (tok_eq(js, &t[1], "CLOSE")) {
		logline("CLOSE %.*s", t[2].end - t[2].start, js + t[2].start);
		close_sub(p, js + t[2].start, t[2].end - t[2].start);
	} else {
		logline("OTHER %.*s", t[1].end - t[1].start, js + t[1].start);
		send_text(p, 0, "[\"NOTICE\",\"error: unknown message type\"]");
	}
	free(t);
}

static void free_out(struct out *o)
{
	free(o->msg);
	free(o);
}

/* Sends one frame: a whole message, or the next fragment in fragmented mode. Returns -1 to close. */
static int write_next(struct lws *wsi, struct pss *p)
{
	if (!p->cur) {
		if (!(p->cur = p->head))
			return 0;
		p->head = p->cur->next;
		if (!p->head)
			p->tail = NULL;
		p->cur_off = 0;
	}
	struct out *o = p->cur;
	unsigned char *data = (unsigned char *)o->msg + LWS_PRE;
	size_t chunk = o->len - p->cur_off;
	int flags = O.mode == M_BINARY && o->is_event ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
	if (O.mode == M_FRAGMENTED || O.mode == M_DRIBBLE) {
		size_t most = O.mode == M_DRIBBLE ? 1 : O.fragment;
		if (chunk > most)
			chunk = most;
		/* lws writes the frame header just before the data: a fragment needs headroom of its own */
		static unsigned char frag[LWS_PRE + 65536];
		memcpy(frag + LWS_PRE, data + p->cur_off, chunk);
		data = frag + LWS_PRE;
		flags = lws_write_ws_flags(LWS_WRITE_TEXT, p->cur_off == 0, p->cur_off + chunk == o->len);
	}
	if (lws_write(wsi, data, chunk, (enum lws_write_protocol)flags) < (int)chunk)
		return -1;
	p->cur_off += chunk;
	if (p->cur_off < o->len)
		return 0;
	int was_event = o->is_event;
	free_out(o);
	p->cur = NULL;
	if (was_event && O.close_after && ++p->events_sent >= O.close_after) {
		logline("DROP after %d events", p->events_sent);
		return -1;
	}
	return 0;
}

/* Escapes mode: a close reason with an escape sequence, a bare C1 byte and an invalid UTF-8 sequence. */
static int escapes_close(struct lws *wsi)
{
	static const char reason[] = "\x1b[31mbye\x1b[0m \x9b \xc3\x28";
	lws_close_reason(wsi, (enum lws_close_status)4000, (unsigned char *)reason, sizeof(reason) - 1);
	return -1;
}

/* Dribble mode: one 1-byte frame (trickle mode: one whole message), then a pause of --dribble-ms. */
static int dribble_next(struct lws *wsi, struct pss *p)
{
	if (write_next(wsi, p) < 0)
		return -1;
	if (p->head || p->cur)
		lws_set_timer_usecs(wsi, (lws_usec_t)O.dribble_ms * 1000);
	return 0;
}

/* ---- HTTP: the NIP-11 document, or a plain page ---- */

static int http_request(struct lws *wsi, struct pss *p)
{
	char accept[256] = "";
	unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *q = start, *end = hdr + sizeof(hdr) - 1;
	lws_hdr_copy(wsi, accept, sizeof(accept), WSI_TOKEN_HTTP_ACCEPT);
	int nostr = strstr(accept, "application/nostr+json") != NULL && nip11_doc;
	logline("HTTP accept=%s", accept);
	unsigned status = nostr ? (unsigned)O.nip11_status : 200;
	const char *type = nostr ? O.nip11_type : "text/html";
	size_t len = nostr ? nip11_len : 20;
	if (lws_add_http_common_headers(wsi, status, type, len, &q, end))
		return -1;
	if (nostr && O.nip11_location &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_LOCATION, (const unsigned char *)O.nip11_location,
					 (int)strlen(O.nip11_location), &q, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &q, end))
		return -1;
	p->http_sent = nostr ? 1 : 2;
	lws_callback_on_writable(wsi);
	return 0;
}

static int http_body(struct lws *wsi, struct pss *p)
{
	static const char page[] = "<p>fixture relay</p>";
	const char *body = p->http_sent == 1 ? nip11_doc : page;
	size_t len = p->http_sent == 1 ? nip11_len : sizeof(page) - 1;
	unsigned char *buf = malloc(LWS_PRE + len + 1);
	memcpy(buf + LWS_PRE, body, len);
	int w = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
	free(buf);
	if (w < (int)len)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- lws ---- */

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --rtt: the message is answered rtt_ms after now; the timer is set for the oldest. */
static void fly(struct lws *wsi, struct pss *p, const char *text, size_t len)
{
	struct in_flight *f = malloc(sizeof(*f) + len + 1);
	if (!f)
		return;
	f->next = NULL;
	f->due_us = now_us() + (long long)O.rtt_ms * 1000;
	f->len = len;
	memcpy(f->text, text, len);
	f->text[len] = 0;
	if (p->fly_tail)
		p->fly_tail->next = f;
	else
		p->fly_head = f, lws_set_timer_usecs(wsi, (lws_usec_t)O.rtt_ms * 1000);
	p->fly_tail = f;
}

/* --rtt: answers every message that is due, and sets the timer for the next. */
static void land(struct lws *wsi, struct pss *p)
{
	long long now = now_us();
	while (p->fly_head && p->fly_head->due_us <= now) {
		struct in_flight *f = p->fly_head;
		p->fly_head = f->next;
		if (!p->fly_head)
			p->fly_tail = NULL;
		on_message(p, f->text, f->len);
		free(f);
	}
	if (p->fly_head)
		lws_set_timer_usecs(wsi, (lws_usec_t)(p->fly_head->due_us - now));
}

/* A websocket frame: whole messages are handled now, or held (--delay, --rtt), or echoed. */
static int on_receive(struct lws *wsi, struct pss *p, const void *in, size_t len)
{
	if (O.mode == M_SILENT)
		return 0;
	if (lws_is_first_fragment(wsi))
		p->rx_len = 0;
	p->rx = realloc(p->rx, p->rx_len + len + 1);
	memcpy(p->rx + p->rx_len, in, len);
	p->rx_len += len;
	if (!lws_is_final_fragment(wsi))
		return 0;
	if (O.rtt_ms) {
		fly(wsi, p, p->rx, p->rx_len);
	} else if (O.delay_ms) {
		if (p->held) /* one held at a time: the older one goes now */
			on_message(p, p->held, p->held_len);
		free(p->held);
		p->held = p->rx, p->held_len = p->rx_len, p->rx = NULL;
		lws_set_timer_usecs(wsi, (lws_usec_t)O.delay_ms * 1000);
	} else if (O.mode == M_ECHO) {
		send_text(p, 0, "%.*s", (int)p->rx_len, p->rx);
	} else {
		on_message(p, p->rx, p->rx_len);
	}
	p->rx_len = 0;
	if (p->head)
		lws_callback_on_writable(wsi);
	return 0;
}

/* The connection is gone: what it held goes. */
static void on_closed(struct pss *p)
{
	logline("CLOSED");
	free(p->held);
	p->held = NULL;
	while (p->fly_head) {
		struct in_flight *f = p->fly_head;
		p->fly_head = f->next;
		free(f);
	}
	p->fly_tail = NULL;
	free(p->rx);
	p->rx = NULL;
	if (p->cur)
		free_out(p->cur);
	while (p->head) {
		struct out *o = p->head;
		p->head = o->next;
		free_out(o);
	}
	p->cur = p->tail = NULL;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct pss *p = user;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return http_request(wsi, p);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return p->http_sent ? http_body(wsi, p) : 0;
	case LWS_CALLBACK_ESTABLISHED: {
		char peer[64] = "";
		lws_get_peer_simple(wsi, peer, sizeof(peer));
		memset(p, 0, sizeof(*p));
		new_challenge(p);
		logline("OPEN %s", peer);
		return 0;
	}
	case LWS_CALLBACK_RECEIVE:
		return on_receive(wsi, p, in, len);
	case LWS_CALLBACK_TIMER: /* --delay, --rtt: held messages are due; dribble, trickle: the next piece is */
		land(wsi, p);
		if (p->held)
			on_message(p, p->held, p->held_len);
		free(p->held);
		p->held = NULL;
		if (p->head || O.mode == M_DRIBBLE || O.mode == M_TRICKLE)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		/* As many frames as the socket takes now: one poll round per frame would make this
		 * relay, not its client, the cost the benchmarks measure. */
		if (O.mode == M_DRIBBLE || O.mode == M_TRICKLE)
			return dribble_next(wsi, p);
		do {
			if (!p->head && !p->cur && p->endless_sub[0])
				endless_more(p);
			if (write_next(wsi, p) < 0)
				return -1;
		} while ((p->head || p->cur) && !lws_send_pipe_choked(wsi));
		if (p->head || p->cur || p->endless_sub[0])
			lws_callback_on_writable(wsi);
		else if (p->hang_up)
			return escapes_close(wsi);
		return 0;
	case LWS_CALLBACK_CLOSED:
		on_closed(p);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{ .name = "nostr", .callback = callback, .per_session_data_size = sizeof(struct pss), .rx_buffer_size = 65536 },
	{ 0 },
};

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static enum mode parse_mode(const char *s)
{
	static const char *const names[] = { "normal",	"silent",	 "oversized", "fragmented",
					     "garbage", "auth-required", "binary", "auth-silent",
					     "dribble", "escapes", "trickle", "deep", "tag-bomb", "huge-numbers", "flood",
					     "notices", "endless", "bad-sigs", "echo" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (enum mode)i;
	die("unknown mode %s", s);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", 1, 0, 'p' }, { "tls-port", 1, 0, 't' }, { "cert", 1, 0, 'c' }, { "key", 1, 0, 'k' },
		{ "events", 1, 0, 'e' }, { "max-limit", 1, 0, 'm' }, { "default-limit", 1, 0, 'd' },
		{ "nip11", 1, 0, 'n' }, { "nip11-type", 1, 0, 'T' }, { "nip11-status", 1, 0, 'S' },
		{ "nip11-location", 1, 0, 'L' }, { "mode", 1, 0, 'M' }, { "oversize", 1, 0, 'o' },
		{ "fragment", 1, 0, 'f' }, { "close-after", 1, 0, 'a' }, { "reject-writes", 1, 0, 'r' },
		{ "count", 0, 0, 'C' }, { "dribble-ms", 1, 0, 'D' },
		{ "hostile-size", 1, 0, 'H' }, { "hostile-count", 1, 0, 'N' },
		{ "nip11-hostile", 1, 0, 'Y' }, { "nip11-size", 1, 0, 'Z' }, { "delay", 1, 0, 'W' }, { "rtt", 1, 0, 'j' },
		{ "max-subs", 1, 0, 'J' }, { "max-subs-notice", 0, 0, 'K' },
		{ "log", 1, 0, 'l' }, { "auth-writes", 0, 0, 'w' }, { "auth-neg-only", 0, 0, 'g' },
		{ "auth-relay", 1, 0, 'R' }, { "challenge-ttl", 1, 0, 'X' }, { "nip77", 1, 0, '7' }, { 0, 0, 0, 0 },
	};
	int c;
	O.tls_port = -1;
	O.nip11_type = "application/nostr+json";
	O.default_limit = -1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p': O.port = atoi(optarg); break;
		case 't': O.tls_port = atoi(optarg); break;
		case 'c': O.cert = optarg; break;
		case 'k': O.key = optarg; break;
		case 'e': O.events = optarg; break;
		case 'm': O.max_limit = atoi(optarg); break;
		case 'd': O.default_limit = atoi(optarg); break;
		case 'n': O.nip11 = optarg; break;
		case 'T': O.nip11_type = optarg; break;
		case 'S': O.nip11_status = atoi(optarg); break;
		case 'L': O.nip11_location = optarg; break;
		case 'M': O.mode = parse_mode(optarg); break;
		case 'o': O.oversize = (size_t)atol(optarg); break;
		case 'f': O.fragment = (size_t)atol(optarg); break;
		case 'a': O.close_after = atoi(optarg); break;
		case 'r': O.reject = optarg; break;
		case 'C': O.count = 1; break;
		case 'D': O.dribble_ms = atoi(optarg); break;
		case 'H': O.hostile_size = (size_t)atol(optarg); break;
		case 'N': O.hostile_count = atol(optarg); break;
		case 'Y': O.nip11_hostile = optarg; break;
		case 'Z': O.nip11_size = (size_t)atol(optarg); break;
		case 'W': O.delay_ms = atoi(optarg); break;
		case 'j': O.rtt_ms = atoi(optarg); break;
		case 'J': O.max_subs = atoi(optarg); break;
		case 'K': O.max_subs_notice = 1; break;
		case 'l': O.log = optarg; break;
		case 'w': O.auth_writes = 1; break;
		case 'g': O.auth_neg_only = 1; break;
		case 'R': O.auth_relay = optarg; break;
		case 'X': O.challenge_ttl = atoi(optarg); break;
		case '7': O.nip77 = optarg; break;
		default: die("bad arguments (see the comment at the top of fixture_relay.c)");
		}
	}
	if (O.default_limit < 0)
		O.default_limit = O.max_limit;
	if (O.oversize < 16 || O.fragment < 1 || O.fragment > 65536)
		die("--oversize must be >= 16, --fragment 1..65536");
	if (O.hostile_size < 512 || O.hostile_count < 0 || O.nip11_size < 256)
		die("--hostile-size must be >= 512, --hostile-count >= 0, --nip11-size >= 256");
	if (O.tls_port >= 0 && (!O.cert || !O.key))
		die("--tls-port needs --cert and --key");
}

static struct lws_vhost *vhost(struct lws_context *ctx, const char *name, int port, int tls)
{
	struct lws_context_creation_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.vhost_name = name;
	ci.port = port;
	ci.iface = "127.0.0.1";
	ci.protocols = protocols;
	if (tls) {
		ci.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		ci.ssl_cert_filepath = O.cert;
		ci.ssl_private_key_filepath = O.key;
	}
	struct lws_vhost *vh = lws_create_vhost(ctx, &ci);
	if (!vh)
		die("cannot listen on port %d", port);
	return vh;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	if (O.log && !(logf = fopen(O.log, "a")))
		die("%s: %s", O.log, strerror(errno));
	if (O.events)
		load_events(O.events);
	if (O.nip11) {
		FILE *f = fopen(O.nip11, "r");
		if (!f)
			die("%s: %s", O.nip11, strerror(errno));
		nip11_doc = malloc(1 << 20);
		nip11_len = fread(nip11_doc, 1, 1 << 20, f);
		fclose(f);
	}
	if (O.nip11_hostile)
		make_hostile_nip11();
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);
	struct lws_context_creation_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ci.pt_serv_buf_size = 65536;
	struct lws_context *ctx = lws_create_context(&ci);
	if (!ctx)
		die("cannot create the lws context");
	struct lws_vhost *plain = vhost(ctx, "plain", O.port, 0);
	struct lws_vhost *tls = O.tls_port >= 0 ? vhost(ctx, "tls", O.tls_port, 1) : NULL;
	plain_port = lws_get_vhost_listen_port(plain);
	tls_port = tls ? lws_get_vhost_listen_port(tls) : -1;
	printf("ready port=%d tls_port=%d events=%zu\n", plain_port, tls_port, S.n);
	fflush(stdout);
	while (!stopping)
		lws_service(ctx, 100);
	lws_context_destroy(ctx);
	return 0;
}
