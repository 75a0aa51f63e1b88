/* test_service.c — the service lifecycle in a child process: exit statuses, graceful stop, metrics, health. */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/service.h"

static char dir[64];
static char committed[128]; /* the fake service appends "begin N" / "commit N" here */
static char logpath[128];
static int http_port;

/* Waits (bounded, as a guard against hangs, not a speed assertion) until file holds needle. */
static int wait_for(const char *path, const char *needle)
{
	for (int i = 0; i < 6000; i++) {
		char *data;
		size_t len;
		if (read_file(path, 1 << 20, &data, &len) == 0) {
			int found = strstr(data, needle) != NULL;
			free(data);
			if (found)
				return 1;
		}
		usleep(10000);
	}
	return 0;
}

static char *slurp(const char *path)
{
	char *data = NULL;
	size_t len;
	if (read_file(path, 1 << 20, &data, &len) < 0)
		return strdup("");
	return data;
}

static void append(const char *line)
{
	FILE *f = fopen(committed, "a");
	fputs(line, f);
	fclose(f);
}

/* Batches until stopped: a batch that began is always committed before the pass returns. */
static int pass_batches(struct service_ctx *ctx)
{
	for (int n = 1; !*ctx->stop; n++) {
		char line[64];
		snprintf(line, sizeof(line), "begin %d\n", n);
		append(line);
		usleep(20000);
		snprintf(line, sizeof(line), "commit %d\n", n);
		append(line);
	}
	return 0;
}

static int pass_ok(struct service_ctx *ctx)
{
	(void)ctx;
	append("pass\n");
	return 0;
}

static int pass_fail(struct service_ctx *ctx)
{
	log_error(&ctx->log, "simulated failure");
	return -1;
}

static int pass_ignores_stop(struct service_ctx *ctx)
{
	(void)ctx;
	append("busy\n");
	for (;;)
		pause();
	return 0;
}

static int open_fails(struct service_ctx *ctx)
{
	log_error(&ctx->log, "cannot open");
	return -1;
}

static long long hour(const struct config *cfg)
{
	(void)cfg;
	return 3600000;
}

static long long short_interval(const struct config *cfg)
{
	(void)cfg;
	return 10;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/brotr-service-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(committed, sizeof(committed), "%s/committed", dir);
	snprintf(logpath, sizeof(logpath), "%s/brotr.log", dir);
	/* a port that was free a moment ago */
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	http_port = ntohs(a.sin_port);
	close(fd);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Runs def in a child with a configuration whose metrics go to dir; returns the child's pid. */
static pid_t spawn(const struct service_def *def, int loop)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	char cfgdir[128], ini[160];
	snprintf(cfgdir, sizeof(cfgdir), "%s/config", dir);
	mkdir(cfgdir, 0755);
	snprintf(ini, sizeof(ini), "%s/brotr.ini", cfgdir);
	FILE *f = fopen(ini, "w");
	fprintf(f, "[metrics]\ndir = %s\nlisten = 127.0.0.1:%d\n", dir, http_port);
	fclose(f);
	struct config cfg;
	struct buf errors;
	buf_init(&errors);
	char *env[] = { NULL };
	if (config_load(&cfg, ini, env, &errors) < 0) {
		fprintf(stderr, "%s", errors.data);
		_exit(99);
	}
	struct log_options o = { .level = LOG_INFO, .format = LOG_FORMAT_TEXT, .path = logpath };
	char err[128];
	struct log_sink *sink = log_sink_new(&o, err, sizeof(err));
	int status = service_run(def, &cfg, sink, loop);
	log_sink_free(sink);
	config_free(&cfg);
	_exit(status);
}

static int wait_status(pid_t pid)
{
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "child did not exit normally (signal %d)", WTERMSIG(st));
	return WEXITSTATUS(st);
}

START_TEST(one_pass_completes)
{
	struct service_def def = { .name = "fake", .pass = pass_ok };
	ck_assert_int_eq(wait_status(spawn(&def, 0)), 0);
	char path[160];
	snprintf(path, sizeof(path), "%s/brotr_fake.prom", dir);
	char *prom = slurp(path);
	ck_assert_ptr_nonnull(strstr(prom, "brotr_passes_total{service=\"fake\",result=\"ok\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(prom, "brotr_last_pass_success{service=\"fake\"} 1\n"));
	free(prom);
	char *log = slurp(logpath);
	ck_assert_ptr_nonnull(strstr(log, "msg=\"pass ended\" result=completed"));
	free(log);
}
END_TEST

START_TEST(failed_pass_exits_1)
{
	struct service_def def = { .name = "fake", .pass = pass_fail };
	ck_assert_int_eq(wait_status(spawn(&def, 0)), 1);
	char path[160];
	snprintf(path, sizeof(path), "%s/brotr_fake.prom", dir);
	char *prom = slurp(path);
	ck_assert_ptr_nonnull(strstr(prom, "brotr_last_pass_success{service=\"fake\"} 0\n"));
	free(prom);
}
END_TEST

START_TEST(open_failure_exits_1)
{
	struct service_def def = { .name = "fake", .open = open_fails, .pass = pass_ok };
	ck_assert_int_eq(wait_status(spawn(&def, 0)), 1);
	char *done = slurp(committed);
	ck_assert_str_eq(done, ""); /* no pass ran */
	free(done);
}
END_TEST

static int refuse(const struct config *cfg, char *err, size_t len)
{
	(void)cfg;
	snprintf(err, len, "filter is not JSON");
	return -1;
}

START_TEST(check_refuses_configuration)
{
	struct service_def def = { .name = "fake", .check = refuse, .pass = pass_ok };
	ck_assert_int_eq(wait_status(spawn(&def, 0)), 2);
	char *log = slurp(logpath);
	ck_assert_ptr_nonnull(strstr(log, "msg=\"configuration error\" error=\"filter is not JSON\""));
	free(log);
	char *done = slurp(committed);
	ck_assert_str_eq(done, ""); /* no pass ran */
	free(done);
}
END_TEST

START_TEST(loop_needs_an_interval)
{
	struct service_def def = { .name = "fake", .pass = pass_ok };
	ck_assert_int_eq(wait_status(spawn(&def, 1)), 2);
}
END_TEST

/* SIGTERM in the middle of a batch: the batch is committed, then the process exits 1 (pass not done). */
START_TEST(sigterm_finishes_the_batch)
{
	struct service_def def = { .name = "fake", .pass = pass_batches };
	pid_t pid = spawn(&def, 0);
	ck_assert(wait_for(committed, "begin 3"));
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_status(pid), 1);
	char *done = slurp(committed);
	const char *last_begin = strrchr(done, 'b');
	int n;
	ck_assert_int_eq(sscanf(last_begin, "begin %d", &n), 1);
	char want[32];
	snprintf(want, sizeof(want), "begin %d\ncommit %d\n", n, n);
	ck_assert_msg(strstr(done, want) && strcmp(done + strlen(done) - strlen(want), want) == 0, "%s", done);
	free(done);
	char *log = slurp(logpath);
	ck_assert_ptr_nonnull(strstr(log, "result=interrupted"));
	free(log);
}
END_TEST

START_TEST(loop_stops_gracefully)
{
	struct service_def def = { .name = "fake", .interval_ms = short_interval, .pass = pass_ok };
	pid_t pid = spawn(&def, 1);
	ck_assert(wait_for(committed, "pass\npass\npass\n"));
	kill(pid, SIGINT);
	ck_assert_int_eq(wait_status(pid), 0);
}
END_TEST

START_TEST(second_signal_exits_at_once)
{
	struct service_def def = { .name = "fake", .pass = pass_ignores_stop };
	pid_t pid = spawn(&def, 0);
	ck_assert(wait_for(committed, "busy"));
	kill(pid, SIGTERM);
	usleep(50000);
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_status(pid), 1);
}
END_TEST

static char *http_get(const char *path)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)http_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return NULL;
	}
	char req[128];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	ck_assert_int_eq(write(fd, req, (size_t)n), n);
	struct buf b;
	buf_init(&b);
	char chunk[4096];
	ssize_t r;
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&b, chunk, (size_t)r);
	close(fd);
	return b.data;
}

/* In --loop mode the endpoint answers /health from the last pass and serves /metrics. */
START_TEST(health_and_metrics_endpoint)
{
	struct service_def def = { .name = "fake", .interval_ms = hour, .pass = pass_ok };
	pid_t pid = spawn(&def, 1);
	ck_assert(wait_for(logpath, "next pass scheduled"));
	char *health = http_get("/health");
	ck_assert_ptr_nonnull(health);
	ck_assert_ptr_nonnull(strstr(health, "HTTP/1.1 200 OK"));
	ck_assert_ptr_nonnull(strstr(health, "{\"status\":\"ok\"}"));
	char *metrics = http_get("/metrics");
	ck_assert_ptr_nonnull(strstr(metrics, "text/plain; version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(metrics, "brotr_passes_total{service=\"fake\",result=\"ok\"} 1\n"));
	char *missing = http_get("/nope");
	ck_assert_ptr_nonnull(strstr(missing, "404"));
	free(health);
	free(metrics);
	free(missing);
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_status(pid), 0);
}
END_TEST

START_TEST(health_reports_failure)
{
	struct service_def def = { .name = "fake", .interval_ms = hour, .pass = pass_fail };
	pid_t pid = spawn(&def, 1);
	ck_assert(wait_for(logpath, "next pass scheduled"));
	char *health = http_get("/health");
	ck_assert_ptr_nonnull(health);
	ck_assert_ptr_nonnull(strstr(health, "503"));
	ck_assert_ptr_nonnull(strstr(health, "\"failed\""));
	free(health);
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_status(pid), 0);
}
END_TEST

/* logrotate: rename the file, send SIGHUP, and the next lines land in a new file. */
START_TEST(sighup_reopens_the_log)
{
	struct service_def def = { .name = "fake", .interval_ms = short_interval, .pass = pass_ok };
	pid_t pid = spawn(&def, 1);
	ck_assert(wait_for(logpath, "pass started"));
	char rotated[160];
	snprintf(rotated, sizeof(rotated), "%s.1", logpath);
	ck_assert_int_eq(rename(logpath, rotated), 0);
	kill(pid, SIGHUP);
	ck_assert(wait_for(logpath, "pass started"));
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_status(pid), 0);
	char *old = slurp(rotated);
	ck_assert_ptr_nonnull(strstr(old, "pass started"));
	free(old);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("service");
	TCase *tc = tcase_create("service");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, one_pass_completes);
	tcase_add_test(tc, failed_pass_exits_1);
	tcase_add_test(tc, open_failure_exits_1);
	tcase_add_test(tc, loop_needs_an_interval);
	tcase_add_test(tc, check_refuses_configuration);
	tcase_add_test(tc, sigterm_finishes_the_batch);
	tcase_add_test(tc, loop_stops_gracefully);
	tcase_add_test(tc, second_signal_exits_at_once);
	tcase_add_test(tc, health_and_metrics_endpoint);
	tcase_add_test(tc, health_reports_failure);
	tcase_add_test(tc, sighup_reopens_the_log);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
