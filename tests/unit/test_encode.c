/* test_encode.c — the array-literal encoder and the text checks of pgc/encode.c, the SCRAM
 * verifiers of pgc/scram.c and the init-directory reader of pgc/script.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encode.h"
#include "scram.h"
#include "script.h"

static const char *one_text(struct pgarr *a, const char *s, size_t len)
{
	pgarr_begin(a);
	ck_assert_int_eq(pgarr_text(a, s, len), 0);
	return pgarr_end(a);
}

START_TEST(test_array_plain_and_empty)
{
	struct pgarr a;
	pgarr_init(&a);
	pgarr_begin(&a);
	ck_assert_str_eq(pgarr_end(&a), "{}");
	ck_assert_str_eq(one_text(&a, "abc", 3), "{\"abc\"}");
	ck_assert_str_eq(one_text(&a, "", 0), "{\"\"}");
	pgarr_free(&a);
}
END_TEST

START_TEST(test_array_quotes_backslashes)
{
	struct pgarr a;
	pgarr_init(&a);
	ck_assert_str_eq(one_text(&a, "say \"hi\"", 8), "{\"say \\\"hi\\\"\"}");
	ck_assert_str_eq(one_text(&a, "a\\b", 3), "{\"a\\\\b\"}");
	ck_assert_str_eq(one_text(&a, "\\\"", 2), "{\"\\\\\\\"\"}");
	/* JSON text keeps its own escapes, each backslash doubled once more. */
	ck_assert_str_eq(one_text(&a, "[\"\\u00e9\"]", 10), "{\"[\\\"\\\\u00e9\\\"]\"}");
	pgarr_free(&a);
}
END_TEST

START_TEST(test_array_braces_commas_null_word)
{
	struct pgarr a;
	pgarr_init(&a);
	ck_assert_str_eq(one_text(&a, "{a,b}", 5), "{\"{a,b}\"}");
	ck_assert_str_eq(one_text(&a, "NULL", 4), "{\"NULL\"}");
	ck_assert_str_eq(one_text(&a, " x ", 3), "{\" x \"}");
	pgarr_begin(&a);
	pgarr_text(&a, "x", 1);
	pgarr_null(&a);
	pgarr_text(&a, ",", 1);
	ck_assert_str_eq(pgarr_end(&a), "{\"x\",NULL,\",\"}");
	ck_assert_uint_eq(a.n, 3);
	pgarr_free(&a);
}
END_TEST

START_TEST(test_array_utf8_and_controls)
{
	struct pgarr a;
	pgarr_init(&a);
	const char *s = "caf\xc3\xa9 \xf0\x9f\x98\x80\n\t\r";
	char want[64];
	snprintf(want, sizeof(want), "{\"%s\"}", s);
	ck_assert_str_eq(one_text(&a, s, strlen(s)), want);
	pgarr_free(&a);
}
END_TEST

START_TEST(test_array_refuses_nul)
{
	struct pgarr a;
	pgarr_init(&a);
	pgarr_begin(&a);
	ck_assert_int_eq(pgarr_text(&a, "a\0b", 3), -1);
	ck_assert_uint_eq(a.n, 0);
	ck_assert_str_eq(pgarr_end(&a), "{}");
	pgarr_free(&a);
}
END_TEST

START_TEST(test_array_numbers_bools_hex)
{
	struct pgarr a;
	pgarr_init(&a);
	pgarr_begin(&a);
	pgarr_int(&a, 0);
	pgarr_int(&a, -9223372036854775807LL - 1);
	pgarr_int(&a, 1700000000);
	ck_assert_str_eq(pgarr_end(&a), "{0,-9223372036854775808,1700000000}");
	pgarr_begin(&a);
	pgarr_bool(&a, 1);
	pgarr_bool(&a, 0);
	ck_assert_str_eq(pgarr_end(&a), "{t,f}");
	const unsigned char bytes[] = { 0x00, 0xab, 0xff };
	pgarr_begin(&a);
	pgarr_hex(&a, bytes, sizeof(bytes));
	pgarr_hex(&a, bytes, 1);
	ck_assert_str_eq(pgarr_end(&a), "{00abff,00}");
	pgarr_free(&a);
}
END_TEST

START_TEST(test_array_large_reuse)
{
	struct pgarr a;
	pgarr_init(&a);
	size_t n = 100000;
	char *big = malloc(n);
	memset(big, '"', n);
	pgarr_begin(&a);
	pgarr_text(&a, big, n);
	const char *out = pgarr_end(&a);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(strlen(out), 2 * n + 4);
	/* Reuse keeps the memory and starts afresh. */
	ck_assert_str_eq(one_text(&a, "x", 1), "{\"x\"}");
	free(big);
	pgarr_free(&a);
}
END_TEST

START_TEST(test_utf8_valid)
{
	ck_assert_int_eq(utf8_valid("", 0), 1);
	ck_assert_int_eq(utf8_valid("plain", 5), 1);
	ck_assert_int_eq(utf8_valid("\xc3\xa9", 2), 1);
	ck_assert_int_eq(utf8_valid("\xe2\x82\xac", 3), 1);
	ck_assert_int_eq(utf8_valid("\xf0\x9f\x98\x80", 4), 1);
	ck_assert_int_eq(utf8_valid("\xf4\x8f\xbf\xbf", 4), 1); /* U+10FFFF */
	ck_assert_int_eq(utf8_valid("a\0b", 3), 1);             /* NUL is checked apart */
	ck_assert_int_eq(utf8_valid("\xc3", 1), 0);             /* truncated */
	ck_assert_int_eq(utf8_valid("\xe2\x82", 2), 0);
	ck_assert_int_eq(utf8_valid("\x80", 1), 0);             /* lone continuation */
	ck_assert_int_eq(utf8_valid("\xc0\x80", 2), 0);         /* overlong NUL */
	ck_assert_int_eq(utf8_valid("\xc1\xbf", 2), 0);
	ck_assert_int_eq(utf8_valid("\xe0\x80\xaf", 3), 0);     /* overlong */
	ck_assert_int_eq(utf8_valid("\xed\xa0\x80", 3), 0);     /* surrogate U+D800 */
	ck_assert_int_eq(utf8_valid("\xf4\x90\x80\x80", 4), 0); /* above U+10FFFF */
	ck_assert_int_eq(utf8_valid("\xf5\x80\x80\x80", 4), 0);
	ck_assert_int_eq(utf8_valid("\xff", 1), 0);
	ck_assert_int_eq(utf8_valid("\xc3\x28", 2), 0);         /* bad continuation */
}
END_TEST

START_TEST(test_json_has_nul)
{
#define NUL(s) json_has_nul(s, sizeof(s) - 1)
	ck_assert_int_eq(NUL("[[\"e\",\"x\"]]"), 0);
	ck_assert_int_eq(NUL("[[\"e\",\"a\\u0000b\"]]"), 1);
	ck_assert_int_eq(NUL("[[\"e\",\"a\\\\u0000b\"]]"), 0); /* an escaped backslash, then text */
	ck_assert_int_eq(NUL("[[\"e\",\"a\\\\\\u0000b\"]]"), 1);
	ck_assert_int_eq(NUL("[[\"e\",\"\\u00001\"]]"), 1);
	ck_assert_int_eq(NUL("[[\"e\",\"\\u0001\"]]"), 0);
	ck_assert_int_eq(NUL("[[\"e\",\"\\\"\\u0000\"]]"), 1); /* after an escaped quote, still in the string */
	ck_assert_int_eq(NUL("[\"x\\u000\"]"), 0);
	ck_assert_int_eq(NUL("[\"x\0\"]"), 1);                   /* a raw NUL byte */
#undef NUL
}
END_TEST

START_TEST(test_scram)
{
	/* Made by PostgreSQL 15: CREATE ROLE ... PASSWORD 'correct horse battery'. */
	const char *pg = "SCRAM-SHA-256$4096:Ha3ZC0rqHX62sB3KETym6w==$8JIQI7t7ytbWk/byLvEUL3Z3Y/+daH+p41NljTRdRUs=:"
			 "RGaFkfzFmNjURNoik0+sJ6Z6/LQ666bBpuCQf0Unobs=";
	ck_assert_int_eq(scram_verify(pg, "correct horse battery"), 1);
	ck_assert_int_eq(scram_verify(pg, "correct horse batter"), 0);
	ck_assert_int_eq(scram_verify("md5abcdef", "x"), 0);
	ck_assert_int_eq(scram_verify(NULL, "x"), 0);
	ck_assert_int_eq(scram_verify("SCRAM-SHA-256$4096:!!$x:y", "x"), 0);
	char v[256], w[256];
	ck_assert_int_eq(scram_make("s3cret", v, sizeof(v)), 0);
	ck_assert_int_eq(strncmp(v, "SCRAM-SHA-256$4096:", 19), 0);
	ck_assert_int_eq(scram_verify(v, "s3cret"), 1);
	ck_assert_int_eq(scram_verify(v, "s3cret "), 0);
	ck_assert_int_eq(scram_make("s3cret", w, sizeof(w)), 0);
	ck_assert_str_ne(v, w); /* a fresh salt each time */
	ck_assert_int_eq(scram_make("s3cret", v, 20), -1);
	ck_assert_int_eq(scram_ascii("plain-ASCII 123"), 1);
	ck_assert_int_eq(scram_ascii("p\xc3\xa4ss"), 0);
}
END_TEST

static char tmpdir[64];

static void write_file(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void make_tree(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/brotr-script-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	char p[128];
	snprintf(p, sizeof(p), "%s/init", tmpdir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/common", tmpdir);
	mkdir(p, 0700);
	write_file("common/a.sql", "CREATE TABLE a ();\n\\ir b.sql\nCREATE TABLE c ();\n");
	write_file("common/b.sql", "-- only a comment\n\nCREATE TABLE b ();");
	write_file("init/10_second.sql", "CREATE TABLE z ();\n");
	write_file("init/00_first.sql", "-- header\n\\ir ../common/a.sql\n");
	write_file("init/README", "not sql\n");
}

static void remove_tree(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_script_includes_in_order)
{
	make_tree();
	char dir[128], err[512];
	snprintf(dir, sizeof(dir), "%s/init", tmpdir);
	struct sql_script s;
	ck_assert_msg(sql_script_load(&s, dir, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(s.files, 2);
	/* 00_first header, a.sql before the include, b.sql, a.sql after, 10_second. */
	ck_assert_uint_eq(s.n, 5);
	ck_assert_str_eq(s.chunks[0].text, "-- header\n");
	ck_assert_int_eq(s.chunks[0].has_sql, 0);
	ck_assert_str_eq(s.chunks[1].text, "CREATE TABLE a ();\n");
	ck_assert_ptr_nonnull(strstr(s.chunks[1].path, "/common/a.sql"));
	ck_assert_str_eq(s.chunks[2].text, "-- only a comment\n\nCREATE TABLE b ();");
	ck_assert_int_eq(s.chunks[2].has_sql, 1);
	ck_assert_str_eq(s.chunks[3].text, "CREATE TABLE c ();\n");
	ck_assert_str_eq(s.chunks[4].text, "CREATE TABLE z ();\n");
	ck_assert_ptr_nonnull(strstr(s.chunks[4].path, "/init/10_second.sql"));
	char first[65];
	memcpy(first, s.checksum, 65);
	ck_assert_uint_eq(strlen(first), 64);
	sql_script_free(&s);
	/* The checksum follows the content. */
	write_file("common/b.sql", "CREATE TABLE b2 ();");
	ck_assert_int_eq(sql_script_load(&s, dir, err, sizeof(err)), 0);
	ck_assert_str_ne(s.checksum, first);
	sql_script_free(&s);
	remove_tree();
}
END_TEST

START_TEST(test_script_errors)
{
	make_tree();
	char dir[128], err[512];
	snprintf(dir, sizeof(dir), "%s/init", tmpdir);
	struct sql_script s;
	write_file("common/b.sql", "\\set x 1\n");
	ck_assert_int_eq(sql_script_load(&s, dir, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "b.sql:1") && strstr(err, "included from"), "%s", err);
	write_file("common/b.sql", "\\ir missing.sql\n");
	ck_assert_int_eq(sql_script_load(&s, dir, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "missing.sql"), "%s", err);
	write_file("common/b.sql", "\\ir b.sql\n"); /* includes itself */
	ck_assert_int_eq(sql_script_load(&s, dir, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "nested deeper"), "%s", err);
	snprintf(dir, sizeof(dir), "%s/common/none", tmpdir);
	ck_assert_int_eq(sql_script_load(&s, dir, err, sizeof(err)), -1);
	remove_tree();
}
END_TEST

START_TEST(test_script_real_init_dirs)
{
	/* Both implementations' init directories read, differ, and share the common files. */
	const char *impls[] = { "implementations/bigbrotr/config/postgres/init",
				"implementations/lilbrotr/config/postgres/init" };
	char sums[2][65], err[512];
	for (int i = 0; i < 2; i++) {
		struct sql_script s;
		ck_assert_msg(sql_script_load(&s, impls[i], err, sizeof(err)) == 0, "%s", err);
		int common = 0;
		for (size_t k = 0; k < s.n; k++)
			common += strstr(s.chunks[k].path, "/sql/") != NULL;
		ck_assert_int_ge(common, 5);
		memcpy(sums[i], s.checksum, 65);
		sql_script_free(&s);
	}
	ck_assert_str_ne(sums[0], sums[1]);
}
END_TEST

/* A literal is never built past PGARR_MAX_BYTES: the element is refused before anything is read
 * or allocated, and the literal reports it. */
START_TEST(test_array_bounded)
{
	struct pgarr a;
	unsigned char small[32] = { 0 };
	pgarr_init(&a);
	pgarr_begin(&a);
	pgarr_hex(&a, small, sizeof(small));
	pgarr_hex(&a, small, PGARR_MAX_BYTES / 2); /* would be 256 MiB of hex: refused unread */
	ck_assert_ptr_null(pgarr_end(&a));
	ck_assert_int_eq(a.too_long, 1);
	ck_assert_uint_lt(a.buf.cap, 4096);
	pgarr_begin(&a); /* usable again */
	pgarr_int(&a, 5);
	ck_assert_str_eq(pgarr_end(&a), "{5}");
	ck_assert_int_eq(a.too_long, 0);
	pgarr_free(&a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("encode");
	TCase *tc = tcase_create("arrays");
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_array_plain_and_empty);
	tcase_add_test(tc, test_array_bounded);
	tcase_add_test(tc, test_array_quotes_backslashes);
	tcase_add_test(tc, test_array_braces_commas_null_word);
	tcase_add_test(tc, test_array_utf8_and_controls);
	tcase_add_test(tc, test_array_refuses_nul);
	tcase_add_test(tc, test_array_numbers_bools_hex);
	tcase_add_test(tc, test_array_large_reuse);
	suite_add_tcase(s, tc);
	tc = tcase_create("text");
	tcase_set_timeout(tc, 0); /* no time limit: a slow machine is not a failure */
	tcase_add_test(tc, test_utf8_valid);
	tcase_add_test(tc, test_json_has_nul);
	suite_add_tcase(s, tc);
	tc = tcase_create("scram");
	tcase_set_timeout(tc, 0); /* no time limit: a slow machine is not a failure */
	tcase_add_test(tc, test_scram);
	suite_add_tcase(s, tc);
	tc = tcase_create("script");
	tcase_set_timeout(tc, 0); /* no time limit: a slow machine is not a failure */
	tcase_add_test(tc, test_script_includes_in_order);
	tcase_add_test(tc, test_script_errors);
	tcase_add_test(tc, test_script_real_init_dirs);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
