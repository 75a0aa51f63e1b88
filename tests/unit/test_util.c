/* test_util.c — buffers, strict parsing, hex, whole-file reads and atomic writes. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

START_TEST(buf_grows_and_stays_terminated)
{
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%03d,", i);
	ck_assert_uint_eq(b.len, 4000);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_int_eq(strncmp(b.data + 3996, "999,", 4), 0);
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	buf_append(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(memcmp(b.data, "a\0b", 4), 0);
	ck_assert_int_eq(b.failed, 0);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(parse_numbers)
{
	long long v;
	ck_assert_int_eq(parse_ll("42", &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(parse_ll("-7", &v), 0);
	ck_assert_int_eq(v, -7);
	ck_assert_int_eq(parse_ll("", &v), -1);
	ck_assert_int_eq(parse_ll(" 1", &v), -1);
	ck_assert_int_eq(parse_ll("1 ", &v), -1);
	ck_assert_int_eq(parse_ll("12a", &v), -1);
	ck_assert_int_eq(parse_ll("99999999999999999999", &v), -1);
}
END_TEST

START_TEST(parse_durations)
{
	long long v;
	ck_assert_int_eq(parse_duration_ms("90", &v), 0);
	ck_assert_int_eq(v, 90000);
	ck_assert_int_eq(parse_duration_ms("500ms", &v), 0);
	ck_assert_int_eq(v, 500);
	ck_assert_int_eq(parse_duration_ms("5m", &v), 0);
	ck_assert_int_eq(v, 300000);
	ck_assert_int_eq(parse_duration_ms("2h", &v), 0);
	ck_assert_int_eq(v, 7200000);
	ck_assert_int_eq(parse_duration_ms("1d", &v), 0);
	ck_assert_int_eq(v, 86400000);
	ck_assert_int_eq(parse_duration_ms("-1s", &v), -1);
	ck_assert_int_eq(parse_duration_ms("1w", &v), -1);
	ck_assert_int_eq(parse_duration_ms("s", &v), -1);
	ck_assert_int_eq(parse_duration_ms("9223372036854775807d", &v), -1);
}
END_TEST

START_TEST(parse_booleans)
{
	int b = -1;
	ck_assert_int_eq(parse_bool("Yes", &b), 0);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(parse_bool("off", &b), 0);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(parse_bool("2", &b), -1);
}
END_TEST

START_TEST(hex_round_trip)
{
	unsigned char in[4] = { 0x00, 0xab, 0x7f, 0xff }, out[4];
	char hex[9];
	hex_encode(in, 4, hex);
	ck_assert_str_eq(hex, "00ab7fff");
	ck_assert_int_eq(hex_decode(hex, out, 4), 0);
	ck_assert_int_eq(memcmp(in, out, 4), 0);
	ck_assert_int_eq(hex_decode("00AB7FFF", out, 4), -1); /* upper case is not canonical */
	ck_assert_int_eq(hex_decode("0g", out, 1), -1);
	ck_assert_int_eq(hex_decode("0", out, 1), -1);
}
END_TEST

START_TEST(files)
{
	char dir[] = "/tmp/brotr-util-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/f", dir);
	ck_assert_int_eq(write_file_atomic(path, "hello", 5, 0640), 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	char *data;
	size_t len;
	ck_assert_int_eq(read_file(path, 100, &data, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(data, "hello");
	free(data);
	ck_assert_int_eq(read_file(path, 4, &data, &len), -1);
	ck_assert_int_eq(errno, EFBIG);
	/* An empty file is an empty string too (its buffer was once left unterminated). */
	ck_assert_int_eq(write_file_atomic(path, "", 0, 0640), 0);
	ck_assert_int_eq(read_file(path, 100, &data, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(data, "");
	free(data);
	ck_assert_int_eq(write_file_atomic("/nonexistent/x", "a", 1, 0600), -1);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");
	tcase_add_test(tc, buf_grows_and_stays_terminated);
	tcase_add_test(tc, parse_numbers);
	tcase_add_test(tc, parse_durations);
	tcase_add_test(tc, parse_booleans);
	tcase_add_test(tc, hex_round_trip);
	tcase_add_test(tc, files);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
