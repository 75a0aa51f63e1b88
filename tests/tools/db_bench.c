/* db_bench.c — the persistence bench: the same synthetic events stored with their relay
 * association either by brotr's batch insert (pgc, insert_event_batch, ON CONFLICT) or by COPY
 * through libpq (no conflict handling) into the same schema; and the disk size of a database.
 *
 *   db_bench batch DBNAME EVENTS BATCH   stores EVENTS events through pgc as the writer
 *   db_bench copy DBNAME EVENTS          COPYs the same events (events, events_relays) as superuser
 *   db_bench size DBNAME                 VACUUMs, then prints the bytes of events + events_relays
 *   db_bench copy-jsonl DBNAME FILE      COPYs the events of a JSONL file (the synchronizer bench's
 *                                        rows), its COPY data built before the clock starts
 *   db_bench batch-jsonl DBNAME FILE BATCH  stores the same events through pgc, BATCH per call (the
 *                                        synchronizer's database path without relay or verification)
 *   db_bench copy-mix DBNAME FILE        COPYs the events of a JSONL file once, each with the
 *                                        associations of the mix bench: line k (from 0) on 5 relays
 *                                        when k is odd, else on 4; prints the association rows
 *
 * Connection: TEST_PGHOST, TEST_PGPORT, TEST_PGPASSWORD (superuser postgres), TEST_WRITER_USER,
 * TEST_WRITER_PASSWORD. Prints "rows_per_s=N seconds=S" or "bytes=N events_bytes=N".
 *
 * The events are a mix shaped like a relay's traffic (seeded, so every run and every method
 * gets the same rows): 40% reactions (kind 7, e and p tags, content "+"), 35% notes (kind 1,
 * 20-400 bytes of text with quotes, backslashes and non-ASCII, 0-4 tags), 10% profiles (kind 0,
 * ~300 bytes of JSON text), 5% contact lists (kind 3, 50-300 p tags), 10% reposts (kind 6,
 * ~700 bytes of embedded JSON). As on the network, tag values repeat: authors and p tags come
 * from 20000 public keys, the popular ones far more often; e tags point at earlier events,
 * recent ones more often.
 */
#include <libpq-fe.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "db.h"
#include "encode.h"
#include "nostr/event.h"

#define RELAY "wss://bench.example"
#define SEEN_AT 1700000000LL

struct gen_event {
	struct db_event ev;
	char *tags;
	char *content;
	char **tagvalues; /* for COPY: what insert_event_batch computes on the server */
	size_t n_tagvalues;
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void random_bytes(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)next();
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char b[64];
	random_bytes(b, bytes);
	hex_encode(b, bytes, out);
}

#define AUTHORS 20000
static char (*author_hex)[65];   /* the public keys */
static char (*event_hex)[65];    /* ids of the events generated so far */

/* A uniform number in [0, 1). */
static double uniform(void)
{
	return (double)(next() >> 11) * (1.0 / 9007199254740992.0);
}

/* An index in [0, n), small ones far more likely (popular keys, recent events). */
static size_t skewed(size_t n, double power)
{
	size_t k = (size_t)((double)n * pow(uniform(), power));
	return k < n ? k : n - 1;
}

static const char *some_author(void)
{
	return author_hex[skewed(AUTHORS, 3.0)];
}

/* An earlier event's id (or a random one for the first event). */
static const char *some_event(size_t i, char *scratch)
{
	if (i == 0) {
		random_hex(scratch, 32);
		return scratch;
	}
	return event_hex[i - 1 - skewed(i, 4.0)];
}

static void random_text(struct buf *b, size_t len)
{
	static const char *words[] = { "nostr", "relay", "zap", "gm", "\"quoted\"", "back\\slash", "caf\xc3\xa9",
				       "\xf0\x9f\x92\x9c", "bitcoin", "the", "a", "of", "{brace}", "comma,", "\xe6\x97\xa5" };
	size_t start = b->len;
	while (b->len - start < len) {
		buf_puts(b, words[next() % ARRAY_LEN(words)]);
		buf_putc(b, next() % 9 == 0 ? '\n' : ' ');
	}
}

static void add_tag(struct buf *tags, struct gen_event *g, const char *name, const char *value)
{
	buf_printf(tags, "%s[\"%s\",\"%s\"]", tags->len > 1 ? "," : "", name, value);
	if (strlen(name) == 1) {
		g->tagvalues = realloc(g->tagvalues, (g->n_tagvalues + 1) * sizeof(char *));
		g->tagvalues[g->n_tagvalues++] = strdup(value);
	}
}

static void generate(struct gen_event *g, size_t i)
{
	memset(g, 0, sizeof(*g));
	random_bytes(g->ev.id, 32);
	memcpy(g->ev.id, &i, sizeof(i)); /* unique */
	hex_encode(g->ev.id, 32, event_hex[i]);
	hex_decode(some_author(), g->ev.pubkey, 32);
	random_bytes(g->ev.sig, 64);
	g->ev.created_at = 1600000000 + (int64_t)(next() % 100000000);
	struct buf tags, content;
	buf_init(&tags);
	buf_init(&content);
	buf_putc(&tags, '[');
	char hex[129];
	unsigned r = (unsigned)(next() % 100);
	if (r < 40) {
		g->ev.kind = 7;
		add_tag(&tags, g, "e", some_event(i, hex));
		add_tag(&tags, g, "p", some_author());
		buf_puts(&content, "+");
	} else if (r < 75) {
		g->ev.kind = 1;
		unsigned n = (unsigned)(next() % 5);
		for (unsigned k = 0; k < n; k++)
			add_tag(&tags, g, k % 2 ? "p" : "e", k % 2 ? some_author() : some_event(i, hex));
		if (next() % 4 == 0)
			add_tag(&tags, g, "t", next() % 2 ? "nostr" : "bitcoin");
		random_text(&content, 20 + next() % 380);
	} else if (r < 85) {
		g->ev.kind = 0;
		buf_puts(&content, "{\"name\":\"");
		random_text(&content, 12);
		buf_puts(&content, "\",\"about\":\"");
		random_text(&content, 200);
		buf_puts(&content, "\",\"picture\":\"https://example.com/p.png\",\"nip05\":\"x@example.com\"}");
	} else if (r < 90) {
		g->ev.kind = 3;
		unsigned n = 50 + (unsigned)(next() % 250);
		for (unsigned k = 0; k < n; k++)
			add_tag(&tags, g, "p", some_author());
	} else {
		g->ev.kind = 6;
		add_tag(&tags, g, "e", some_event(i, hex));
		add_tag(&tags, g, "p", some_author());
		buf_puts(&content, "{\\\"content\\\":\\\"");
		random_text(&content, 500);
		buf_puts(&content, "\\\",\\\"kind\\\":1,\\\"sig\\\":\\\"");
		random_hex(hex, 64);
		buf_puts(&content, hex);
		buf_puts(&content, "\\\"}");
	}
	buf_putc(&tags, ']');
	for (size_t k = 0; k < content.len; k++) /* the raw text above holds no newlines in JSON strings */
		if (g->ev.kind != 1 && content.data[k] == '\n')
			content.data[k] = ' ';
	g->tags = tags.data;
	g->content = content.data;
	g->ev.tags = g->tags;
	g->ev.tags_len = tags.len;
	g->ev.content = g->content;
	g->ev.content_len = content.len;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *env(const char *k)
{
	const char *v = getenv(k);
	if (!v) {
		fprintf(stderr, "db_bench: %s is not set\n", k);
		exit(2);
	}
	return v;
}

static struct gen_event *generate_all(size_t n)
{
	struct gen_event *g = calloc(n, sizeof(*g));
	author_hex = calloc(AUTHORS, sizeof(*author_hex));
	event_hex = calloc(n, sizeof(*event_hex));
	for (size_t i = 0; i < AUTHORS; i++)
		random_hex(author_hex[i], 32);
	for (size_t i = 0; i < n; i++)
		generate(&g[i], i);
	return g;
}

/* Stores evs[0..n) through pgc as the writer, batch rows per call, and prints the rate. */
static int store_batches(const char *dbname, const struct db_event *evs, size_t n, size_t batch)
{
	struct db_options o = { 0 };
	o.host = env("TEST_PGHOST");
	o.port = atoi(env("TEST_PGPORT"));
	o.name = dbname;
	o.user = env("TEST_WRITER_USER");
	o.password = env("TEST_WRITER_PASSWORD");
	o.connect_timeout_ms = 10000;
	o.connect_wait_ms = 10000;
	o.retry_max_ms = 1000;
	struct db *db;
	char err[1024];
	if (db_open(&db, &o, err, sizeof(err)) != DB_OK) {
		fprintf(stderr, "db_bench: %s\n", err);
		return 1;
	}
	struct db_relay relay = { RELAY, DB_CLEARNET };
	struct db_event_result res = { 0 };
	double t0 = now_s();
	for (size_t start = 0; start < n; start += batch) {
		size_t k = n - start < batch ? n - start : batch;
		if (db_insert_event_batch(db, &relay, evs + start, k, SEEN_AT, NULL, NULL, &res, NULL) != DB_OK) {
			fprintf(stderr, "db_bench: %s\n", db_error(db));
			return 1;
		}
	}
	double dt = now_s() - t0;
	db_close(db);
	if (res.inserted != n || res.associated != n) {
		fprintf(stderr, "db_bench: stored %zu events and %zu associations of %zu\n", res.inserted, res.associated, n);
		return 1;
	}
	printf("rows_per_s=%.0f seconds=%.3f\n", (double)n / dt, dt);
	return 0;
}

static int run_batch(const char *dbname, size_t n, size_t batch)
{
	struct gen_event *g = generate_all(n);
	struct db_event *evs = malloc(n * sizeof(*evs));
	for (size_t i = 0; i < n; i++)
		evs[i] = g[i].ev;
	return store_batches(dbname, evs, n, batch);
}

/* COPY text format: backslash, tab, newline and carriage return are escaped. */
static void copy_text(struct buf *b, const char *s, size_t len)
{
	buf_reserve(b, 2 * len);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		switch (c) {
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case '\t':
			buf_puts(b, "\\t");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		case '\r':
			buf_puts(b, "\\r");
			break;
		default:
			buf_putc(b, c);
		}
	}
}

static void copy_bytea(struct buf *b, const unsigned char *p, size_t n)
{
	char hex[129];
	hex_encode(p, n, hex);
	buf_puts(b, "\\\\x");
	buf_puts(b, hex);
}

static PGconn *admin(const char *dbname)
{
	const char *kw[] = { "host", "port", "dbname", "user", "password", NULL };
	const char *val[] = { env("TEST_PGHOST"), env("TEST_PGPORT"), dbname, "postgres", env("TEST_PGPASSWORD"), NULL };
	PGconn *c = PQconnectdbParams(kw, val, 0);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "db_bench: %s", PQerrorMessage(c));
		exit(1);
	}
	return c;
}

static int exec(PGconn *c, const char *sql, ExecStatusType want)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == want;
	if (!ok)
		fprintf(stderr, "db_bench: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return ok ? 0 : -1;
}

static int put(PGconn *c, struct buf *b, int force)
{
	if (b->len < (1u << 20) && !force)
		return 0;
	if (PQputCopyData(c, b->data, (int)b->len) != 1) {
		fprintf(stderr, "db_bench: %s", PQerrorMessage(c));
		return -1;
	}
	buf_reset(b);
	return 0;
}

/* Ends a COPY FROM STDIN and reads its outcome. Returns 0, or -1 (said on stderr). */
static int copy_end(PGconn *c, const char *what)
{
	if (PQputCopyEnd(c, NULL) != 1)
		return -1;
	PGresult *r = PQgetResult(c);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "db_bench: %s: %s", what, PQerrorMessage(c));
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	return ok ? 0 : -1;
}

static int run_copy(const char *dbname, size_t n)
{
	struct gen_event *g = generate_all(n);
	PGconn *c = admin(dbname);
	struct buf b;
	struct pgarr tv;
	buf_init(&b);
	pgarr_init(&tv);
	int light = 0;
	PGresult *r = PQexec(c, "SELECT variant FROM brotr_schema");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		light = strcmp(PQgetvalue(r, 0, 0), "lilbrotr") == 0;
	PQclear(r);
	double t0 = now_s();
	if (exec(c, "BEGIN", PGRES_COMMAND_OK) < 0 ||
	    exec(c, "INSERT INTO relays SELECT u, 'clearnet', 1700000000 FROM unnest(ARRAY['" RELAY "', '" RELAY "/0', '"
		 RELAY "/1', '" RELAY "/2', '" RELAY "/3', '" RELAY "/4']) AS u ON CONFLICT DO NOTHING",
		 PGRES_COMMAND_OK) < 0 ||
	    exec(c, "COPY events (id, pubkey, kind, created_at, tags, tagvalues, content, sig) FROM STDIN",
		 PGRES_COPY_IN) < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		const struct db_event *e = &g[i].ev;
		copy_bytea(&b, e->id, 32);
		buf_putc(&b, '\t');
		copy_bytea(&b, e->pubkey, 32);
		buf_printf(&b, "\t%d\t%lld\t", e->kind, (long long)e->created_at);
		if (light)
			buf_puts(&b, "\\N");
		else
			copy_text(&b, e->tags, e->tags_len);
		buf_putc(&b, '\t');
		pgarr_begin(&tv);
		for (size_t k = 0; k < g[i].n_tagvalues; k++)
			pgarr_text(&tv, g[i].tagvalues[k], strlen(g[i].tagvalues[k]));
		const char *lit = pgarr_end(&tv);
		copy_text(&b, lit, strlen(lit));
		buf_putc(&b, '\t');
		if (light) {
			buf_puts(&b, "\\N\t\\N\n");
		} else {
			copy_text(&b, e->content, e->content_len);
			buf_putc(&b, '\t');
			copy_bytea(&b, e->sig, 64);
			buf_putc(&b, '\n');
		}
		if (put(c, &b, 0) < 0)
			return 1;
	}
	if (put(c, &b, 1) < 0 || copy_end(c, "COPY events") < 0)
		return 1;
	if (exec(c, "COPY events_relays (event_id, relay_url, seen_at) FROM STDIN", PGRES_COPY_IN) < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		copy_bytea(&b, g[i].ev.id, 32);
		buf_printf(&b, "\t" RELAY "\t%lld\n", SEEN_AT);
		if (put(c, &b, 0) < 0)
			return 1;
	}
	if (put(c, &b, 1) < 0 || copy_end(c, "COPY events_relays") < 0)
		return 1;
	if (exec(c, "COMMIT", PGRES_COMMAND_OK) < 0)
		return 1;
	double dt = now_s() - t0;
	PQfinish(c);
	printf("rows_per_s=%.0f seconds=%.3f\n", (double)n / dt, dt);
	return 0;
}

/* Appends one events row (bigbrotr) for ev to b, tagvalues computed as the server would. */
static void jsonl_row(struct buf *b, struct pgarr *tv, struct buf *tags, const struct nostr_event *ev)
{
	copy_bytea(b, ev->id, 32);
	buf_putc(b, '\t');
	copy_bytea(b, ev->pubkey, 32);
	buf_printf(b, "\t%u\t%lld\t", ev->kind, (long long)ev->created_at);
	buf_reset(tags);
	nostr_event_tags_json(ev, tags);
	copy_text(b, tags->data, tags->len);
	buf_putc(b, '\t');
	pgarr_begin(tv);
	for (size_t k = 0; k < ev->n_tags; k++)
		if (ev->tags[k].n >= 2 && ev->tags[k].items[0].len == 1 && ev->tags[k].items[1].len <= DB_TAGVALUE_MAX)
			pgarr_text(tv, ev->tags[k].items[1].s, ev->tags[k].items[1].len);
	const char *lit = pgarr_end(tv);
	copy_text(b, lit, strlen(lit));
	buf_putc(b, '\t');
	copy_text(b, ev->content.s, ev->content.len);
	buf_putc(b, '\t');
	copy_bytea(b, ev->sig, 64);
	buf_putc(b, '\n');
}

/* Sends a prepared COPY data buffer in 1 MiB pieces. Returns 0 or -1. */
static int copy_all(PGconn *c, const char *sql, const struct buf *data)
{
	if (exec(c, sql, PGRES_COPY_IN) < 0)
		return -1;
	for (size_t off = 0; off < data->len; off += 1u << 20) {
		size_t n = data->len - off < (1u << 20) ? data->len - off : (1u << 20);
		if (PQputCopyData(c, data->data + off, (int)n) != 1)
			return -1;
	}
	return copy_end(c, sql);
}

/* The relays of the mix bench (tests/bench.d/mix.sh): line k is on every one when k is odd, else on
 * all but relay (k / 2) % 5. */
#define MIX_RELAYS 5
static const char *const mix_relay[MIX_RELAYS] = { RELAY "/0", RELAY "/1", RELAY "/2", RELAY "/3", RELAY "/4" };

static size_t mix_rows(struct buf *rel_rows, const unsigned char id[32], size_t k)
{
	size_t n = 0;
	for (size_t r = 0; r < MIX_RELAYS; r++) {
		if (k % 2 == 0 && r == (k / 2) % MIX_RELAYS)
			continue;
		copy_bytea(rel_rows, id, 32);
		buf_printf(rel_rows, "\t%s\t%lld\n", mix_relay[r], SEEN_AT);
		n++;
	}
	return n;
}

static int run_copy_jsonl(const char *dbname, const char *path, int mix)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 1;
	}
	struct buf ev_rows, rel_rows, tags;
	struct pgarr tv;
	struct json_doc doc;
	struct nostr_event ev;
	buf_init(&ev_rows);
	buf_init(&rel_rows);
	buf_init(&tags);
	pgarr_init(&tv);
	json_doc_init(&doc);
	nostr_event_init(&ev);
	char *line = NULL;
	size_t cap = 0, n = 0, assoc = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		struct nostr_err err = { 0 };
		if (nostr_event_parse(&ev, &doc, line, (size_t)len, &err) < 0)
			continue;
		jsonl_row(&ev_rows, &tv, &tags, &ev);
		if (mix) {
			assoc += mix_rows(&rel_rows, ev.id, n);
		} else {
			copy_bytea(&rel_rows, ev.id, 32);
			buf_printf(&rel_rows, "\t" RELAY "\t%lld\n", SEEN_AT);
			assoc++;
		}
		n++;
	}
	free(line);
	fclose(f);
	if (ev_rows.failed || rel_rows.failed)
		return 1;
	PGconn *c = admin(dbname);
	double t0 = now_s();
	if (exec(c, "BEGIN", PGRES_COMMAND_OK) < 0 ||
	    exec(c, "INSERT INTO relays SELECT u, 'clearnet', 1700000000 FROM unnest(ARRAY['" RELAY "', '" RELAY "/0', '"
		 RELAY "/1', '" RELAY "/2', '" RELAY "/3', '" RELAY "/4']) AS u ON CONFLICT DO NOTHING",
		 PGRES_COMMAND_OK) < 0 ||
	    copy_all(c, "COPY events (id, pubkey, kind, created_at, tags, tagvalues, content, sig) FROM STDIN",
		     &ev_rows) < 0 ||
	    copy_all(c, "COPY events_relays (event_id, relay_url, seen_at) FROM STDIN", &rel_rows) < 0 ||
	    exec(c, "COMMIT", PGRES_COMMAND_OK) < 0)
		return 1;
	double dt = now_s() - t0;
	PQfinish(c);
	printf("rows_per_s=%.0f seconds=%.3f rows=%zu associations=%zu\n", (double)n / dt, dt, n, assoc);
	return 0;
}

/* The events of a JSONL file as pgc rows; their tags and contents point into *text. */
static struct db_event *jsonl_events(const char *path, struct buf *text, size_t *count)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return NULL;
	}
	struct json_doc doc;
	struct nostr_event ev;
	json_doc_init(&doc);
	nostr_event_init(&ev);
	struct db_event *evs = NULL;
	size_t n = 0, cap = 0, *offs = NULL;
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t len;
	while ((len = getline(&line, &line_cap, f)) > 0) {
		struct nostr_err err = { 0 };
		if (nostr_event_parse(&ev, &doc, line, (size_t)len, &err) < 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			evs = realloc(evs, cap * sizeof(*evs));
			offs = realloc(offs, cap * 3 * sizeof(*offs));
			if (!evs || !offs)
				exit(1);
		}
		struct db_event *r = &evs[n];
		memcpy(r->id, ev.id, 32);
		memcpy(r->pubkey, ev.pubkey, 32);
		memcpy(r->sig, ev.sig, 64);
		r->created_at = ev.created_at;
		r->kind = (int32_t)ev.kind;
		offs[3 * n] = text->len;
		nostr_event_tags_json(&ev, text);
		offs[3 * n + 1] = text->len;
		buf_append(text, ev.content.s, ev.content.len);
		offs[3 * n + 2] = text->len;
		n++;
	}
	free(line);
	fclose(f);
	json_doc_free(&doc);
	nostr_event_free(&ev);
	for (size_t i = 0; i < n; i++) {
		evs[i].tags = text->data + offs[3 * i];
		evs[i].tags_len = offs[3 * i + 1] - offs[3 * i];
		evs[i].content = text->data + offs[3 * i + 1];
		evs[i].content_len = offs[3 * i + 2] - offs[3 * i + 1];
	}
	free(offs);
	*count = n;
	return text->failed ? NULL : evs;
}

static int run_batch_jsonl(const char *dbname, const char *path, size_t batch)
{
	struct buf text;
	size_t n = 0;
	buf_init(&text);
	struct db_event *evs = jsonl_events(path, &text, &n);
	if (!evs)
		return 1;
	int rc = store_batches(dbname, evs, n, batch);
	free(evs);
	buf_free(&text);
	return rc;
}

static int run_size(const char *dbname)
{
	PGconn *c = admin(dbname);
	/* VACUUM flushes GIN pending lists, so both databases are measured in the same state. */
	if (exec(c, "VACUUM ANALYZE", PGRES_COMMAND_OK) < 0)
		return 1;
	PGresult *r = PQexec(c, "SELECT pg_total_relation_size('events') + pg_total_relation_size('events_relays'), "
				"pg_total_relation_size('events'), (SELECT count(*) FROM events)");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "db_bench: %s", PQerrorMessage(c));
		return 1;
	}
	printf("bytes=%s events_bytes=%s events=%s\n", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	PQclear(r);
	PQfinish(c);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "batch") == 0)
		return run_batch(argv[2], (size_t)atol(argv[3]), (size_t)atol(argv[4]));
	if (argc == 4 && strcmp(argv[1], "copy") == 0)
		return run_copy(argv[2], (size_t)atol(argv[3]));
	if (argc == 3 && strcmp(argv[1], "size") == 0)
		return run_size(argv[2]);
	if (argc == 4 && strcmp(argv[1], "copy-jsonl") == 0)
		return run_copy_jsonl(argv[2], argv[3], 0);
	if (argc == 4 && strcmp(argv[1], "copy-mix") == 0)
		return run_copy_jsonl(argv[2], argv[3], 1);
	if (argc == 5 && strcmp(argv[1], "batch-jsonl") == 0)
		return run_batch_jsonl(argv[2], argv[3], (size_t)atol(argv[4]));
	fprintf(stderr, "usage: db_bench batch DB EVENTS BATCH | copy DB EVENTS | size DB | copy-jsonl DB FILE | "
			"batch-jsonl DB FILE BATCH | copy-mix DB FILE\n");
	return 2;
}
