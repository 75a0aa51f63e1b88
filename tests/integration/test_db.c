/* test_db.c — the persistence layer against the real PostgreSQL and PgBouncer (transaction mode)
 * the harness started: every method of pgc/db.h, batch edge cases, deduplication, the data that
 * breaks naive archives, the views on known data, role limits, db init / db check, reconnection
 * across a server restart and an outage, and concurrent writers.
 *
 * Most tests loop over four set-ups: bigbrotr and lilbrotr, each directly and through PgBouncer.
 * Each test gets a fresh database cloned from a template that `db_init` prepared once per
 * implementation. Verification queries go through libpq as the superuser. */
#include <check.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"

static const char *variants[] = { "bigbrotr", "lilbrotr" };
/* The coverage the tests record progress under (the synchronizer passes its filter's fingerprint). */
#define COV "test-coverage"
static int db_counter;

struct setup {
	const char *variant;
	int bouncer;
};
static const struct setup setups[] = { { "bigbrotr", 0 }, { "bigbrotr", 1 }, { "lilbrotr", 0 }, { "lilbrotr", 1 } };

static const char *env(const char *k)
{
	const char *v = getenv(k);
	if (!v || !*v) {
		fprintf(stderr, "test_db: %s is not set (run through tests/run)\n", k);
		exit(1);
	}
	return v;
}

static int is_light(const char *variant)
{
	return strcmp(variant, "lilbrotr") == 0;
}

/* ---------------------------------------------------------------- libpq helpers (verification) */

static PGconn *pq_connect(const char *dbname, const char *user, const char *password)
{
	const char *kw[] = { "host", "port", "dbname", "user", "password", NULL };
	const char *val[] = { env("TEST_PGHOST"), env("TEST_PGPORT"), dbname, user, password, NULL };
	PGconn *c = PQconnectdbParams(kw, val, 0);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect %s as %s: %s", dbname, user, PQerrorMessage(c));
	return c;
}

static PGconn *admin(const char *dbname)
{
	return pq_connect(dbname, "postgres", env("TEST_PGPASSWORD"));
}

/* Runs sql with text parameters; fails the test unless it succeeds. */
static PGresult *q(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
	return r;
}

/* The first value of the first row as a long long (0 when NULL). */
static long long q_int(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult *r = q(c, sql, n, params);
	ck_assert_msg(PQntuples(r) == 1, "%s: %d rows", sql, PQntuples(r));
	long long v = PQgetisnull(r, 0, 0) ? 0 : atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* The first value of the first row as a string (static buffer; "<null>" when NULL). */
static const char *q_str(PGconn *c, const char *sql, int n, const char *const *params)
{
	static char out[8192];
	PGresult *r = q(c, sql, n, params);
	ck_assert_msg(PQntuples(r) == 1, "%s: %d rows", sql, PQntuples(r));
	snprintf(out, sizeof(out), "%s", PQgetisnull(r, 0, 0) ? "<null>" : PQgetvalue(r, 0, 0));
	PQclear(r);
	return out;
}

/* The SQLSTATE of running sql (expected to fail), or "00000". */
static const char *q_fails(PGconn *c, const char *sql)
{
	static char state[6];
	PGresult *r = PQexec(c, sql);
	const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	snprintf(state, sizeof(state), "%s", s ? s : "00000");
	PQclear(r);
	return state;
}

static void harness(const char *fn)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "bash -c '. tests/harness/servers.sh && %s'", fn);
	ck_assert_msg(system(cmd) == 0, "%s failed", fn);
}

/* ---------------------------------------------------------------- fixtures */

static char template_name[2][64];

static void init_options(struct db_admin_options *o, const char *variant, const char *database, char *dir, size_t dirlen)
{
	memset(o, 0, sizeof(*o));
	o->conn.host = env("TEST_PGHOST");
	o->conn.port = atoi(env("TEST_PGPORT"));
	o->conn.user = "postgres";
	o->conn.password = env("TEST_PGPASSWORD");
	o->conn.connect_timeout_ms = 10000;
	o->conn.connect_wait_ms = 10000;
	o->conn.retry_max_ms = 1000;
	snprintf(dir, dirlen, "implementations/%s/config/postgres/init", variant);
	o->init_dir = dir;
	o->database = database;
	o->writer_user = env("TEST_WRITER_USER");
	o->writer_password = env("TEST_WRITER_PASSWORD");
}

/* Once, in the parent: one initialised template database per implementation. */
static void make_templates(void)
{
	for (int i = 0; i < 2; i++) {
		snprintf(template_name[i], sizeof(template_name[i]), "tpl_%s_%d", variants[i], (int)getpid());
		struct db_admin_options o;
		char dir[256];
		init_options(&o, variants[i], template_name[i], dir, sizeof(dir));
		struct buf report;
		buf_init(&report);
		int rc = db_init(&o, &report);
		if (rc != DB_OK) {
			fprintf(stderr, "db_init %s: %s\n", variants[i], report.data ? report.data : "");
			exit(1);
		}
		buf_free(&report);
	}
}

struct ctx {
	const char *variant;
	int bouncer;
	char dbname[64];
	struct db *db;
	PGconn *pq; /* superuser, for verification */
};

static void writer_options(struct db_options *o, const struct ctx *c, const char *dbname)
{
	memset(o, 0, sizeof(*o));
	o->host = env("TEST_PGHOST");
	o->port = atoi(env(c->bouncer ? "TEST_PGBOUNCER_PORT" : "TEST_PGPORT"));
	o->name = dbname;
	o->user = env("TEST_WRITER_USER");
	o->password = env("TEST_WRITER_PASSWORD");
	o->connect_timeout_ms = 10000;
	o->connect_wait_ms = 60000;
	o->retry_max_ms = 1000;
}

static struct db *open_writer(const struct ctx *c)
{
	struct db_options o;
	writer_options(&o, c, c->dbname);
	struct db *db;
	char err[1024];
	int rc = db_open(&db, &o, err, sizeof(err));
	ck_assert_msg(rc == DB_OK, "db_open %s: %s", c->dbname, err);
	return db;
}

/* A fresh database cloned from the variant's template, and a writer connection to it. */
static void setup(struct ctx *c, int i)
{
	memset(c, 0, sizeof(*c));
	c->variant = setups[i].variant;
	c->bouncer = setups[i].bouncer;
	snprintf(c->dbname, sizeof(c->dbname), "t_%d_%d", (int)getpid(), ++db_counter);
	PGconn *a = admin("postgres");
	char sql[256];
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE %s", c->dbname, template_name[is_light(c->variant)]);
	PQclear(q(a, sql, 0, NULL));
	PQfinish(a);
	c->pq = admin(c->dbname);
	c->db = open_writer(c);
	ck_assert_str_eq(db_variant(c->db), c->variant);
}

static void teardown(struct ctx *c)
{
	db_close(c->db);
	PQfinish(c->pq);
}

/* ---------------------------------------------------------------- event helpers */

static void sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int l;
	EVP_Digest(p, n, out, &l, EVP_sha256(), NULL);
}

static void make_event(struct db_event *e, int seed, long long created_at, const char *tags, const char *content)
{
	char s[32];
	memset(e, 0, sizeof(*e));
	snprintf(s, sizeof(s), "event-%d", seed);
	sha256(s, strlen(s), e->id);
	snprintf(s, sizeof(s), "key-%d", seed % 3);
	sha256(s, strlen(s), e->pubkey);
	for (int k = 0; k < 64; k++)
		e->sig[k] = (unsigned char)(seed + k);
	e->created_at = created_at;
	e->kind = 1;
	e->tags = tags;
	e->tags_len = tags ? strlen(tags) : 0;
	e->content = content;
	e->content_len = content ? strlen(content) : 0;
}

static void id_hex(const struct db_event *e, char out[65])
{
	hex_encode(e->id, 32, out);
}

static long long count(struct ctx *c, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return q_int(c->pq, sql, 0, NULL);
}

/* ---------------------------------------------------------------- relays */

START_TEST(test_relays)
{
	struct ctx c;
	setup(&c, _i);
	char at_cap[DB_URL_MAX + 1], over_cap[DB_URL_MAX + 2];
	memset(at_cap, 'a', DB_URL_MAX);
	memcpy(at_cap, "wss://", 6);
	at_cap[DB_URL_MAX] = '\0';
	memset(over_cap, 'b', DB_URL_MAX + 1);
	memcpy(over_cap, "wss://", 6);
	over_cap[DB_URL_MAX + 1] = '\0';
	const char *odd = "wss://q\"uo'te\\back{brace,comma} NULL caf\xc3\xa9.example";
	struct db_relay rs[] = {
		{ "wss://a.example", DB_CLEARNET }, { "ws://abcdefghijklmnop.onion", DB_TOR }, { "", DB_CLEARNET },
		{ over_cap, DB_CLEARNET },          { at_cap, DB_CLEARNET },                   { "wss://a.example", DB_CLEARNET },
		{ odd, DB_CLEARNET },               { "wss://bad\xff.example", DB_CLEARNET },
	};
	size_t n = sizeof(rs) / sizeof(rs[0]);
	unsigned char status[8];
	struct db_relay_result res = { 0 };
	ck_assert_int_eq(db_insert_relay_batch(c.db, rs, n, 1000, &res, status), DB_OK);
	ck_assert_uint_eq(res.inserted, 4);
	ck_assert_uint_eq(res.duplicates, 1);
	ck_assert_uint_eq(res.rejected, 3);
	unsigned char want[] = { DB_ROW_OK, DB_ROW_OK, DB_REJECT_URL, DB_REJECT_URL, DB_ROW_OK, DB_ROW_OK, DB_ROW_OK, DB_REJECT_UTF8 };
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(status[i] == want[i], "row %zu: status %d, want %d", i, status[i], want[i]);
	ck_assert_int_eq(count(&c, "relays"), 4);
	/* Stored byte for byte, the URL at the cap included. */
	const char *p1[] = { odd };
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM relays WHERE url = $1 AND network = 'clearnet'", 1, p1), 1);
	ck_assert_int_eq(q_int(c.pq, "SELECT max(octet_length(url)) FROM relays", 0, NULL), DB_URL_MAX);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM relays WHERE network = 'tor'", 0, NULL), 1);
	ck_assert_int_eq(q_int(c.pq, "SELECT min(inserted_at) FROM relays", 0, NULL), 1000);

	/* Single form. */
	struct db_relay one = { "wss://single.example", DB_CLEARNET };
	struct db_relay_result r1 = { 0 };
	ck_assert_int_eq(db_insert_relay(c.db, &one, 2000, &r1), DB_OK);
	ck_assert_uint_eq(r1.inserted, 1);
	ck_assert_int_eq(db_insert_relay(c.db, &one, 3000, &r1), DB_OK);
	ck_assert_uint_eq(r1.inserted, 1);
	ck_assert_uint_eq(r1.duplicates, 1);
	ck_assert_int_eq(q_int(c.pq, "SELECT inserted_at FROM relays WHERE url = 'wss://single.example'", 0, NULL), 2000);

	/* Read back through the monitor's list, paged, exact strings, URL order. */
	struct db_relay_list l;
	const char *expect[] = { "ws://abcdefghijklmnop.onion", "wss://a.example", at_cap, odd, "wss://single.example" };
	ck_assert_int_eq(db_relays_due(c.db, 5000, NULL, 2, &l), DB_OK);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.rows[0].url, expect[0]);
	ck_assert_int_eq(l.rows[0].network, DB_TOR);
	ck_assert_str_eq(l.rows[1].url, expect[1]);
	ck_assert_int_eq(l.rows[1].checked_at, -1);
	ck_assert_int_eq(l.rows[1].network, DB_CLEARNET);
	char after[DB_URL_MAX + 1];
	snprintf(after, sizeof(after), "%s", l.rows[1].url);
	db_relay_list_free(&l);
	ck_assert_int_eq(db_relays_due(c.db, 5000, after, 10, &l), DB_OK);
	ck_assert_uint_eq(l.n, 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_msg(strcmp(l.rows[i].url, expect[2 + i]) == 0, "row %zu: %.60s", i, l.rows[i].url);
	snprintf(after, sizeof(after), "%s", l.rows[2].url);
	db_relay_list_free(&l);
	ck_assert_int_eq(db_relays_due(c.db, 5000, after, 10, &l), DB_OK);
	ck_assert_uint_eq(l.n, 0);
	db_relay_list_free(&l);

	/* An empty batch is no work and no error. */
	struct db_relay_result r0 = { 0 };
	ck_assert_int_eq(db_insert_relay_batch(c.db, rs, 0, 1, &r0, NULL), DB_OK);
	ck_assert_uint_eq(r0.inserted + r0.duplicates + r0.rejected, 0);
	teardown(&c);
}
END_TEST

/* A relay URL at the length cap fits every btree that holds it: relays, events_relays,
 * relay_metadata, relay_sync_progress. */
START_TEST(test_url_at_cap_everywhere)
{
	struct ctx c;
	setup(&c, _i);
	char url[DB_URL_MAX + 1];
	memset(url, 'x', DB_URL_MAX);
	memcpy(url, "wss://", 6);
	memcpy(url + DB_URL_MAX - 8, ".example", 8);
	url[DB_URL_MAX] = '\0';
	struct db_relay r = { url, DB_CLEARNET };
	struct db_event ev;
	make_event(&ev, 1, 1, "[]", "at the cap");
	struct db_event_result res = { 0 };
	struct db_sync_progress until = { .synced_until = 5 };
	ck_assert_msg(db_insert_event_batch(c.db, &r, &ev, 1, 1, COV, &until, &res, NULL) == DB_OK, "%s", db_error(c.db));
	ck_assert_uint_eq(res.associated, 1);
	ck_assert_int_eq(res.progress.synced_until, 5);
	struct db_doc n66;
	n66.json = "{\"openable\":true,\"readable\":true,\"rtt_read\":5}";
	n66.len = strlen(n66.json);
	memset(n66.id, 7, sizeof(n66.id));
	struct db_relay_metadata m = { r, 10, 1, 0, NULL, &n66, NULL };
	struct db_metadata_result mr = { 0 };
	ck_assert_int_eq(db_insert_relay_metadata(c.db, &m, &mr), DB_OK);
	ck_assert_uint_eq(mr.inserted, 1);
	struct db_relay_list l;
	ck_assert_int_eq(db_readable_relays(c.db, COV, 0, &l), DB_OK);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.rows[0].url, url);
	ck_assert_int_eq(l.rows[0].synced_until, 5);
	db_relay_list_free(&l);
	/* One byte more is refused before anything is sent. */
	char over[DB_URL_MAX + 2];
	snprintf(over, sizeof(over), "%sx", url);
	struct db_relay o = { over, DB_CLEARNET };
	ck_assert_int_eq(db_insert_event_batch(c.db, &o, &ev, 1, 1, NULL, NULL, &res, NULL), DB_ERR);
	ck_assert_ptr_nonnull(strstr(db_error(c.db), "rejected (url)"));
	ck_assert_int_eq(count(&c, "events_relays"), 1);
	teardown(&c);
}
END_TEST

/* ---------------------------------------------------------------- events */

static const char *tricky_content = "quote \" backslash \\ braces {a,b} comma , NULL newline\n tab\t "
				    "caf\xc3\xa9 \xf0\x9f\x98\x80 \\u0000-as-text";
static const char *tricky_tags = "[[\"e\",\"0011\"],[\"p\",\"ab\\\"c\"],[\"client\",\"x,{y}\"],[\"t\",\"caf\xc3\xa9\"]]";

START_TEST(test_events_batch_and_dedup)
{
	struct ctx c;
	setup(&c, _i);
	struct db_event ev[5];
	make_event(&ev[0], 1, 100, tricky_tags, tricky_content);
	make_event(&ev[1], 2, 200, "[]", "");
	make_event(&ev[2], 3, 300, NULL, NULL); /* no tags, no content */
	ev[3] = ev[0];                           /* the same event twice in one batch */
	make_event(&ev[4], 4, 400, "[[\"e\",\"x\"],[\"e\",\"x\"]]", "four");
	ev[4].kind = 30023;
	struct db_relay r1 = { "wss://one.example", DB_CLEARNET }, r2 = { "ws://two.onion", DB_TOR };
	struct db_event_result res = { 0 };
	unsigned char status[5];
	ck_assert_int_eq(db_insert_event_batch(c.db, &r1, ev, 5, 5000, NULL, NULL, &res, status), DB_OK);
	ck_assert_uint_eq(res.inserted, 4);
	ck_assert_uint_eq(res.duplicates, 1);
	ck_assert_uint_eq(res.associated, 4);
	ck_assert_int_eq(res.progress.synced_until, -1);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(status[i], DB_ROW_OK);
	ck_assert_int_eq(count(&c, "events"), 4);
	ck_assert_int_eq(count(&c, "events_relays"), 4);
	ck_assert_int_eq(count(&c, "relays"), 1);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM relay_sync_progress", 0, NULL), 0);

	char id[65];
	id_hex(&ev[0], id);
	const char *pid[] = { id };
	ck_assert_str_eq(q_str(c.pq, "SELECT tagvalues::text FROM events WHERE id = decode($1, 'hex')", 1, pid),
			 "{0011,\"ab\\\"c\",café}");
	ck_assert_int_eq(q_int(c.pq, "SELECT created_at FROM events WHERE id = decode($1, 'hex')", 1, pid), 100);
	char pk[65];
	hex_encode(ev[0].pubkey, 32, pk);
	ck_assert_str_eq(q_str(c.pq, "SELECT encode(pubkey, 'hex') FROM events WHERE id = decode($1, 'hex')", 1, pid), pk);
	if (is_light(c.variant)) {
		ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM events WHERE tags IS NULL AND content IS NULL AND sig IS NULL",
				       0, NULL), 4);
	} else {
		ck_assert_str_eq(q_str(c.pq, "SELECT content FROM events WHERE id = decode($1, 'hex')", 1, pid), tricky_content);
		const char *pt[] = { id, tricky_tags };
		ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM events WHERE id = decode($1, 'hex') AND tags = $2::jsonb",
				       2, pt), 1);
		char sig[129];
		hex_encode(ev[0].sig, 64, sig);
		ck_assert_str_eq(q_str(c.pq, "SELECT encode(sig, 'hex') FROM events WHERE id = decode($1, 'hex')", 1, pid), sig);
		id_hex(&ev[2], id);
		ck_assert_str_eq(q_str(c.pq, "SELECT tags::text || '|' || content FROM events WHERE id = decode($1, 'hex')", 1,
				       pid), "[]|");
	}
	id_hex(&ev[4], id);
	ck_assert_int_eq(q_int(c.pq, "SELECT kind FROM events WHERE id = decode($1, 'hex')", 1, pid), 30023);
	ck_assert_str_eq(q_str(c.pq, "SELECT tagvalues::text FROM events WHERE id = decode($1, 'hex')", 1, pid), "{x,x}");

	/* The same batch again: nothing new. */
	struct db_event_result again = { 0 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r1, ev, 5, 6000, NULL, NULL, &again, NULL), DB_OK);
	ck_assert_uint_eq(again.inserted, 0);
	ck_assert_uint_eq(again.duplicates, 5);
	ck_assert_uint_eq(again.associated, 0);
	/* seen_at keeps the first sighting on a relay. */
	ck_assert_int_eq(q_int(c.pq, "SELECT min(seen_at) + max(seen_at) FROM events_relays", 0, NULL), 10000);

	/* One event on several relays: a new association each, the event stored once. */
	struct db_event_result other = { 0 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r2, ev, 3, 7000, NULL, NULL, &other, NULL), DB_OK);
	ck_assert_uint_eq(other.inserted, 0);
	ck_assert_uint_eq(other.duplicates, 3);
	ck_assert_uint_eq(other.associated, 3);
	ck_assert_int_eq(count(&c, "events"), 4);
	ck_assert_int_eq(count(&c, "events_relays"), 7);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM relays WHERE url = 'ws://two.onion' AND network = 'tor'", 0, NULL), 1);
	id_hex(&ev[0], id);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM events_relays WHERE event_id = decode($1, 'hex')", 1, pid), 2);

	/* Single form. */
	struct db_event e5;
	make_event(&e5, 5, 500, "[[\"p\",\"z\"]]", "five");
	struct db_event_result one = { 0 };
	ck_assert_int_eq(db_insert_event(c.db, &r1, &e5, 8000, &one), DB_OK);
	ck_assert_uint_eq(one.inserted, 1);
	ck_assert_uint_eq(one.associated, 1);
	ck_assert_int_eq(count(&c, "events"), 5);

	/* An empty batch without progress does nothing. */
	struct db_event_result none = { 0 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r1, ev, 0, 9000, NULL, NULL, &none, NULL), DB_OK);
	ck_assert_uint_eq(none.inserted + none.duplicates + none.associated, 0);
	teardown(&c);
}
END_TEST

START_TEST(test_events_large_batch)
{
	struct ctx c;
	setup(&c, _i);
	size_t n = 5000;
	struct db_event *ev = calloc(n, sizeof(*ev));
	char (*tags)[160] = calloc(n, 160);
	for (size_t i = 0; i < n; i++) {
		snprintf(tags[i], 160, "[[\"e\",\"%zu\"],[\"p\",\"k%zu\"],[\"alt\",\"text\"]]", i, i % 7);
		make_event(&ev[i], (int)i + 100, 1000 + (long long)i, tags[i], "some note text, with \"quotes\"");
	}
	struct db_relay r = { "wss://big.example", DB_CLEARNET };
	struct db_event_result res = { 0 };
	struct db_sync_progress until = { .synced_until = 1000 + (int64_t)n };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, ev, n, 1, COV, &until, &res, NULL), DB_OK);
	ck_assert_uint_eq(res.inserted, n);
	ck_assert_uint_eq(res.associated, n);
	ck_assert_int_eq(res.progress.synced_until, until.synced_until);
	ck_assert_int_eq(count(&c, "events"), (long long)n);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM events WHERE tagvalues @> ARRAY['k3']", 0, NULL),
			 (long long)((n + 3) / 7));
	free(ev);
	free(tags);
	teardown(&c);
}
END_TEST

/* U+0000 and invalid UTF-8 are rejected and counted; the rest of the batch is stored. */
START_TEST(test_events_nul_and_utf8)
{
	struct ctx c;
	setup(&c, _i);
	struct db_event ev[6];
	make_event(&ev[0], 1, 1, "[]", "fine");
	make_event(&ev[1], 2, 2, "[]", NULL);
	ev[1].content = "nul\0inside";
	ev[1].content_len = 10;
	make_event(&ev[2], 3, 3, "[[\"e\",\"a\\u0000b\"]]", "tag with an escaped NUL");
	make_event(&ev[3], 4, 4, "[[\"e\",\"a\\\\u0000b\"]]", "a backslash then u0000: plain text"); /* stored */
	make_event(&ev[4], 5, 5, "[]", "\xc0\x80 overlong NUL");
	make_event(&ev[5], 6, 6, "[]", "also fine");
	struct db_relay r = { "wss://r.example", DB_CLEARNET };
	struct db_event_result res = { 0 };
	unsigned char status[6];
	struct db_sync_progress until = { .synced_until = 6 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, ev, 6, 10, COV, &until, &res, status), DB_OK);
	ck_assert_uint_eq(res.inserted, 3);
	ck_assert_uint_eq(res.rejected[DB_REJECT_NUL], 2);
	ck_assert_uint_eq(res.rejected[DB_REJECT_UTF8], 1);
	ck_assert_int_eq(res.progress.synced_until, 6);
	unsigned char want[] = { DB_ROW_OK, DB_REJECT_NUL, DB_REJECT_NUL, DB_ROW_OK, DB_REJECT_UTF8, DB_ROW_OK };
	for (int i = 0; i < 6; i++)
		ck_assert_msg(status[i] == want[i], "row %d: %d", i, status[i]);
	ck_assert_int_eq(count(&c, "events"), 3);
	char id[65];
	id_hex(&ev[3], id);
	const char *pid[] = { id };
	ck_assert_str_eq(q_str(c.pq, "SELECT tagvalues[1] FROM events WHERE id = decode($1, 'hex')", 1, pid), "a\\u0000b");
	ck_assert_str_eq(db_reject_name(DB_REJECT_NUL), "nul");
	teardown(&c);
}
END_TEST

/* Tag values too long for a GIN entry are kept in tags but left out of tagvalues. */
START_TEST(test_events_long_tag_values)
{
	struct ctx c;
	setup(&c, _i);
	size_t big = 3000;
	char *tags = malloc(big + DB_TAGVALUE_MAX * 2 + 200);
	char *v3000 = malloc(big + 1), *v2048 = malloc(DB_TAGVALUE_MAX + 1), *v2049 = malloc(DB_TAGVALUE_MAX + 2);
	memset(v3000, 'x', big);
	v3000[big] = '\0';
	memset(v2048, 'y', DB_TAGVALUE_MAX);
	v2048[DB_TAGVALUE_MAX] = '\0';
	memset(v2049, 'z', DB_TAGVALUE_MAX + 1);
	v2049[DB_TAGVALUE_MAX + 1] = '\0';
	sprintf(tags, "[[\"e\",\"%s\"],[\"p\",\"short\"],[\"t\",\"%s\"],[\"t\",\"%s\"],[\"r\"]]", v3000, v2048, v2049);
	struct db_event ev[2];
	make_event(&ev[0], 1, 1, tags, "long tags");
	make_event(&ev[1], 2, 2, "[[\"t\",\"short\"]]", "neighbour");
	struct db_relay r = { "wss://r.example", DB_CLEARNET };
	struct db_event_result res = { 0 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, ev, 2, 10, NULL, NULL, &res, NULL), DB_OK);
	ck_assert_uint_eq(res.inserted, 2);
	char id[65];
	id_hex(&ev[0], id);
	const char *pid[] = { id };
	ck_assert_int_eq(q_int(c.pq, "SELECT cardinality(tagvalues) FROM events WHERE id = decode($1, 'hex')", 1, pid), 2);
	ck_assert_int_eq(q_int(c.pq, "SELECT octet_length(tagvalues[2]) FROM events WHERE id = decode($1, 'hex')", 1, pid),
			 DB_TAGVALUE_MAX);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM events WHERE tagvalues @> ARRAY['short']", 0, NULL), 2);
	if (!is_light(c.variant))
		ck_assert_int_eq(q_int(c.pq, "SELECT octet_length(tags->0->>1) FROM events WHERE id = decode($1, 'hex')", 1,
				       pid), (long long)big);
	free(tags);
	free(v3000);
	free(v2048);
	free(v2049);
	teardown(&c);
}
END_TEST

/* A row the server refuses (malformed tags JSON) is found and rejected; the others are stored
 * and the progress still moves, since the batch is fully accounted for. */
START_TEST(test_events_server_refused_row)
{
	struct ctx c;
	setup(&c, _i);
	struct db_event ev[4];
	make_event(&ev[0], 1, 1, "[[\"e\",\"1\"]]", "one");
	make_event(&ev[1], 2, 2, "[[\"e\",", "malformed tags");
	make_event(&ev[2], 3, 3, "{\"not\":\"an array\"}", "valid JSON, not an array: stored, no tagvalues");
	make_event(&ev[3], 4, 4, "[\"\\ud800\"]", "lone surrogate escape");
	struct db_relay r = { "wss://r.example", DB_CLEARNET };
	struct db_event_result res = { 0 };
	unsigned char status[4];
	struct db_sync_progress until = { .synced_until = 40 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, ev, 4, 10, COV, &until, &res, status), DB_OK);
	ck_assert_uint_eq(res.inserted, 2);
	ck_assert_uint_eq(res.rejected[DB_REJECT_INVALID], 2);
	ck_assert_int_eq(status[0], DB_ROW_OK);
	ck_assert_int_eq(status[1], DB_REJECT_INVALID);
	ck_assert_int_eq(status[2], DB_ROW_OK);
	ck_assert_int_eq(status[3], DB_REJECT_INVALID);
	ck_assert_int_eq(res.progress.synced_until, 40);
	ck_assert_str_eq(db_error(c.db), "");
	struct db_sync_progress p;
	ck_assert_int_eq(db_sync_progress_get(c.db, r.url, COV, &p), DB_OK);
	ck_assert_int_eq(p.synced_until, 40);
	ck_assert_int_eq(count(&c, "events"), 2);
	/* A single refused row. */
	struct db_event_result one = { 0 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, &ev[1], 1, 10, NULL, NULL, &one, status), DB_OK);
	ck_assert_uint_eq(one.rejected[DB_REJECT_INVALID], 1);
	teardown(&c);
}
END_TEST

/* The three events of the progress tests: at 90, 95 and 150. */
static void progress_events(struct db_event ev[3])
{
	make_event(&ev[0], 1, 90, "[]", "a");
	make_event(&ev[1], 2, 95, "[]", "b");
	make_event(&ev[2], 3, 150, "[]", "c");
}

/* A progress of one window [since, top] archived down to from (synced_until -1 leaves it). */
static struct db_sync_progress window_of(int64_t synced_until, int64_t since, int64_t top, int64_t from)
{
	struct db_sync_progress p = { .synced_until = synced_until, .n_windows = 1 };
	p.window[0] = (struct db_sync_window){ since, top, from };
	return p;
}

/* Progress: synced_until moves forward only, a window's complete_from moves down, both in the
 * same statement as their batch: a batch that fails stores nothing and moves nothing. */
START_TEST(test_sync_progress)
{
	struct ctx c;
	setup(&c, _i);
	struct db_relay r = { "wss://r.example", DB_CLEARNET };
	struct db_event ev[3];
	progress_events(ev);
	struct db_sync_progress p;
	ck_assert_int_eq(db_sync_progress_get(c.db, r.url, COV, &p), DB_OK);
	ck_assert_int_eq(p.synced_until, -1);
	ck_assert_uint_eq(p.n_windows, 0);
	struct db_event_result res = { 0 };
	/* A window [0, 100] walked down to 95 and then 90, before anything was complete. */
	struct db_sync_progress walk = window_of(-1, 0, 100, 95);
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, &ev[1], 1, 10, COV, &walk, &res, NULL), DB_OK);
	ck_assert_int_eq(res.progress.synced_until, -1);
	ck_assert_int_eq(res.progress.walk_from, 95);
	walk.window[0].complete_from = 90;
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, &ev[0], 1, 10, COV, &walk, &res, NULL), DB_OK);
	ck_assert_int_eq(res.progress.walk_from, 90);
	/* The same window never moves back up (a retried older call changes nothing). */
	walk.window[0].complete_from = 95;
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, ev, 0, 10, COV, &walk, &res, NULL), DB_OK);
	ck_assert_int_eq(res.progress.walk_from, 90);
	ck_assert_int_eq(db_sync_progress_get(c.db, r.url, COV, &p), DB_OK);
	ck_assert_uint_eq(p.n_windows, 1);
	ck_assert_int_eq(p.window[0].top, 100);
	ck_assert_int_eq(p.window[0].complete_from, 90);
	/* A second window below it gets the lower part: the first one's since rises in the same call. */
	struct db_sync_progress two = window_of(-1, 50, 100, 90);
	two.window[1] = (struct db_sync_window){ 0, 49, 50 };
	two.n_windows = 2;
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, COV, &two, NULL), DB_OK);
	ck_assert_int_eq(db_sync_progress_get(c.db, r.url, COV, &p), DB_OK);
	ck_assert_uint_eq(p.n_windows, 2);
	ck_assert_int_eq(p.window[0].since, 0);
	ck_assert_int_eq(p.window[0].top, 49);
	ck_assert_int_eq(p.window[1].since, 50);
	/* Both complete: synced_until takes the top and the windows merge into it. */
	struct db_sync_progress done = { .synced_until = 100 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, ev, 0, 10, COV, &done, &res, NULL), DB_OK);
	ck_assert_int_eq(res.progress.walk_from, -1);
	ck_assert_int_eq(db_sync_progress_get(c.db, r.url, COV, &p), DB_OK);
	ck_assert_int_eq(p.synced_until, 100);
	ck_assert_uint_eq(p.n_windows, 0);
	/* synced_until never moves backwards. */
	struct db_sync_progress back = { .synced_until = 50 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, ev, 1, 10, COV, &back, &res, NULL), DB_OK);
	ck_assert_int_eq(res.progress.synced_until, 100);
	/* Windows above synced_until stay until it reaches them; a whole one is not unfinished. */
	struct db_sync_state now;
	struct db_sync_progress w2 = window_of(-1, 101, 300, 250);
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, COV, &w2, &now), DB_OK);
	ck_assert_int_eq(now.synced_until, 100);
	ck_assert_int_eq(now.walk_from, 250);
	struct db_sync_progress w3 = window_of(-1, 301, 400, 301);
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, COV, &w3, &now), DB_OK);
	ck_assert_int_eq(now.walk_from, 250);
	struct db_sync_progress fin = { .synced_until = 400 };
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, COV, &fin, &now), DB_OK);
	ck_assert_int_eq(now.synced_until, 400);
	ck_assert_int_eq(now.walk_from, -1);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM relay_sync_windows", 0, NULL), 0);
	/* A window breaking its rule (complete_from below since) is refused with its batch. */
	struct db_sync_progress wrong = window_of(-1, 500, 600, 499);
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, COV, &wrong, NULL), DB_ERR);
	/* An unknown relay gets created. */
	struct db_relay fresh = { "ws://fresh.onion", DB_TOR };
	struct db_sync_progress seven = { .synced_until = 7 };
	ck_assert_int_eq(db_sync_progress_set(c.db, &fresh, COV, &seven, &now), DB_OK);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM relays WHERE url = 'ws://fresh.onion' AND network = 'tor'", 0,
			       NULL), 1);
	struct db_relay bad = { "", DB_CLEARNET };
	ck_assert_int_eq(db_sync_progress_set(c.db, &bad, COV, &seven, NULL), DB_ERR);
	teardown(&c);
}
END_TEST

/* A batch whose progress cannot be recorded stores nothing; an invalid relay is refused first. */
START_TEST(test_sync_progress_atomic)
{
	struct ctx c;
	setup(&c, _i);
	struct db_relay r = { "wss://r.example", DB_CLEARNET };
	struct db_event ev[3];
	progress_events(ev);
	struct db_event_result res = { 0 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, ev, 2, 10, NULL, NULL, &res, NULL), DB_OK);

	/* Atomicity: break the progress table so the statement fails after inserting events. */
	PQclear(q(c.pq, "ALTER TABLE relay_sync_progress RENAME TO relay_sync_progress_away", 0, NULL));
	struct db_sync_progress until = { .synced_until = 500 };
	struct db_event_result failed = { 0 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, &ev[2], 1, 10, COV, &until, &failed, NULL), DB_ERR);
	ck_assert_ptr_nonnull(strstr(db_error(c.db), "relay_sync_progress"));
	ck_assert_int_eq(count(&c, "events"), 2); /* the event did not stay without its progress */
	PQclear(q(c.pq, "ALTER TABLE relay_sync_progress_away RENAME TO relay_sync_progress", 0, NULL));
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, &ev[2], 1, 10, COV, &until, &res, NULL), DB_OK);
	ck_assert_int_eq(res.progress.synced_until, 500);
	ck_assert_int_eq(count(&c, "events"), 3);
	/* The view confirms what is committed. */
	ck_assert_int_eq(q_int(c.pq, "SELECT last_event_created_at FROM relay_last_event_timestamp WHERE relay_url = "
				     "'wss://r.example'", 0, NULL), 150);
	/* An invalid relay is refused before anything is sent. */
	struct db_relay bad = { "", DB_CLEARNET };
	ck_assert_int_eq(db_insert_event_batch(c.db, &bad, ev, 1, 10, COV, &until, &res, NULL), DB_ERR);
	teardown(&c);
}
END_TEST

/* Progress is bound to what it was earned for: another coverage neither reads it nor merges into it. */
START_TEST(test_sync_progress_coverage)
{
	struct ctx c;
	setup(&c, _i);
	struct db_relay r = { "wss://r.example", DB_CLEARNET };
	struct db_sync_progress p;
	struct db_sync_state now;
	struct db_sync_progress done = { .synced_until = 100 };
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, COV, &done, &now), DB_OK);
	ck_assert_int_eq(db_sync_progress_get(c.db, r.url, COV, &p), DB_OK);
	ck_assert_int_eq(p.synced_until, 100);
	/* A wider filter (another coverage) finds no progress: its walk starts from since. */
	ck_assert_int_eq(db_sync_progress_get(c.db, r.url, "wider", &p), DB_OK);
	ck_assert_int_eq(p.synced_until, -1);
	ck_assert_uint_eq(p.n_windows, 0);
	/* Its first page replaces the old progress instead of merging with it (synced_until would
	 * otherwise stay 100, and the older events of the wider filter would never be fetched). */
	struct db_sync_progress walk = window_of(-1, 0, 300, 250);
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, "wider", &walk, &now), DB_OK);
	ck_assert_int_eq(now.synced_until, -1);
	ck_assert_int_eq(now.walk_from, 250);
	ck_assert_int_eq(db_sync_progress_get(c.db, r.url, COV, &p), DB_OK);
	ck_assert_int_eq(p.synced_until, -1);
	ck_assert_uint_eq(p.n_windows, 0);
	/* The same top under yet another coverage is another window: complete_from is not merged
	 * either, and the windows of the coverage replaced are gone. */
	struct db_sync_progress walk2 = window_of(-1, 0, 300, 280);
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, COV, &walk2, &now), DB_OK);
	ck_assert_int_eq(now.walk_from, 280);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM relay_sync_windows", 0, NULL), 1);
	/* The same for progress recorded with events, and in the synchronizer's work list. */
	struct db_event ev;
	make_event(&ev, 1, 90, "[]", "a");
	struct db_event_result res = { 0 };
	struct db_sync_progress fin = { .synced_until = 300 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, &ev, 1, 10, "wider", &fin, &res, NULL), DB_OK);
	ck_assert_int_eq(res.progress.synced_until, 300);
	struct db_doc d;
	d.json = "{\"openable\":true,\"readable\":true,\"rtt_read\":5}";
	d.len = strlen(d.json);
	sha256(d.json, d.len, d.id);
	struct db_relay_metadata m = { r, 1000, 1, 0, NULL, &d, NULL };
	struct db_metadata_result mr = { 0 };
	ck_assert_int_eq(db_insert_relay_metadata_batch(c.db, &m, 1, &mr, NULL), DB_OK);
	struct db_relay_list l;
	ck_assert_int_eq(db_readable_relays(c.db, "wider", 0, &l), DB_OK);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.rows[0].synced_until, 300);
	db_relay_list_free(&l);
	ck_assert_int_eq(db_readable_relays(c.db, COV, 0, &l), DB_OK);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.rows[0].synced_until, -1);
	db_relay_list_free(&l);
	/* Progress from before coverage existed (NULL) is never reused. */
	PQclear(q(c.pq, "UPDATE relay_sync_progress SET coverage = NULL", 0, NULL));
	ck_assert_int_eq(db_sync_progress_get(c.db, r.url, "wider", &p), DB_OK);
	ck_assert_int_eq(p.synced_until, -1);
	struct db_sync_progress low = { .synced_until = 50 };
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, "wider", &low, &now), DB_OK);
	ck_assert_int_eq(now.synced_until, 50);
	/* Progress without a coverage is refused. */
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, NULL, &low, NULL), DB_ERR);
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, &ev, 1, 10, NULL, &low, &res, NULL), DB_ERR);
	teardown(&c);
}
END_TEST

/* ---------------------------------------------------------------- monitor snapshots and views */

static void doc(struct db_doc *d, const char *json)
{
	d->json = json;
	d->len = strlen(json);
	sha256(json, d->len, d->id);
}

START_TEST(test_metadata_and_views)
{
	struct ctx c;
	setup(&c, _i);
	struct db_doc n11, x, y, z, w;
	doc(&n11, "{\"name\":\"Relay A\",\"description\":\"d\",\"pubkey\":\"ab\",\"supported_nips\":[1,11],"
		  "\"limitation\":{\"max_limit\":500},\"software\":\"s\",\"version\":\"1\",\"custom\":\"y\"}");
	doc(&x, "{\"openable\":true,\"readable\":true,\"writable\":null,\"rtt_open\":120,\"rtt_read\":80,\"rtt_write\":null}");
	doc(&y, "{\"openable\":true,\"readable\":true,\"writable\":true,\"rtt_open\":50,\"rtt_read\":40,\"rtt_write\":60}");
	doc(&z, "{\"openable\":false,\"readable\":false,\"writable\":false,\"read_reason\":\"auth-required: x\"}");
	doc(&w, "{\"openable\":true,\"readable\":true,\"writable\":false,\"rtt_open\":300,\"rtt_read\":200,\"rtt_write\":1e12}");
	struct db_relay r1 = { "wss://r1.example", DB_CLEARNET }, r2 = { "wss://r2.example", DB_CLEARNET },
			r3 = { "ws://r3.onion", DB_TOR }, r4 = { "wss://r4.example", DB_CLEARNET };
	struct db_relay_result rr = { 0 };
	ck_assert_int_eq(db_insert_relay(c.db, &r4, 1, &rr), DB_OK);
	struct db_relay_metadata ms[] = {
		{ r1, 1000, 1, 1, &n11, &x, NULL },
		{ r2, 1000, 1, 1, &n11, &y, NULL }, /* the same NIP-11 document as r1 */
		{ r3, 1000, 0, 0, NULL, &z, NULL },
		{ r1, 2000, 1, 1, &n11, &w, NULL },
		{ r1, 1000, 1, 1, &n11, &x, NULL }, /* the same snapshot again */
	};
	struct db_metadata_result res = { 0 };
	unsigned char status[5];
	ck_assert_int_eq(db_insert_relay_metadata_batch(c.db, ms, 5, &res, status), DB_OK);
	ck_assert_uint_eq(res.inserted, 4);
	ck_assert_uint_eq(res.duplicates, 1);
	ck_assert_uint_eq(res.nip11_inserted, 1);
	ck_assert_uint_eq(res.nip66_inserted, 4);
	ck_assert_int_eq(count(&c, "nip11"), 1);
	ck_assert_int_eq(count(&c, "relays"), 4);

	/* relay_metadata_latest: one row per checked relay, the latest snapshot, joined. */
	ck_assert_int_eq(count(&c, "relay_metadata_latest"), 3);
	ck_assert_str_eq(q_str(c.pq, "SELECT string_agg(relay_url || ':' || generated_at || ':' || coalesce(name, '-') || ':' "
				     "|| coalesce(rtt_read::text, '-') || ':' || readable, ',' ORDER BY relay_url) "
				     "FROM relay_metadata_latest", 0, NULL),
			 "ws://r3.onion:1000:-:-:false,wss://r1.example:2000:Relay A:200:true,"
			 "wss://r2.example:1000:Relay A:40:true");
	ck_assert_str_eq(q_str(c.pq, "SELECT extra_fields::text || supported_nips::text || (limitation->>'max_limit') "
				     "FROM relay_metadata_latest WHERE relay_url = 'wss://r2.example'", 0, NULL),
			 "{\"custom\": \"y\"}[1, 11]500");
	ck_assert_str_eq(q_str(c.pq, "SELECT nip66_extra->>'read_reason' FROM relay_metadata_latest "
				     "WHERE relay_url = 'ws://r3.onion'", 0, NULL), "auth-required: x");
	/* An out-of-range RTT is not a number we keep. */
	ck_assert_str_eq(q_str(c.pq, "SELECT coalesce(rtt_write::text, 'null') FROM relay_metadata_latest "
				     "WHERE relay_url = 'wss://r1.example'", 0, NULL), "null");
	ck_assert_str_eq(q_str(c.pq, "SELECT coalesce(writable::text, 'untested') FROM nip66 WHERE rtt_read = 80", 0, NULL),
			 "untested");

	/* readable_relays: both, in no order of its own; db_readable_relays orders, fastest first. */
	ck_assert_str_eq(q_str(c.pq, "SELECT string_agg(relay_url, ',' ORDER BY relay_url) FROM readable_relays", 0, NULL),
			 "wss://r1.example,wss://r2.example");
	struct db_sync_progress set = { .synced_until = 777 };
	ck_assert_int_eq(db_sync_progress_set(c.db, &r1, COV, &set, NULL), DB_OK);
	struct db_relay_list l;
	ck_assert_int_eq(db_readable_relays(c.db, COV, 0, &l), DB_OK);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.rows[0].url, "wss://r2.example");
	ck_assert_int_eq(l.rows[0].rtt_read, 40);
	ck_assert_int_eq(l.rows[0].synced_until, -1);
	ck_assert_int_eq(l.rows[0].checked_at, 1000);
	ck_assert_str_eq(l.rows[1].url, "wss://r1.example");
	ck_assert_int_eq(l.rows[1].rtt_read, 200);
	ck_assert_int_eq(l.rows[1].synced_until, 777);
	db_relay_list_free(&l);
	ck_assert_int_eq(db_readable_relays(c.db, COV, 1, &l), DB_OK);
	ck_assert_uint_eq(l.n, 1);
	db_relay_list_free(&l);

	/* Relays due for monitoring before 1500: never checked (r4) or last checked at 1000. */
	ck_assert_int_eq(db_relays_due(c.db, 1500, NULL, 100, &l), DB_OK);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.rows[0].url, "ws://r3.onion");
	ck_assert_int_eq(l.rows[0].network, DB_TOR);
	ck_assert_int_eq(l.rows[0].checked_at, 1000);
	ck_assert_str_eq(l.rows[1].url, "wss://r2.example");
	ck_assert_str_eq(l.rows[2].url, "wss://r4.example");
	ck_assert_int_eq(l.rows[2].checked_at, -1);
	db_relay_list_free(&l);

	/* A second monitor pass with identical documents shares every document row. */
	struct db_relay_metadata pass2[] = { { r1, 3000, 1, 1, &n11, &x, NULL }, { r2, 3000, 1, 1, &n11, &y, NULL } };
	struct db_metadata_result res2 = { 0 };
	ck_assert_int_eq(db_insert_relay_metadata_batch(c.db, pass2, 2, &res2, NULL), DB_OK);
	ck_assert_uint_eq(res2.inserted, 2);
	ck_assert_uint_eq(res2.nip11_inserted, 0);
	ck_assert_uint_eq(res2.nip66_inserted, 0);
	ck_assert_int_eq(count(&c, "nip66"), 4);

	/* U+0000 in a document and a malformed document cost the document, not the snapshot; an
	 * over-long URL costs the snapshot (there is no relay to store it for). */
	struct db_doc nul, bad;
	doc(&nul, "{\"name\":\"a\\u0000b\"}");
	doc(&bad, "{\"name\":");
	char long_url[DB_URL_MAX + 10];
	memset(long_url, 'u', sizeof(long_url) - 1);
	long_url[sizeof(long_url) - 1] = '\0';
	struct db_relay_metadata mixed[] = {
		{ r1, 500, 1, 1, &nul, NULL, NULL }, /* older than their latest: the views below do not change */
		{ r2, 500, 1, 1, &bad, NULL, NULL },
		{ { long_url, DB_CLEARNET }, 4000, 1, 0, NULL, NULL, NULL },
		{ r3, 4000, 1, 0, NULL, NULL, NULL },
	};
	struct db_metadata_result res3 = { 0 };
	ck_assert_int_eq(db_insert_relay_metadata_batch(c.db, mixed, 4, &res3, status), DB_OK);
	ck_assert_uint_eq(res3.inserted, 3);
	ck_assert_uint_eq(res3.docs_refused, 2);
	ck_assert_uint_eq(res3.rejected[DB_REJECT_NUL], 0);
	ck_assert_uint_eq(res3.rejected[DB_REJECT_INVALID], 0);
	ck_assert_uint_eq(res3.rejected[DB_REJECT_URL], 1);
	ck_assert_int_eq(status[0], DB_REJECT_DOC);
	ck_assert_int_eq(status[1], DB_REJECT_DOC);
	ck_assert_int_eq(status[2], DB_REJECT_URL);
	ck_assert_int_eq(status[3], DB_ROW_OK);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM relay_metadata WHERE generated_at = 500 AND nip11_ok "
				     "AND nip11_id IS NULL", 0, NULL), 2);
	ck_assert_str_eq(q_str(c.pq, "SELECT connection_ok || ':' || nip11_ok || ':' || coalesce(nip11_id::text, '-') "
				     "FROM relay_metadata_latest WHERE relay_url = 'ws://r3.onion'", 0, NULL), "true:false:-");

	/* Single form. */
	struct db_metadata_result one = { 0 };
	struct db_relay_metadata m = { r4, 5000, 1, 1, &n11, &y, NULL };
	ck_assert_int_eq(db_insert_relay_metadata(c.db, &m, &one), DB_OK);
	ck_assert_uint_eq(one.inserted, 1);
	ck_assert_uint_eq(one.nip11_inserted + one.nip66_inserted, 0);
	ck_assert_str_eq(q_str(c.pq, "SELECT string_agg(relay_url, ',' ORDER BY rtt_read NULLS LAST, relay_url) "
				     "FROM readable_relays", 0, NULL),
			 "wss://r2.example,wss://r4.example,wss://r1.example");
	teardown(&c);
}
END_TEST

/* A NIP-11 document PostgreSQL refuses (a number beyond numeric's range) never costs its snapshot. */
START_TEST(test_metadata_refused_document)
{
	struct ctx c;
	setup(&c, _i);
	struct db_doc good, huge, n66;
	doc(&good, "{\"name\":\"fine\"}");
	doc(&huge, "{\"name\":\"huge\",\"limitation\":{\"max_message_length\":1e200000}}");
	doc(&n66, "{\"openable\":true,\"readable\":true,\"rtt_read\":9}");
	struct db_relay r1 = { "wss://r1.example", DB_CLEARNET }, r2 = { "wss://r2.example", DB_CLEARNET },
			r3 = { "wss://r3.example", DB_CLEARNET };
	struct db_relay_metadata ms[] = {
		{ r1, 1000, 1, 1, &good, &n66, NULL },
		{ r2, 1000, 1, 1, &huge, &n66, NULL },
		{ r3, 1000, 1, 1, &good, &n66, NULL },
	};
	struct db_metadata_result res = { 0 };
	unsigned char status[3];
	ck_assert_msg(db_insert_relay_metadata_batch(c.db, ms, 3, &res, status) == DB_OK, "%s", db_error(c.db));
	ck_assert_uint_eq(res.inserted, 3);
	ck_assert_uint_eq(res.docs_refused, 1);
	ck_assert_uint_eq(res.rejected[DB_REJECT_INVALID], 0);
	ck_assert_int_eq(status[0], DB_ROW_OK);
	ck_assert_int_eq(status[1], DB_REJECT_DOC);
	ck_assert_int_eq(status[2], DB_ROW_OK);
	ck_assert_str_eq(db_error(c.db), "");
	/* Stored without the document: nip11_ok says it was served, no nip11_id says it was not kept. */
	ck_assert_str_eq(q_str(c.pq, "SELECT nip11_ok || ':' || (nip11_id IS NULL) || ':' || coalesce(rtt_read::text, '-') "
				     "FROM relay_metadata_latest WHERE relay_url = 'wss://r2.example'", 0, NULL),
			 "true:true:9");
	/* So the relay is readable, and the synchronizer will archive it. */
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM readable_relays", 0, NULL), 3);
	/* Alone in its batch, the same. */
	struct db_relay_metadata again = { r2, 2000, 1, 1, &huge, &n66, NULL };
	struct db_metadata_result one = { 0 };
	ck_assert_int_eq(db_insert_relay_metadata_batch(c.db, &again, 1, &one, status), DB_OK);
	ck_assert_uint_eq(one.inserted, 1);
	ck_assert_uint_eq(one.docs_refused, 1);
	ck_assert_int_eq(status[0], DB_REJECT_DOC);
	ck_assert_int_eq(count(&c, "relay_metadata"), 4);
	teardown(&c);
}
END_TEST

START_TEST(test_relay_last_event_timestamp)
{
	struct ctx c;
	setup(&c, _i);
	struct db_event ev[3];
	make_event(&ev[0], 1, 10, "[]", "a");
	make_event(&ev[1], 2, 20, "[]", "b");
	make_event(&ev[2], 3, 15, "[]", "c");
	struct db_relay r1 = { "wss://r1.example", DB_CLEARNET }, r2 = { "wss://r2.example", DB_CLEARNET };
	struct db_event_result res = { 0 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r1, ev, 2, 1, NULL, NULL, &res, NULL), DB_OK);
	ck_assert_int_eq(db_insert_event_batch(c.db, &r2, &ev[0], 1, 1, NULL, NULL, &res, NULL), DB_OK);
	ck_assert_int_eq(db_insert_event_batch(c.db, &r2, &ev[2], 1, 1, NULL, NULL, &res, NULL), DB_OK);
	struct db_relay_result rr = { 0 };
	struct db_relay r3 = { "wss://r3.example", DB_CLEARNET };
	ck_assert_int_eq(db_insert_relay(c.db, &r3, 1, &rr), DB_OK); /* no events: not in the view */
	ck_assert_str_eq(q_str(c.pq, "SELECT string_agg(relay_url || '=' || last_event_created_at, ',' ORDER BY relay_url) "
				     "FROM relay_last_event_timestamp", 0, NULL),
			 "wss://r1.example=20,wss://r2.example=15");
	teardown(&c);
}
END_TEST

START_TEST(test_delete_orphan_events)
{
	struct ctx c;
	setup(&c, _i);
	struct db_event ev[4];
	for (int i = 0; i < 4; i++)
		make_event(&ev[i], i, i, "[]", "x");
	struct db_relay r1 = { "wss://r1.example", DB_CLEARNET }, r2 = { "wss://r2.example", DB_CLEARNET };
	struct db_event_result res = { 0 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r1, ev, 4, 1, NULL, NULL, &res, NULL), DB_OK);
	ck_assert_int_eq(db_insert_event_batch(c.db, &r2, ev, 1, 1, NULL, NULL, &res, NULL), DB_OK);
	size_t deleted = 99;
	/* Maintenance is the administrator's: the services' role may not delete events. */
	ck_assert_int_eq(db_delete_orphan_events(c.db, 100, &deleted), DB_ERR);
	ck_assert_ptr_nonnull(strstr(db_error(c.db), "permission denied"));
	struct db_options ao;
	writer_options(&ao, &c, c.dbname);
	ao.user = "postgres";
	ao.password = env("TEST_PGPASSWORD");
	struct db *adm;
	char err[512];
	ck_assert_msg(db_open(&adm, &ao, err, sizeof(err)) == DB_OK, "%s", err);
	ck_assert_int_eq(db_delete_orphan_events(adm, 100, &deleted), DB_OK);
	ck_assert_uint_eq(deleted, 0);
	/* An operator drops relay r1's associations: events 1-3 become orphans, event 0 is on r2. */
	PQclear(q(c.pq, "DELETE FROM events_relays WHERE relay_url = 'wss://r1.example'", 0, NULL));
	ck_assert_int_eq(db_delete_orphan_events(adm, 2, &deleted), DB_OK);
	ck_assert_uint_eq(deleted, 2);
	ck_assert_int_eq(db_delete_orphan_events(adm, 100, &deleted), DB_OK);
	ck_assert_uint_eq(deleted, 1);
	ck_assert_int_eq(db_delete_orphan_events(adm, 100, &deleted), DB_OK);
	ck_assert_uint_eq(deleted, 0);
	db_close(adm);
	ck_assert_int_eq(count(&c, "events"), 1);
	char id[65];
	id_hex(&ev[0], id);
	const char *pid[] = { id };
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM events WHERE id = decode($1, 'hex')", 1, pid), 1);
	teardown(&c);
}
END_TEST

/* ---------------------------------------------------------------- roles */

START_TEST(test_role_limits)
{
	struct ctx c;
	setup(&c, _i * 2); /* bigbrotr, lilbrotr; directly */
	struct db_event ev;
	make_event(&ev, 1, 1, "[]", "x");
	struct db_relay r = { "wss://r.example", DB_CLEARNET };
	struct db_event_result res = { 0 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, &ev, 1, 1, NULL, NULL, &res, NULL), DB_OK);

	PGconn *w = pq_connect(c.dbname, env("TEST_WRITER_USER"), env("TEST_WRITER_PASSWORD"));
	const char *denied[] = {
		"DROP TABLE events",
		"DROP VIEW readable_relays",
		"UPDATE relays SET network = 'tor'",
		"DELETE FROM relays",
		"DELETE FROM events_relays",
		"INSERT INTO relays VALUES ('wss://x', 'clearnet', 1)",
		"TRUNCATE events",
		"CREATE TABLE mine (a int)",
		"ALTER TABLE events ADD COLUMN x int",
		"CREATE OR REPLACE FUNCTION insert_relay_batch(text[], text[], bigint) RETURNS void LANGUAGE sql AS ''",
		"SELECT * FROM events",
		"UPDATE relay_sync_progress SET synced_until = 0",
		"SELECT * FROM delete_orphan_events(10)",
	};
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		ck_assert_msg(strcmp(q_fails(w, denied[i]), "42501") == 0, "writer: %s: %s", denied[i], q_fails(w, denied[i]));
	/* What the services do works. */
	ck_assert_int_eq(q_int(w, "SELECT count(*) FROM relays", 0, NULL), 1);
	ck_assert_int_eq(q_int(w, "SELECT inserted FROM insert_relay('wss://via-sql.example', 'clearnet', 5)", 0, NULL), 1);
	ck_assert_int_eq(q_int(w, "SELECT count(*) FROM readable_relays", 0, NULL), 0);
	PQfinish(w);

	/* The analyst reads everything and writes nothing. */
	PQclear(q(c.pq, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'test_analyst') THEN "
			"CREATE ROLE test_analyst LOGIN PASSWORD 'analyst-pw' IN ROLE brotr_reader; END IF; END $$", 0, NULL));
	PGconn *an = pq_connect(c.dbname, "test_analyst", "analyst-pw");
	ck_assert_int_eq(q_int(an, "SELECT count(*) FROM events", 0, NULL), 1);
	ck_assert_int_eq(q_int(an, "SELECT count(*) FROM events_relays", 0, NULL), 1);
	ck_assert_int_eq(q_int(an, "SELECT count(*) FROM relay_last_event_timestamp", 0, NULL), 1);
	const char *analyst_denied[] = {
		"SELECT * FROM insert_relay('wss://y', 'clearnet', 1)",
		"SELECT * FROM delete_orphan_events(10)",
		"UPDATE events SET kind = 0",
		"DELETE FROM events",
		"DROP TABLE events",
		"CREATE TABLE mine (a int)",
	};
	for (size_t i = 0; i < sizeof(analyst_denied) / sizeof(analyst_denied[0]); i++)
		ck_assert_msg(strcmp(q_fails(an, analyst_denied[i]), "42501") == 0, "analyst: %s", analyst_denied[i]);
	PQfinish(an);
	teardown(&c);
}
END_TEST

/* The single forms as SQL (the C API sends one-row batches instead). */
START_TEST(test_sql_single_forms)
{
	struct ctx c;
	setup(&c, _i * 2);
	PGconn *w = pq_connect(c.dbname, env("TEST_WRITER_USER"), env("TEST_WRITER_PASSWORD"));
	const char *ev = "SELECT inserted || '/' || duplicates || '/' || associated "
			 "FROM insert_event('wss://s.example', 'clearnet', 9, repeat('ab', 32), repeat('cd', 32), 42, 1, "
			 "'[[\"t\",\"v\"]]', 'hello', repeat('ef', 64))";
	ck_assert_str_eq(q_str(w, ev, 0, NULL), "1/0/1");
	ck_assert_str_eq(q_str(w, ev, 0, NULL), "0/1/0");
	ck_assert_str_eq(q_str(c.pq, "SELECT tagvalues::text FROM events", 0, NULL), "{v}");
	ck_assert_str_eq(q_str(w, "SELECT inserted || '/' || duplicates || '/' || rejected FROM "
				  "insert_relay_metadata('wss://s.example', 'clearnet', 7, true, true, repeat('01', 32), "
				  "'{\"name\":\"n\"}', NULL, NULL)", 0, NULL), "1/0/0");
	ck_assert_str_eq(q_str(w, "SELECT inserted || '/' || duplicates || '/' || rejected FROM "
				  "insert_relay('wss://t.example', 'martian', 7)", 0, NULL), "0/0/1");
	ck_assert_str_eq(q_str(c.pq, "SELECT name FROM relay_metadata_latest", 0, NULL), "n");
	PQfinish(w);
	teardown(&c);
}
END_TEST

/* ---------------------------------------------------------------- db init, db check */

/* A fingerprint of every catalog row brotr's objects and roles occupy: any change rewrites a
 * row and so changes its xmin. */
static char *catalog_fingerprint(PGconn *c)
{
	const char *sql =
		"SELECT md5(string_agg(x, ',' ORDER BY x)) FROM ("
		" SELECT 'c' || c.oid || ':' || c.xmin || ':' || coalesce(c.relacl::text, '') AS x FROM pg_class c"
		"  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
		" UNION ALL SELECT 'p' || p.oid || ':' || p.xmin || ':' || coalesce(p.proacl::text, '') FROM pg_proc p"
		"  JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
		" UNION ALL SELECT 'n' || n.oid || ':' || n.xmin || ':' || coalesce(n.nspacl::text, '') FROM pg_namespace n"
		"  WHERE n.nspname = 'public'"
		" UNION ALL SELECT 'r' || a.oid || ':' || a.xmin FROM pg_authid a WHERE a.rolname LIKE 'brotr%'"
		" UNION ALL SELECT 's' || xmin || ':' || checksum FROM brotr_schema"
		" UNION ALL SELECT 'd' || d.oid || ':' || d.xmin FROM pg_default_acl d) AS o";
	return strdup(q_str(c, sql, 0, NULL));
}

START_TEST(test_db_init_idempotent_and_check)
{
	struct ctx c;
	setup(&c, _i * 2);
	char *before = catalog_fingerprint(c.pq);
	struct db_admin_options o;
	char dir[256];
	init_options(&o, c.variant, c.dbname, dir, sizeof(dir));
	struct buf report;
	buf_init(&report);
	ck_assert_int_eq(db_init(&o, &report), DB_OK);
	ck_assert_msg(strstr(report.data, "nothing to do"), "%s", report.data);
	char *after = catalog_fingerprint(c.pq);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);

	/* db check passes, directly and through PgBouncer. */
	buf_reset(&report);
	ck_assert_msg(db_check(c.db, dir, &report) == DB_OK, "%s", report.data);
	ck_assert_ptr_nonnull(strstr(report.data, "db check: ok"));
	struct ctx viab = c;
	viab.bouncer = 1;
	struct db *b = open_writer(&viab);
	buf_reset(&report);
	ck_assert_msg(db_check(b, dir, &report) == DB_OK, "%s", report.data);
	db_close(b);

	/* The other implementation's init SQL does not match, and cannot be applied over it. */
	before = catalog_fingerprint(c.pq);
	char other[256];
	snprintf(other, sizeof(other), "implementations/%s/config/postgres/init", variants[!is_light(c.variant)]);
	buf_reset(&report);
	ck_assert_int_eq(db_check(c.db, other, &report), DB_ERR);
	ck_assert_msg(strstr(report.data, "checksum:"), "%s", report.data);
	struct db_admin_options wrong;
	char wdir[256];
	init_options(&wrong, variants[!is_light(c.variant)], c.dbname, wdir, sizeof(wdir));
	buf_reset(&report);
	ck_assert_int_eq(db_init(&wrong, &report), DB_ERR);
	ck_assert_msg(strstr(report.data, "cannot become") && strstr(report.data, "rolled back"), "%s", report.data);
	after = catalog_fingerprint(c.pq);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);

	/* Missing objects, a wrong version and excess privileges are named. */
	PQclear(q(c.pq, "DROP FUNCTION delete_orphan_events(integer)", 0, NULL));
	PQclear(q(c.pq, "DROP VIEW readable_relays", 0, NULL));
	PQclear(q(c.pq, "UPDATE brotr_schema SET version = 99", 0, NULL));
	PQclear(q(c.pq, "GRANT INSERT ON events TO brotr_writer", 0, NULL));
	PQclear(q(c.pq, "REVOKE SELECT ON relays FROM brotr_writer", 0, NULL));
	buf_reset(&report);
	ck_assert_int_eq(db_check(c.db, dir, &report), DB_ERR);
	const char *expect[] = { "missing: function delete_orphan_events(integer)", "missing: view readable_relays",
				 "schema version 99", "can write table events directly", "cannot SELECT from table relays",
				 "5 problems" };
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		ck_assert_msg(strstr(report.data, expect[i]), "want '%s' in:\n%s", expect[i], report.data);

	/* db init repairs it (the version differs, so the SQL is applied again). */
	buf_reset(&report);
	ck_assert_msg(db_init(&o, &report) == DB_OK, "%s", report.data);
	ck_assert_msg(strstr(report.data, "created function delete_orphan_events(integer)") &&
			      strstr(report.data, "created view readable_relays"),
		      "%s", report.data);
	buf_reset(&report);
	ck_assert_msg(db_check(c.db, dir, &report) == DB_OK, "%s", report.data);
	buf_free(&report);
	teardown(&c);
}
END_TEST

/* A database of schema version 1 (progress without coverage, the old procedures, the writer
 * allowed to delete events) is upgraded in place by db init; its old progress is never reused. */
START_TEST(test_db_init_upgrades_version_1)
{
	struct ctx c;
	setup(&c, _i * 2);
	struct db_relay r = { "wss://old.example", DB_CLEARNET };
	struct db_sync_progress old = { .synced_until = 100 };
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, COV, &old, NULL), DB_OK);
	/* Several statements: PQexec (the simple protocol) runs them as one transaction. */
	PGresult *pr = PQexec(c.pq,
		  "BEGIN; SET LOCAL ROLE brotr_owner;"
		  " ALTER TABLE relay_sync_progress DROP COLUMN coverage;"
		  " DROP FUNCTION set_relay_sync_progress(text, text, text, bigint, bigint[], bigint[], bigint[]);"
		  " CREATE FUNCTION set_relay_sync_progress(p_relay_url text, p_network text, p_synced_until bigint,"
		  "  p_walk_top bigint, p_walk_from bigint, OUT synced_until bigint, OUT walk_top bigint,"
		  "  OUT walk_from bigint) LANGUAGE sql AS $f$SELECT 1::bigint, 2::bigint, 3::bigint$f$;"
		  " GRANT EXECUTE ON FUNCTION delete_orphan_events(integer) TO brotr_writer;"
		  " UPDATE brotr_schema SET version = 1, checksum = 'v1';"
		  " RESET ROLE;"
		  " CREATE FUNCTION brotr_ensure_login(text, text) RETURNS text LANGUAGE sql AS $f$SELECT ''::text$f$;"
		  " ALTER FUNCTION brotr_ensure_login(text, text) OWNER TO brotr_owner; COMMIT");
	ck_assert_msg(PQresultStatus(pr) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c.pq));
	PQclear(pr);
	struct buf report;
	buf_init(&report);
	ck_assert_msg(db_check(c.db, NULL, &report) == DB_ERR, "%s", report.data);
	ck_assert_msg(strstr(report.data, "schema version 1, this brotr needs 3") &&
			      strstr(report.data, "missing: function set_relay_sync_progress(text,text,text,") &&
			      strstr(report.data, "can EXECUTE delete_orphan_events"),
		      "%s", report.data);
	struct db_admin_options o;
	char dir[256];
	init_options(&o, c.variant, c.dbname, dir, sizeof(dir));
	buf_reset(&report);
	ck_assert_msg(db_init(&o, &report) == DB_OK, "%s", report.data);
	buf_reset(&report);
	ck_assert_msg(db_check(c.db, dir, &report) == DB_OK, "%s", report.data);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM pg_proc WHERE proname IN ('brotr_ensure_login', "
				     "'set_relay_sync_progress')", 0, NULL), 1);
	/* The old row stays, but proves nothing for any coverage. */
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM relay_sync_progress WHERE coverage IS NULL", 0, NULL), 1);
	struct db_sync_progress p;
	ck_assert_int_eq(db_sync_progress_get(c.db, r.url, COV, &p), DB_OK);
	ck_assert_int_eq(p.synced_until, -1);
	buf_free(&report);
	teardown(&c);
}
END_TEST

/* A database of schema version 2 kept one walk per relay (walk_top, walk_from in relay_sync_progress):
 * db init turns it into a window from just above synced_until, and the columns go. */
START_TEST(test_db_init_upgrades_version_2)
{
	struct ctx c;
	setup(&c, _i * 2);
	struct db_relay r = { "wss://walking.example", DB_CLEARNET }, d = { "wss://done.example", DB_CLEARNET };
	struct db_sync_progress old = { .synced_until = 100 };
	ck_assert_int_eq(db_sync_progress_set(c.db, &r, COV, &old, NULL), DB_OK);
	ck_assert_int_eq(db_sync_progress_set(c.db, &d, COV, &old, NULL), DB_OK);
	PGresult *pr = PQexec(c.pq,
		  "BEGIN; SET LOCAL ROLE brotr_owner;"
		  " DROP TABLE relay_sync_windows;"
		  " ALTER TABLE relay_sync_progress ADD COLUMN walk_top bigint, ADD COLUMN walk_from bigint;"
		  " UPDATE relay_sync_progress SET walk_top = 500, walk_from = 420 WHERE relay_url = 'wss://walking.example';"
		  " UPDATE brotr_schema SET version = 2, checksum = 'v2';"
		  " COMMIT");
	ck_assert_msg(PQresultStatus(pr) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c.pq));
	PQclear(pr);
	struct db_admin_options o;
	char dir[256];
	struct buf report;
	buf_init(&report);
	init_options(&o, c.variant, c.dbname, dir, sizeof(dir));
	ck_assert_msg(db_init(&o, &report) == DB_OK, "%s", report.data);
	buf_reset(&report);
	ck_assert_msg(db_check(c.db, dir, &report) == DB_OK, "%s", report.data);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM information_schema.columns WHERE table_name = "
				     "'relay_sync_progress' AND column_name IN ('walk_top', 'walk_from')", 0, NULL), 0);
	struct db_sync_progress p;
	ck_assert_int_eq(db_sync_progress_get(c.db, r.url, COV, &p), DB_OK);
	ck_assert_int_eq(p.synced_until, 100);
	ck_assert_uint_eq(p.n_windows, 1);
	ck_assert_int_eq(p.window[0].since, 101);
	ck_assert_int_eq(p.window[0].top, 500);
	ck_assert_int_eq(p.window[0].complete_from, 420);
	ck_assert_int_eq(db_sync_progress_get(c.db, d.url, COV, &p), DB_OK);
	ck_assert_int_eq(p.synced_until, 100);
	ck_assert_uint_eq(p.n_windows, 0);
	buf_free(&report);
	teardown(&c);
}
END_TEST

/* db init runs as the administrator: nothing a member of brotr_owner can define runs with its rights. */
START_TEST(test_db_init_runs_no_owner_code)
{
	struct ctx c;
	setup(&c, 0);
	ck_assert_int_eq(q_int(c.pq, "SELECT count(*) FROM pg_proc WHERE proname = 'brotr_ensure_login'", 0, NULL), 0);
	PQclear(q(c.pq, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'test_mallory') THEN "
			"CREATE ROLE test_mallory NOLOGIN IN ROLE brotr_owner; END IF; END $$", 0, NULL));
	/* What a member of brotr_owner could do: (re)define the function db init used to call. */
	PQclear(q(c.pq, "SET ROLE brotr_owner", 0, NULL));
	PQclear(q(c.pq, "CREATE FUNCTION brotr_ensure_login(p_role text, p_secret text) RETURNS text LANGUAGE plpgsql "
			"AS $$ BEGIN ALTER ROLE test_mallory SUPERUSER; RETURN 'owned'; END $$", 0, NULL));
	PQclear(q(c.pq, "RESET ROLE", 0, NULL));
	struct db_admin_options o;
	char dir[256];
	init_options(&o, c.variant, c.dbname, dir, sizeof(dir));
	o.writer_user = "test_service_mallory";
	struct buf report;
	buf_init(&report);
	ck_assert_msg(db_init(&o, &report) == DB_OK, "%s", report.data);
	ck_assert_msg(strstr(report.data, "role test_service_mallory: role created, password set, granted brotr_writer"),
		      "%s", report.data);
	ck_assert_int_eq(q_int(c.pq, "SELECT rolsuper::int FROM pg_roles WHERE rolname = 'test_mallory'", 0, NULL), 0);
	/* Run again with nothing to do: still nothing of the owner's runs. */
	buf_reset(&report);
	ck_assert_msg(db_init(&o, &report) == DB_OK, "%s", report.data);
	ck_assert_msg(strstr(report.data, "nothing to do"), "%s", report.data);
	ck_assert_int_eq(q_int(c.pq, "SELECT rolsuper::int FROM pg_roles WHERE rolname = 'test_mallory'", 0, NULL), 0);
	buf_free(&report);
	PQclear(q(c.pq, "DROP FUNCTION brotr_ensure_login(text, text)", 0, NULL));
	teardown(&c);
	PGconn *a = admin("postgres");
	PQclear(q(a, "DROP ROLE test_mallory", 0, NULL));
	PQclear(q(a, "DROP ROLE test_service_mallory", 0, NULL));
	PQfinish(a);
}
END_TEST

/* From nothing: roles, database, schema, the writer's password; then nothing more to do. */
START_TEST(test_db_init_from_scratch)
{
	char name[64], dir[256];
	snprintf(name, sizeof(name), "scratch_%d_%d", (int)getpid(), _i);
	struct db_admin_options o;
	init_options(&o, variants[_i], name, dir, sizeof(dir));
	o.writer_user = "test_service";
	o.writer_password = "first-password";
	struct buf report;
	buf_init(&report);
	ck_assert_msg(db_init(&o, &report) == DB_OK, "%s", report.data);
	ck_assert_msg(strstr(report.data, "created database") && strstr(report.data, "created table events") &&
			      strstr(report.data, "schema version 3") && strstr(report.data, "role test_service"),
		      "%s", report.data);
	PGconn *s = pq_connect(name, "test_service", "first-password");
	ck_assert_int_eq(q_int(s, "SELECT count(*) FROM relays", 0, NULL), 0);
	ck_assert_int_eq(q_int(s, "SELECT pg_has_role('brotr_writer', 'MEMBER')::int", 0, NULL), 1);
	PQfinish(s);
	buf_reset(&report);
	ck_assert_int_eq(db_init(&o, &report), DB_OK);
	ck_assert_msg(strstr(report.data, "nothing to do"), "%s", report.data);
	/* A new password is set, and only then. */
	o.writer_password = "second-password";
	buf_reset(&report);
	ck_assert_int_eq(db_init(&o, &report), DB_OK);
	ck_assert_msg(strstr(report.data, "password set"), "%s", report.data);
	s = pq_connect(name, "test_service", "second-password");
	PQfinish(s);
	buf_free(&report);
}
END_TEST

/* A copy of bigbrotr's init directory in dir, with one more file, 50_extra.sql, holding sql. */
static void init_dir_with(const char *dir, const char *sql)
{
	char cmd[2048], cwd[256];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp implementations/bigbrotr/config/postgres/init/*.sql %s && "
				   "sed -i 's|\\.\\./\\.\\./\\.\\./\\.\\./\\.\\./sql|%s/sql|' %s/*.sql && "
				   "printf '%%s\\n' '%s' > %s/50_extra.sql",
		 dir, dir, cwd, dir, sql, dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void rm_dir(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_db_init_bad_sql_rolls_back)
{
	char name[64], dir[128];
	snprintf(name, sizeof(name), "badsql_%d", (int)getpid());
	snprintf(dir, sizeof(dir), "/tmp/brotr-badsql-%d", (int)getpid());
	init_dir_with(dir, "CREATE TABLE oops (;");
	struct db_admin_options o;
	char unused[256];
	init_options(&o, "bigbrotr", name, unused, sizeof(unused));
	o.init_dir = dir;
	struct buf report;
	buf_init(&report);
	ck_assert_int_eq(db_init(&o, &report), DB_ERR);
	ck_assert_msg(strstr(report.data, "50_extra.sql") && strstr(report.data, "rolled back"), "%s", report.data);
	PGconn *a = admin(name);
	ck_assert_int_eq(q_int(a, "SELECT count(*) FROM pg_class WHERE relname IN ('events', 'relays')", 0, NULL), 0);
	PQfinish(a);
	buf_free(&report);
	rm_dir(dir);
}
END_TEST

/* SQL is sent as written: a "$1" in a comment is no parameter (ECPG's EXECUTE IMMEDIATE once made
 * such a file fail with "too few arguments", which db init took for a SELECT's rows, skipping the
 * file), and a file may end with a SELECT. */
START_TEST(test_db_init_sends_sql_as_written)
{
	char name[64], dir[128];
	snprintf(name, sizeof(name), "dollar_%d", (int)getpid());
	snprintf(dir, sizeof(dir), "/tmp/brotr-dollar-%d", (int)getpid());
	init_dir_with(dir, "-- the first argument is $1\nCREATE TABLE dollar_check (x int);\nSELECT 1;");
	struct db_admin_options o;
	char unused[256];
	init_options(&o, "bigbrotr", name, unused, sizeof(unused));
	o.init_dir = dir;
	struct buf report;
	buf_init(&report);
	ck_assert_msg(db_init(&o, &report) == DB_OK, "%s", report.data);
	PGconn *a = admin(name);
	ck_assert_int_eq(q_int(a, "SELECT count(*) FROM pg_class WHERE relname = 'dollar_check'", 0, NULL), 1);
	PQfinish(a);
	buf_free(&report);
	rm_dir(dir);
}
END_TEST

/* ---------------------------------------------------------------- connections */

START_TEST(test_restart_reconnects)
{
	struct ctx c;
	setup(&c, _i);
	struct db_relay r = { "wss://r.example", DB_CLEARNET };
	struct db_event ev[4];
	for (int i = 0; i < 4; i++)
		make_event(&ev[i], i, i, "[]", "x");
	struct db_event_result res = { 0 };
	ck_assert_int_eq(db_insert_event_batch(c.db, &r, ev, 1, 1, NULL, NULL, &res, NULL), DB_OK);
	PQfinish(c.pq);
	harness("pg_restart");
	/* The next batch notices the lost connection, reconnects and is stored. */
	ck_assert_msg(db_insert_event_batch(c.db, &r, &ev[1], 1, 1, NULL, NULL, &res, NULL) == DB_OK, "%s", db_error(c.db));
	ck_assert_int_eq(db_health(c.db), DB_OK);

	/* An outage: the server is down when the batch is sent and comes back later. */
	harness("pg_down");
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		sleep(2);
		execlp("bash", "bash", "-c", ". tests/harness/servers.sh && pg_up", (char *)NULL);
		_exit(127);
	}
	struct db_sync_progress until = { .synced_until = 3 };
	int rc = db_insert_event_batch(c.db, &r, &ev[2], 2, 1, COV, &until, &res, NULL);
	int st;
	waitpid(child, &st, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pg_up failed");
	ck_assert_msg(rc == DB_OK, "%s", db_error(c.db));
	ck_assert_int_eq(res.progress.synced_until, 3);
	c.pq = admin(c.dbname);
	ck_assert_int_eq(count(&c, "events"), 4);
	teardown(&c);
}
END_TEST

START_TEST(test_connect_failures)
{
	struct ctx c = { .variant = "bigbrotr" };
	snprintf(c.dbname, sizeof(c.dbname), "postgres");
	struct db_options o;
	writer_options(&o, &c, c.dbname);
	struct db *db = NULL;
	char err[1024];
	/* Nothing listens: retried for connect_wait, then DB_ERR_CONN with libpq's reason. */
	o.port = 1;
	o.connect_wait_ms = 600;
	ck_assert_int_eq(db_open(&db, &o, err, sizeof(err)), DB_ERR_CONN);
	ck_assert_ptr_null(db);
	ck_assert_msg(strstr(err, "cannot connect"), "%s", err);
	/* A wrong password is final: no waiting. */
	writer_options(&o, &c, c.dbname);
	o.password = "wrong";
	ck_assert_int_eq(db_open(&db, &o, err, sizeof(err)), DB_ERR);
	ck_assert_msg(strstr(err, "authentication failed"), "%s", err);
	/* An unknown database too. */
	writer_options(&o, &c, "no_such_database");
	ck_assert_int_eq(db_open(&db, &o, err, sizeof(err)), DB_ERR);
	/* PgBouncer 1.18 refuses everything with 08P01, a connection exception: retried for
	 * connect_wait, its reason kept. */
	struct ctx viab = c;
	viab.bouncer = 1;
	writer_options(&o, &viab, c.dbname);
	o.password = "wrong";
	o.connect_wait_ms = 600;
	ck_assert_int_eq(db_open(&db, &o, err, sizeof(err)), DB_ERR_CONN);
	ck_assert_msg(strstr(err, "08P01") && strstr(err, "authentication failed"), "%s", err);
	/* A stop request ends the wait. */
	static volatile sig_atomic_t stop = 1;
	writer_options(&o, &c, c.dbname);
	o.port = 1;
	o.stop = &stop;
	ck_assert_int_eq(db_open(&db, &o, err, sizeof(err)), DB_ERR_STOP);
	/* Names that would change the connection target are refused. */
	writer_options(&o, &c, "x?host=evil");
	ck_assert_int_eq(db_open(&db, &o, err, sizeof(err)), DB_ERR);
	ck_assert_msg(strstr(err, "database name"), "%s", err);
	/* A Unix socket directory works as host. */
	writer_options(&o, &c, c.dbname);
	o.host = env("TEST_PGSOCK");
	o.user = "postgres";
	o.password = "";
	ck_assert_msg(db_open(&db, &o, err, sizeof(err)) == DB_OK, "%s", err);
	ck_assert_int_eq(db_health(db), DB_OK);
	db_close(db);
}
END_TEST

struct writer_job {
	struct ctx *c;
	const struct db_event *ev;
	size_t n;
	int reverse;
	const char *relay;
	size_t inserted, associated;
	int rc;
};

static void *writer_thread(void *arg)
{
	struct writer_job *j = arg;
	struct db_options o;
	writer_options(&o, j->c, j->c->dbname);
	struct db *db;
	char err[512];
	if ((j->rc = db_open(&db, &o, err, sizeof(err))) != DB_OK)
		return NULL;
	struct db_relay r = { j->relay, DB_CLEARNET };
	size_t batch = 250;
	struct db_event *buf = malloc(batch * sizeof(*buf));
	for (size_t start = 0; start < j->n && j->rc == DB_OK; start += batch) {
		size_t k = j->n - start < batch ? j->n - start : batch;
		for (size_t i = 0; i < k; i++)
			buf[i] = j->reverse ? j->ev[j->n - 1 - start - i] : j->ev[start + i];
		struct db_event_result res = { 0 };
		j->rc = db_insert_event_batch(db, &r, buf, k, 1, NULL, NULL, &res, NULL);
		j->inserted += res.inserted;
		j->associated += res.associated;
	}
	free(buf);
	db_close(db);
	return NULL;
}

/* Two writers storing the same events in opposite orders: each stored once, no error. */
START_TEST(test_concurrent_writers)
{
	struct ctx c;
	setup(&c, _i);
	size_t n = 3000;
	struct db_event *ev = calloc(n, sizeof(*ev));
	for (size_t i = 0; i < n; i++)
		make_event(&ev[i], (int)i, (long long)i, "[[\"p\",\"k\"]]", "shared");
	struct writer_job a = { &c, ev, n, 0, "wss://a.example", 0, 0, 0 };
	struct writer_job b = { &c, ev, n, 1, "wss://b.example", 0, 0, 0 };
	pthread_t ta, tb;
	pthread_create(&ta, NULL, writer_thread, &a);
	pthread_create(&tb, NULL, writer_thread, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	ck_assert_int_eq(a.rc, DB_OK);
	ck_assert_int_eq(b.rc, DB_OK);
	ck_assert_uint_eq(a.inserted + b.inserted, n);
	ck_assert_uint_eq(a.associated, n);
	ck_assert_uint_eq(b.associated, n);
	ck_assert_int_eq(count(&c, "events"), (long long)n);
	ck_assert_int_eq(count(&c, "events_relays"), 2 * (long long)n);
	free(ev);
	teardown(&c);
}
END_TEST

int main(void)
{
	make_templates();
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("writes");
	tcase_set_timeout(tc, 0); /* no time limit: a slow machine is not a failure */
	tcase_add_loop_test(tc, test_relays, 0, 4);
	tcase_add_loop_test(tc, test_url_at_cap_everywhere, 0, 4);
	tcase_add_loop_test(tc, test_events_batch_and_dedup, 0, 4);
	tcase_add_loop_test(tc, test_events_large_batch, 0, 4);
	tcase_add_loop_test(tc, test_events_nul_and_utf8, 0, 4);
	tcase_add_loop_test(tc, test_events_long_tag_values, 0, 4);
	tcase_add_loop_test(tc, test_events_server_refused_row, 0, 4);
	tcase_add_loop_test(tc, test_sync_progress, 0, 4);
	tcase_add_loop_test(tc, test_sync_progress_atomic, 0, 4);
	tcase_add_loop_test(tc, test_sync_progress_coverage, 0, 4);
	tcase_add_loop_test(tc, test_metadata_and_views, 0, 4);
	tcase_add_loop_test(tc, test_metadata_refused_document, 0, 4);
	tcase_add_loop_test(tc, test_relay_last_event_timestamp, 0, 4);
	tcase_add_loop_test(tc, test_delete_orphan_events, 0, 4);
	tcase_add_loop_test(tc, test_concurrent_writers, 0, 4);
	suite_add_tcase(s, tc);
	tc = tcase_create("roles");
	tcase_set_timeout(tc, 0);
	tcase_add_loop_test(tc, test_role_limits, 0, 2);
	tcase_add_loop_test(tc, test_sql_single_forms, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("admin");
	tcase_set_timeout(tc, 0);
	tcase_add_loop_test(tc, test_db_init_idempotent_and_check, 0, 2);
	tcase_add_loop_test(tc, test_db_init_from_scratch, 0, 2);
	tcase_add_test(tc, test_db_init_runs_no_owner_code);
	tcase_add_loop_test(tc, test_db_init_upgrades_version_1, 0, 2);
	tcase_add_loop_test(tc, test_db_init_upgrades_version_2, 0, 2);
	tcase_add_test(tc, test_db_init_bad_sql_rolls_back);
	tcase_add_test(tc, test_db_init_sends_sql_as_written);
	suite_add_tcase(s, tc);
	tc = tcase_create("connections");
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_connect_failures);
	tcase_add_loop_test(tc, test_restart_reconnects, 0, 4);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
