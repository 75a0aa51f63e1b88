/* test_metrics.c — the metrics registry and its Prometheus text rendering. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/metrics.h"

START_TEST(render_groups_families)
{
	struct metrics *m = metrics_new("sync");
	char l[128];
	struct metric *a = metrics_get(m, METRIC_COUNTER, "events_rejected_total", "Events dropped, by reason.",
				       metrics_labels(l, sizeof(l), "reason", "bad_sig", NULL));
	struct metric *g = metrics_get(m, METRIC_GAUGE, "relays", "Relays in the pass.", NULL);
	struct metric *b = metrics_get(m, METRIC_COUNTER, "events_rejected_total", "Events dropped, by reason.",
				       metrics_labels(l, sizeof(l), "reason", "say \"hi\"\\", NULL));
	ck_assert_ptr_eq(a, metrics_get(m, METRIC_COUNTER, "events_rejected_total", "x",
					metrics_labels(l, sizeof(l), "reason", "bad_sig", NULL)));
	metric_add(a, 2);
	metric_add(a, 3);
	metric_add(b, 1);
	metric_set(g, 12);
	metric_add(NULL, 1); /* a failed registration must not crash its users */
	ck_assert(metric_value(a) == 5);
	struct buf out;
	buf_init(&out);
	metrics_render(m, &out);
	const char *want =
		"# HELP brotr_events_rejected_total Events dropped, by reason.\n"
		"# TYPE brotr_events_rejected_total counter\n"
		"brotr_events_rejected_total{service=\"sync\",reason=\"bad_sig\"} 5\n"
		"brotr_events_rejected_total{service=\"sync\",reason=\"say \\\"hi\\\"\\\\\"} 1\n"
		"# HELP brotr_relays Relays in the pass.\n"
		"# TYPE brotr_relays gauge\n"
		"brotr_relays{service=\"sync\"} 12\n";
	ck_assert_msg(strstr(out.data, want), "%s", out.data);
	/* one HELP line per family */
	int helps = 0;
	for (const char *p = out.data; (p = strstr(p, "# HELP brotr_events_rejected_total")); p++)
		helps++;
	ck_assert_int_eq(helps, 1);
	buf_free(&out);
	metrics_free(m);
}
END_TEST

START_TEST(pass_outcome_and_file)
{
	struct metrics *m = metrics_new("monitor");
	ck_assert_int_eq(metrics_last_pass_ok(m), -1);
	metrics_pass_done(m, 0, 1000, 3500);
	ck_assert_int_eq(metrics_last_pass_ok(m), 0);
	metrics_pass_done(m, 1, 4000, 4500);
	ck_assert_int_eq(metrics_last_pass_ok(m), 1);
	char dir[] = "/tmp/brotr-metrics-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(metrics_write_file(m, dir), 0);
	char path[64], *data;
	size_t len;
	snprintf(path, sizeof(path), "%s/brotr_monitor.prom", dir);
	ck_assert_int_eq(read_file(path, 1 << 16, &data, &len), 0);
	ck_assert_ptr_nonnull(strstr(data, "brotr_passes_total{service=\"monitor\",result=\"ok\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(data, "brotr_passes_total{service=\"monitor\",result=\"failed\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(data, "brotr_last_pass_success{service=\"monitor\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(data, "brotr_last_pass_duration_seconds{service=\"monitor\"} 0.5\n"));
	ck_assert_ptr_nonnull(strstr(data, "brotr_last_pass_end_timestamp_seconds{service=\"monitor\"} 4.5\n"));
	free(data);
	unlink(path);
	rmdir(dir);
	metrics_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");
	tcase_add_test(tc, render_groups_families);
	tcase_add_test(tc, pass_outcome_and_file);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
