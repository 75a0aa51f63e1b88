/* test_metrics.c — the metrics registry and its Prometheus text rendering. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/metrics.h"
#include "core/metrics_http.h"

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

START_TEST(counters_continue_from_the_previous_file)
{
	char dir[] = "/tmp/brotr-metrics-XXXXXX", path[128], l[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/brotr_sync.prom", dir);
	struct metrics *a = metrics_new("sync");
	metric_add(metrics_get(a, METRIC_COUNTER, "x_total", "Xs.", metrics_labels(l, sizeof(l), "reason", "a \"q\"", NULL)), 3);
	metric_add(metrics_get(a, METRIC_COUNTER, "y_total", "Ys.", NULL), 2);
	metric_set(metrics_get(a, METRIC_GAUGE, "g", "A gauge.", NULL), 7);
	metrics_pass_done(a, 1, 0, 1000);
	ck_assert_int_eq(metrics_write_file(a, dir), 0);
	metrics_free(a);
	/* damage the file a little: lines that must be ignored */
	FILE *f = fopen(path, "a");
	fputs("brotr_x_total{service=\"other\",reason=\"a\"} 100\n"
	      "brotr_x_total{service=\"sync\",reason=\"b\"} -4\n"
	      "brotr_x_total{service=\"sync\",reason=\"c\"} 1e999\n"
	      "brotr_x_total{service=\"sync\",reason=\"d\" 5\n"
	      "brotr_x_total{service=\"sync\",reason=\"e\"x=\"f\"} 5\n"
	      "brotr_x_total{service=\"sync\",reason=\"g\\\"} 5\n"
	      "# TYPE brotr_z_total counter\nbrotr_z_total{service=\"sync\"} 9\n", f);
	fclose(f);
	struct metrics *b = metrics_new("sync");
	ck_assert_int_eq(metrics_load_file(b, dir), 0);
	struct metric *x = metrics_get(b, METRIC_COUNTER, "x_total", "Xs.", metrics_labels(l, sizeof(l), "reason", "a \"q\"", NULL));
	ck_assert(metric_value(x) == 3);
	metric_add(x, 1);
	ck_assert(metric_value(metrics_get(b, METRIC_COUNTER, "y_total", "Ys.", NULL)) == 2);
	ck_assert(metric_value(metrics_get(b, METRIC_COUNTER, "passes_total", "", "result=\"ok\"")) == 1);
	ck_assert(metric_value(metrics_get(b, METRIC_GAUGE, "g", "A gauge.", NULL)) == 0);
	struct buf out;
	buf_init(&out);
	metrics_render(b, &out);
	ck_assert_msg(strstr(out.data, "# HELP brotr_x_total Xs.\n# TYPE brotr_x_total counter\n"
				       "brotr_x_total{service=\"sync\",reason=\"a \\\"q\\\"\"} 4\n"), "%s", out.data);
	ck_assert_msg(strstr(out.data, "brotr_z_total{service=\"sync\"} 9\n"), "%s", out.data);
	ck_assert_msg(!strstr(out.data, "reason=\"b\"") && !strstr(out.data, "reason=\"c\"") &&
			      !strstr(out.data, "reason=\"d\"") && !strstr(out.data, "reason=\"e\"") &&
			      !strstr(out.data, "reason=\"g") && !strstr(out.data, "other"),
		      "%s", out.data);
	buf_free(&out);
	metrics_free(b);
	unlink(path);
	ck_assert_int_eq(metrics_load_file(b = metrics_new("sync"), dir), 0); /* no file: nothing to continue */
	metrics_free(b);
	rmdir(dir);
}
END_TEST

/* The file's value of the series line's key (the text before its last space), or -1 when absent. */
static double value_in(const char *render, const char *line)
{
	const char *sp = strrchr(line, ' ');
	size_t klen = (size_t)(sp - line) + 1;
	for (const char *p = render; (p = strstr(p, "\n")) != NULL;) {
		p++;
		if (strncmp(p, line, klen) == 0)
			return strtod(p + klen, NULL);
	}
	return -1;
}

/* Every truncated prefix of a file (a damaged file: the writer itself is atomic) loads without
 * harm: each series the registry then holds exists in the whole file, with at most its value. */
START_TEST(every_truncated_prefix_loads_safely)
{
	char dir[] = "/tmp/brotr-metrics-XXXXXX", path[128], l[96];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/brotr_s.prom", dir);
	struct metrics *a = metrics_new("s");
	metric_add(metrics_get(a, METRIC_COUNTER, "x_total", "Xs, \"quoted\".",
			       metrics_labels(l, sizeof(l), "reason", "a \"q\" \\ b", "relay", "wss://r.example/\n", NULL)),
		   12345);
	metric_add(metrics_get(a, METRIC_COUNTER, "y_total", "Ys.", NULL), 0.25);
	metric_set(metrics_get(a, METRIC_GAUGE, "g", "G.", NULL), 99);
	metrics_pass_done(a, 1, 0, 1000);
	struct buf whole;
	buf_init(&whole);
	buf_putc(&whole, '\n');
	metrics_render(a, &whole);
	metrics_free(a);
	for (size_t len = 0; len < whole.len; len++) {
		FILE *f = fopen(path, "w");
		fwrite(whole.data + 1, 1, len, f);
		fclose(f);
		struct metrics *b = metrics_new("s");
		ck_assert_int_eq(metrics_load_file(b, dir), 0);
		struct buf out;
		buf_init(&out);
		metrics_render(b, &out);
		for (char *line = out.data, *next; line && *line; line = next) {
			next = strchr(line, '\n');
			*next++ = '\0';
			if (*line == '#')
				continue;
			double got = strtod(strrchr(line, ' ') + 1, NULL), want = value_in(whole.data, line);
			ck_assert_msg(want >= 0 && got <= want, "prefix %zu: %s (whole file: %g)", len, line, want);
		}
		buf_free(&out);
		metrics_free(b);
	}
	buf_free(&whole);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Regression: the temporary file had a predictable name (<file>.tmp.<pid>) opened without O_EXCL or
 * O_NOFOLLOW, so a link planted there made the writer overwrite its target and rename the link
 * into place. */
START_TEST(file_write_never_follows_a_planted_link)
{
	struct metrics *m = metrics_new("t");
	char dir[] = "/tmp/brotr-metrics-XXXXXX", path[128], victim[128], link[192];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/brotr_t.prom", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(link, sizeof(link), "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(victim, "w");
	fputs("precious\n", f);
	fclose(f);
	ck_assert_int_eq(symlink(victim, link), 0);
	ck_assert_int_eq(metrics_write_file(m, dir), 0);
	ck_assert_int_eq(metrics_write_file(m, dir), 0); /* and again over the first file */
	char *data;
	size_t len;
	ck_assert_int_eq(read_file(victim, 1 << 16, &data, &len), 0);
	ck_assert_str_eq(data, "precious\n");
	free(data);
	struct stat st;
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_msg(S_ISREG(st.st_mode), "the .prom file is not a regular file");
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	/* nothing left behind but the file, the victim and the planted link */
	DIR *d = opendir(dir);
	int entries = 0;
	for (struct dirent *e; (e = readdir(d));)
		entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	ck_assert_int_eq(entries, 3);
	unlink(path);
	unlink(victim);
	unlink(link);
	rmdir(dir);
	metrics_free(m);
}
END_TEST

/* ---- the HTTP endpoint ---- */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static int dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Sends req and reads the whole response (until the server closes). Caller frees. */
static char *fetch(int port, const char *req, size_t reqlen)
{
	int fd = dial(port);
	ck_assert_int_eq(send(fd, req, reqlen, MSG_NOSIGNAL), (ssize_t)reqlen);
	struct buf b;
	buf_init(&b);
	char chunk[65536];
	ssize_t n;
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
		buf_append(&b, chunk, (size_t)n);
	close(fd);
	return b.data ? b.data : strdup("");
}

/* 1 when the server has closed fd (EOF or reset is waiting), 0 while it is still open. */
static int closed_by_server(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 0) == 0)
		return 0;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN);
}

static struct metrics_http *start_on(int port, int allow_remote, const char *host, struct metrics *m, char *err)
{
	static const struct logger lg = { 0 };
	char listen[64];
	snprintf(listen, sizeof(listen), "%s:%d", host, port);
	return metrics_http_start(listen, allow_remote, m, &lg, err, 256);
}

START_TEST(http_listen_is_loopback_unless_allowed)
{
	struct metrics *m = metrics_new("t");
	char err[256];
	int port = free_port();
	ck_assert_ptr_null(start_on(port, 0, "0.0.0.0", m, err));
	ck_assert_msg(strstr(err, "not loopback"), "%s", err);
	ck_assert_ptr_null(start_on(port, 0, "127.evil.example", m, err)); /* a name, never looked up */
	ck_assert_ptr_null(start_on(port, 1, "127.evil.example", m, err));
	static const char *const loopback[] = { "127.0.0.1", "localhost", "[::1]", "127.0.0.2" };
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		struct metrics_http *h = start_on(free_port(), 0, loopback[i], m, err);
		ck_assert_msg(h != NULL || (strstr(err, "Cannot assign") && strchr(loopback[i], ':')), "%s: %s",
			      loopback[i], err);
		metrics_http_stop(h);
	}
	struct metrics_http *h = start_on(port, 1, "0.0.0.0", m, err);
	ck_assert_msg(h != NULL, "%s", err);
	char *r = fetch(port, "GET /health HTTP/1.0\r\n\r\n", 24);
	ck_assert_msg(strstr(r, "\"starting\""), "%s", r);
	free(r);
	metrics_http_stop(h);
	metrics_free(m);
}
END_TEST

/* Regression: one client at a time with blocking I/O; a silent client held the server for its read
 * timeout and one that did not read a large response held it for ever. Another client is now
 * answered while both are still connected. */
START_TEST(http_slow_clients_do_not_stall_others)
{
	struct metrics *m = metrics_new("t");
	char l[64], err[256];
	for (int i = 0; i < 100000; i++) /* ~10 MiB of response, more than the socket buffers hold */
		metrics_get(m, METRIC_GAUGE, "relay_series", "Series to make the response large.",
			    metrics_labels(l, sizeof(l), "relay", (snprintf(err, sizeof(err), "wss://relay-%d.example.com/a/path/long/enough/to/fill/the/buffers", i), err),
					   NULL));
	int port = free_port();
	struct metrics_http *h = start_on(port, 0, "127.0.0.1", m, err);
	ck_assert_msg(h != NULL, "%s", err);
	int silent = dial(port);
	int partial = dial(port);
	ck_assert_int_eq(send(partial, "GET /metr", 9, MSG_NOSIGNAL), 9);
	int reader = dial(port);
	int rcv = 4096;
	setsockopt(reader, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	ck_assert_int_eq(send(reader, "GET /metrics HTTP/1.1\r\n\r\n", 25, MSG_NOSIGNAL), 25);
	char *r = fetch(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 33);
	ck_assert_msg(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", r);
	ck_assert_ptr_nonnull(strstr(r, "{\"status\":\"starting\"}\n"));
	free(r);
	ck_assert_msg(!closed_by_server(silent), "the silent client was closed before the other was answered");
	ck_assert_msg(!closed_by_server(partial), "the partial client was closed before the other was answered");
	ck_assert_msg(!closed_by_server(reader), "the slow reader was closed before the other was answered");
	close(silent);
	close(partial);
	close(reader);
	metrics_http_stop(h);
	metrics_free(m);
}
END_TEST

/* Regression: a request head longer than the buffer was cut and answered as if complete. */
START_TEST(http_request_head_is_bounded)
{
	struct metrics *m = metrics_new("t");
	char err[256];
	int port = free_port();
	struct metrics_http *h = start_on(port, 0, "127.0.0.1", m, err);
	ck_assert_msg(h != NULL, "%s", err);
	size_t n = METRICS_HTTP_REQUEST_MAX + 100;
	char *req = malloc(n);
	memcpy(req, "GET /metrics HTTP/1.1\r\nX: ", 26);
	memset(req + 26, 'a', n - 26);
	char *r = fetch(port, req, n);
	ck_assert_msg(strncmp(r, "HTTP/1.1 431 ", 13) == 0, "%.200s", r);
	free(r);
	free(req);
	r = fetch(port, "POST /metrics HTTP/1.1\r\n\r\n", 26);
	ck_assert_msg(strncmp(r, "HTTP/1.1 405 ", 13) == 0, "%.200s", r);
	free(r);
	r = fetch(port, "GET /nope HTTP/1.1\r\n\r\n", 22);
	ck_assert_msg(strncmp(r, "HTTP/1.1 404 ", 13) == 0, "%.200s", r);
	free(r);
	metrics_http_stop(h);
	metrics_free(m);
}
END_TEST

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* The child: a server with every descriptor taken while a connection waits. Exits 0 when the
 * process used little CPU in two seconds of that (a readable listener it cannot accept from
 * made the loop spin), then frees the descriptors so the waiting client is served. */
static void emfile_child(int port, int ready, int go)
{
	struct metrics *m = metrics_new("t");
	char err[256];
	struct metrics_http *h = start_on(port, 0, "127.0.0.1", m, err);
	if (!h)
		_exit(2);
	int first = -1, last = -1, fd;
	while ((fd = dup(0)) >= 0) {
		if (first < 0)
			first = fd;
		last = fd;
	}
	if (errno != EMFILE || write(ready, "r", 1) != 1 || read(go, err, 1) != 1) /* the client has connected */
		_exit(3);
	double t0 = cpu_seconds();
	sleep(2);
	double used = cpu_seconds() - t0;
	for (fd = first; fd >= 0 && fd <= last; fd++)
		if (fd != ready && fd != go)
			close(fd);
	if (write(ready, used < 0.05 ? "y" : "n", 1) != 1 || read(go, err, 1) != 1) /* the client was served */
		_exit(4);
	metrics_http_stop(h);
	_exit(used < 0.05 ? 0 : 5);
}

/* Regression: accept4 failing with EMFILE left the listener readable and the thread spinning. */
START_TEST(http_out_of_descriptors_does_not_spin)
{
	int port = free_port(), up[2], down[2];
	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 64, 64 };
		setrlimit(RLIMIT_NOFILE, &rl);
		emfile_child(port, up[1], down[0]);
	}
	char c;
	ck_assert_int_eq(read(up[0], &c, 1), 1);
	int fd = dial(port);
	ck_assert_int_eq(send(fd, "GET /health HTTP/1.0\r\n\r\n", 24, MSG_NOSIGNAL), 24);
	ck_assert_int_eq(write(down[1], "g", 1), 1);
	ck_assert_int_eq(read(up[0], &c, 1), 1);
	ck_assert_msg(c == 'y', "the server used CPU while it could not accept");
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_WAITALL);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, "\"starting\""), "the waiting client was not served once descriptors were free: %s", buf);
	close(fd);
	ck_assert_int_eq(write(down[1], "g", 1), 1);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");
	tcase_add_test(tc, render_groups_families);
	tcase_add_test(tc, pass_outcome_and_file);
	tcase_add_test(tc, counters_continue_from_the_previous_file);
	tcase_add_test(tc, every_truncated_prefix_loads_safely);
	tcase_add_test(tc, file_write_never_follows_a_planted_link);
	tcase_add_test(tc, http_listen_is_loopback_unless_allowed);
	tcase_add_test(tc, http_slow_clients_do_not_stall_others);
	tcase_add_test(tc, http_request_head_is_bounded);
	tcase_add_test(tc, http_out_of_descriptors_does_not_spin);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
