/* test_process.c — the process-wide set-up of service commands: no core dumps, enough descriptors. */
#include <check.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "core/process.h"

START_TEST(core_dumps_off)
{
	struct rlimit r;
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1); /* a fresh process is dumpable */
	ck_assert_int_eq(process_no_core_dumps(), 0);
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_CORE, &r), 0);
	ck_assert_uint_eq(r.rlim_cur, 0);
	ck_assert_uint_eq(r.rlim_max, 0);
}
END_TEST

START_TEST(descriptor_limit_raised_or_refused)
{
	struct rlimit r, low;
	unsigned long hard = 0;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
	ck_assert_uint_ge(r.rlim_max, 512);
	low = (struct rlimit){ 100, 400 };
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	ck_assert_int_eq(process_fd_limit(50, &hard), 0); /* enough already: unchanged */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
	ck_assert_uint_eq(r.rlim_cur, 100);
	ck_assert_int_eq(process_fd_limit(300, &hard), 0); /* raised to what is needed, no further */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
	ck_assert_uint_eq(r.rlim_cur, 300);
	ck_assert_uint_eq(r.rlim_max, 400);
	ck_assert_int_eq(process_fd_limit(401, &hard), -1); /* above the hard limit: the caller refuses */
	ck_assert_uint_eq(hard, 400);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &r), 0);
	ck_assert_uint_eq(r.rlim_cur, 300);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("process");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, core_dumps_off); /* each test runs in its own forked process */
	tcase_add_test(tc, descriptor_limit_raised_or_refused);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
