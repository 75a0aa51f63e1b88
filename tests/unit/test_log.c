/* test_log.c — logging: both formats, escaping, levels, rate limiting, reopening after rotation. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/brotr-log-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/brotr.log", dir);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct log_sink *open_sink(enum log_format fmt, unsigned burst)
{
	struct log_options o = { .level = LOG_INFO, .format = fmt, .path = path, .burst = burst,
				 .interval_ms = 3600000 };
	char err[128];
	struct log_sink *s = log_sink_new(&o, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	return s;
}

static char *slurp(const char *p)
{
	char *data;
	size_t len;
	ck_assert_int_eq(read_file(p, 1 << 20, &data, &len), 0);
	return data;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

START_TEST(text_is_logfmt)
{
	struct log_sink *s = open_sink(LOG_FORMAT_TEXT, 0);
	struct logger lg = { s, "monitor" };
	log_info(&lg, "relay checked", LOG_S("relay", "wss://relay.example"), LOG_I("rtt_ms", -3), LOG_U("n", 7),
		 LOG_B("ok", 1), LOG_S("reason", "said \"no\"\nthen left"), LOG_S("empty", ""));
	log_sink_free(s);
	char *out = slurp(path);
	ck_assert_msg(strstr(out, " level=info logger=monitor msg=\"relay checked\" relay=wss://relay.example "
				  "rtt_ms=-3 n=7 ok=true reason=\"said \\\"no\\\"\\nthen left\" empty=\"\"\n"),
		      "%s", out);
	ck_assert_int_eq(strncmp(out, "ts=20", 5), 0);
	ck_assert_int_eq(count(out, "\n"), 1);
	free(out);
}
END_TEST

START_TEST(json_lines)
{
	struct log_sink *s = open_sink(LOG_FORMAT_JSON, 0);
	struct logger lg = { s, "sync" };
	log_warn(&lg, "bad event", LOG_S("relay", "wss://r"), LOG_S("detail", "ctl\x01 and \xff invalid utf-8"),
		 LOG_F("ratio", 0.5));
	log_sink_free(s);
	char *out = slurp(path);
	ck_assert_msg(strstr(out, "\",\"level\":\"warn\",\"logger\":\"sync\",\"msg\":\"bad event\","
				  "\"relay\":\"wss://r\",\"detail\":\"ctl\\u0001 and \xef\xbf\xbd invalid utf-8\","
				  "\"ratio\":0.5}\n"),
		      "%s", out);
	ck_assert_int_eq(strncmp(out, "{\"ts\":\"20", 9), 0);
	free(out);
}
END_TEST

START_TEST(levels_filter)
{
	struct log_sink *s = open_sink(LOG_FORMAT_TEXT, 0);
	struct logger lg = { s, "t" };
	log_debug(&lg, "hidden");
	log_info(&lg, "shown");
	log_sink_set_level(s, LOG_ERROR);
	log_warn(&lg, "hidden too");
	log_error(&lg, "shown too");
	log_sink_free(s);
	char *out = slurp(path);
	ck_assert_ptr_null(strstr(out, "hidden"));
	ck_assert_ptr_nonnull(strstr(out, "msg=shown"));
	ck_assert_ptr_nonnull(strstr(out, "msg=\"shown too\""));
	free(out);
}
END_TEST

START_TEST(long_values_are_cut)
{
	struct log_sink *s = open_sink(LOG_FORMAT_TEXT, 0);
	struct logger lg = { s, "t" };
	char big[5000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info(&lg, "notice", LOG_S("text", big));
	log_sink_free(s);
	char *out = slurp(path);
	ck_assert_ptr_nonnull(strstr(out, "...(4999 bytes)"));
	ck_assert_uint_lt(strlen(out), 1200);
	free(out);
}
END_TEST

/* One broken relay must not flood the log; another relay's messages still pass. */
START_TEST(rate_limit_per_subject)
{
	struct log_sink *s = open_sink(LOG_FORMAT_TEXT, 3);
	struct logger lg = { s, "sync" };
	for (int i = 0; i < 100; i++)
		log_warn(&lg, "invalid event", LOG_S("relay", "wss://noisy"), LOG_I("i", i));
	log_warn(&lg, "invalid event", LOG_S("relay", "wss://quiet"));
	log_flush_suppressed(s);
	log_sink_free(s);
	char *out = slurp(path);
	ck_assert_int_eq(count(out, "relay=wss://noisy i="), 3);
	ck_assert_int_eq(count(out, "relay=wss://quiet"), 1);
	ck_assert_msg(strstr(out, "msg=\"invalid event\" relay=wss://noisy suppressed=97\n"), "%s", out);
	free(out);
}
END_TEST

static uint64_t fake_now;
static uint64_t fake_clock(void)
{
	return fake_now;
}

START_TEST(rate_limit_reports_on_next_window)
{
	struct log_options o = { .level = LOG_INFO, .format = LOG_FORMAT_TEXT, .path = path, .burst = 1,
				 .interval_ms = 1000, .clock_ms = fake_clock };
	char err[128];
	struct log_sink *s = log_sink_new(&o, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	struct logger lg = { s, "t" };
	log_info(&lg, "tick", LOG_S("relay", "a"));
	log_info(&lg, "tick", LOG_S("relay", "a"));
	log_info(&lg, "tick", LOG_S("relay", "a"));
	fake_now += 999;
	log_info(&lg, "tick", LOG_S("relay", "a")); /* same window: suppressed */
	fake_now += 1;
	log_info(&lg, "tick", LOG_S("relay", "a")); /* next window: shown, with the count */
	log_sink_free(s);
	char *out = slurp(path);
	ck_assert_int_eq(count(out, "msg=tick"), 2);
	ck_assert_msg(strstr(out, "relay=a suppressed=3\n"), "%s", out);
	free(out);
}
END_TEST

/* logrotate renames the file and sends SIGHUP: the next event goes to a new file at the same path. */
START_TEST(reopen_after_rotation)
{
	struct log_sink *s = open_sink(LOG_FORMAT_TEXT, 0);
	struct logger lg = { s, "t" };
	log_info(&lg, "before rotation");
	char rotated[160];
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	ck_assert_int_eq(rename(path, rotated), 0);
	log_info(&lg, "still old file");
	log_sink_request_reopen(s);
	log_info(&lg, "after reopen");
	log_sink_free(s);
	char *old = slurp(rotated), *cur = slurp(path);
	ck_assert_ptr_nonnull(strstr(old, "before rotation"));
	ck_assert_ptr_nonnull(strstr(old, "still old file"));
	ck_assert_ptr_null(strstr(old, "after reopen"));
	ck_assert_ptr_nonnull(strstr(cur, "after reopen"));
	free(old);
	free(cur);
}
END_TEST

START_TEST(unopenable_file_is_an_error)
{
	struct log_options o = { .path = "/nonexistent/dir/brotr.log" };
	char err[128];
	ck_assert_ptr_null(log_sink_new(&o, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir/brotr.log"));
}
END_TEST

START_TEST(parse_names)
{
	enum log_level l;
	enum log_format f;
	ck_assert_int_eq(log_level_parse("warn", &l), 0);
	ck_assert_int_eq(l, LOG_WARN);
	ck_assert_int_eq(log_level_parse("WARN", &l), -1);
	ck_assert_int_eq(log_format_parse("json", &f), 0);
	ck_assert_int_eq(f, LOG_FORMAT_JSON);
	ck_assert_int_eq(log_format_parse("xml", &f), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, text_is_logfmt);
	tcase_add_test(tc, json_lines);
	tcase_add_test(tc, levels_filter);
	tcase_add_test(tc, long_values_are_cut);
	tcase_add_test(tc, rate_limit_per_subject);
	tcase_add_test(tc, rate_limit_reports_on_next_window);
	tcase_add_test(tc, reopen_after_rotation);
	tcase_add_test(tc, unopenable_file_is_an_error);
	tcase_add_test(tc, parse_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
