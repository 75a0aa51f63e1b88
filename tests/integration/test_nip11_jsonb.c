/* test_nip11_jsonb.c — every NIP-11 document brotr keeps is storable: the canonical form of hostile
 * documents (numbers PostgreSQL cannot hold, lone surrogates, U+0000, deep nesting, the size cap)
 * is cast to jsonb by the real PostgreSQL the harness started. */
#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "nostr/nip11.h"

static PGconn *pq;

static void setup(void)
{
	const char *kw[] = { "host", "port", "dbname", "user", "password", NULL };
	const char *val[] = { getenv("TEST_PGHOST"), getenv("TEST_PGPORT"), "postgres", "postgres",
			      getenv("TEST_PGPASSWORD"), NULL };
	ck_assert_msg(val[0] && val[1] && val[4], "TEST_PG* not set (run through tests/run)");
	pq = PQconnectdbParams(kw, val, 0);
	ck_assert_msg(PQstatus(pq) == CONNECTION_OK, "connect: %s", PQerrorMessage(pq));
}

static void teardown(void)
{
	PQfinish(pq);
}

/* Whether PostgreSQL takes text as jsonb; on refusal *why is its message. */
static int jsonb_ok(const char *text, const char **why)
{
	const char *params[1] = { text };
	PGresult *r = PQexecParams(pq, "SELECT CAST($1 AS text)::jsonb IS NOT NULL", 1, NULL, params, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	static char msg[256];
	snprintf(msg, sizeof(msg), "%s", PQerrorMessage(pq));
	*why = msg;
	PQclear(r);
	return ok;
}

static void check_doc(const char *text, size_t len)
{
	struct nip11_doc d;
	struct nostr_err err = { 0 };
	const char *why;
	nip11_init(&d);
	ck_assert_msg(nip11_parse(&d, text, len, &err) == 0, "parse %.60s: %s", text, err.detail ? err.detail : "");
	ck_assert_msg(jsonb_ok(d.canonical, &why), "%.80s: %s", d.canonical, why);
	nip11_free(&d);
}

START_TEST(hostile_documents_are_storable)
{
	static const char *const docs[] = {
		"{\"x\":1e200000}",
		"{\"x\":-1e131072,\"y\":1e-16384,\"z\":0e-16384,\"w\":0e1073741823}",
		"{\"limitation\":{\"max_limit\":1e300,\"other\":1e99999},\"fees\":{\"admission\":[{\"amount\":1e999999,\"unit\":\"msats\"}]}}",
		"{\"retention\":[{\"kinds\":[1],\"time\":1e400000}],\"supported_nips\":[1,2e500000]}",
		"{\"name\":\"\\ud800\",\"\\udfff\":\"\\ud83c\",\"x\":[\"\\udc00\\ud800\"]}",
		"{\"description\":\"\\u0000\",\"x\":{\"y\":[\"a\\u0000\"]},\"\\u0000\":1}",
		NULL, /* nesting at the limit, built below */
	};
	char deep[2 * JSON_MAX_DEPTH + 32];
	size_t n = 0;
	deep[n++] = '{';
	memcpy(deep + n, "\"x\":", 4), n += 4;
	for (int k = 1; k < JSON_MAX_DEPTH; k++)
		deep[n++] = '[';
	memcpy(deep + n, "1e999999", 8), n += 8;
	for (int k = 1; k < JSON_MAX_DEPTH; k++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		const char *why, *doc = docs[i] ? docs[i] : deep;
		ck_assert_msg(!jsonb_ok(doc, &why), "jsonb took raw document %zu", i);
		check_doc(doc, strlen(doc));
	}
	/* at the size cap: one integer of 200000 digits, and many numbers PostgreSQL would print long */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "{\"big\":");
	for (size_t k = 0; k < 200000; k++)
		buf_putc(&b, (char)('1' + k % 9));
	buf_puts(&b, ",\"many\":[");
	for (size_t k = 0; b.len + 16 < NIP11_MAX_JSON; k++)
		buf_printf(&b, "%s1e%zu", k ? "," : "", 131072 + k % 3);
	buf_puts(&b, "]}");
	ck_assert_uint_le(b.len, NIP11_MAX_JSON);
	check_doc(b.data, b.len);
	buf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nip11_jsonb");
	TCase *tc = tcase_create("nip11_jsonb");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hostile_documents_are_storable);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
