/* test_relay_file.c — relay URL files: comments, normalisation, duplicates, rejects with line numbers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "services/relay_file.h"

static char path[64];

static void write_list(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/brotr-relays-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(reads_normalises_and_reports)
{
	write_list("# seeds\n"
		   "\n"
		   "  wss://Relay.Damus.IO:443/  \n"
		   "wss://relay.damus.io\n"
		   "https://not.a.relay\n"
		   "ws://mkbzoe4topckzshjdwwsrdqs2jqhbuma2s6f6po3be56n3rw4fdjtyqd.onion\r\n"
		   "ws://localhost:7000\n"
		   "wss://nos.lol"); /* no final newline */
	struct relay_file f;
	char err[128];
	ck_assert_int_eq(relay_file_read(path, 0, &f, err, sizeof(err)), 0);
	ck_assert_uint_eq(f.n, 3);
	ck_assert_str_eq(f.relays[0].url, "wss://relay.damus.io");
	ck_assert_int_eq(f.relays[1].network, RELAY_NET_TOR);
	ck_assert_str_eq(f.relays[2].url, "wss://nos.lol");
	ck_assert_uint_eq(f.duplicates, 1);
	ck_assert_uint_eq(f.n_rejects, 2);
	ck_assert_int_eq(f.rejects[0].line, 5);
	ck_assert_str_eq(f.rejects[0].text, "https://not.a.relay");
	ck_assert_ptr_nonnull(strstr(f.rejects[0].reason, "ws or wss"));
	ck_assert_int_eq(f.rejects[1].line, 7);
	relay_file_free(&f);
	/* The same file with local relays allowed. */
	ck_assert_int_eq(relay_file_read(path, RELAY_URL_ALLOW_LOCAL, &f, err, sizeof(err)), 0);
	ck_assert_uint_eq(f.n, 4);
	ck_assert_uint_eq(f.n_rejects, 1);
	relay_file_free(&f);
	unlink(path);
}
END_TEST

START_TEST(missing_file_is_named)
{
	struct relay_file f;
	char err[128];
	ck_assert_int_eq(relay_file_read("/nonexistent/seeds.txt", 0, &f, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/seeds.txt: No such file"));
	ck_assert_uint_eq(f.n, 0);
}
END_TEST

/* A long list costs about one comparison per line, however many relays it names (finding a
 * duplicate used to compare with every relay before it: quadratic). No clock is read. */
START_TEST(long_list_is_linear)
{
	size_t compares[2];
	for (int round = 0; round < 2; round++) {
		size_t n = round ? 80000 : 10000;
		struct buf b;
		buf_init(&b);
		for (size_t i = 0; i < n; i++)
			buf_printf(&b, "wss://relay%zu.example.com\nwss://RELAY%zu.example.com/\n", i, i / 2);
		write_list(b.data);
		buf_free(&b);
		struct relay_file f;
		char err[128];
		ck_assert_int_eq(relay_file_read(path, 0, &f, err, sizeof(err)), 0);
		unlink(path);
		ck_assert_uint_eq(f.n, n);
		ck_assert_uint_eq(f.duplicates, n);
		char last[64];
		snprintf(last, sizeof(last), "wss://relay%zu.example.com", n - 1);
		ck_assert_str_eq(f.relays[n - 1].url, last);
		compares[round] = f.compares;
		ck_assert_uint_le(f.compares, 4 * 2 * n);
		relay_file_free(&f);
	}
	ck_assert_uint_le(compares[1], 9 * compares[0]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("relay_file");
	TCase *tc = tcase_create("relay_file");
	tcase_add_test(tc, reads_normalises_and_reports);
	tcase_add_test(tc, missing_file_is_named);
	tcase_add_test(tc, long_list_is_linear);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
