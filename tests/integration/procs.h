/* procs.h — for integration tests: start the tools in $BUILD/tools (fixture relay, SOCKS servers) and read their "ready" line. */
#ifndef BROTR_TESTS_PROCS_H
#define BROTR_TESTS_PROCS_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct proc {
	pid_t pid;
	int port;     /* from "ready port=P" */
	int tls_port; /* from "tls_port=Q", or -1 */
};

/* $BUILD/tools/<name> (BUILD defaults to "build"; tests run from the repository root). */
static inline const char *tool_path(const char *name, char *buf, size_t len)
{
	const char *b = getenv("BUILD");
	snprintf(buf, len, "%s/tools/%s", b && *b ? b : "build", name);
	return buf;
}

/* A path in the run's temporary directory ($TEST_TMP, made by the harness) or /tmp. */
static inline const char *tmp_path(const char *name, char *buf, size_t len)
{
	const char *t = getenv("TEST_TMP");
	snprintf(buf, len, "%s/%d-%s", t && *t ? t : "/tmp", (int)getpid(), name);
	return buf;
}

/*
 * Starts argv[0] with argv, its stdout on a pipe, and waits for its first line,
 * "ready port=P [tls_port=Q]" (a bounded wait: 20 s). Returns 0, or -1 (child killed).
 */
static inline int proc_start(struct proc *p, char *const argv[])
{
	int fds[2];
	memset(p, 0, sizeof(*p));
	p->tls_port = -1;
	if (pipe(fds) < 0)
		return -1;
	p->pid = fork();
	if (p->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	char line[256];
	size_t n = 0;
	while (n + 1 < sizeof(line)) {
		struct pollfd pf = { fds[0], POLLIN, 0 };
		if (poll(&pf, 1, 20000) <= 0 || read(fds[0], line + n, 1) != 1)
			break;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	close(fds[0]);
	const char *tp = strstr(line, "tls_port=");
	if (sscanf(line, "ready port=%d", &p->port) != 1) {
		fprintf(stderr, "%s did not start: '%s'\n", argv[0], line);
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
		return -1;
	}
	if (tp)
		p->tls_port = atoi(tp + 9);
	return 0;
}

static inline void proc_stop(struct proc *p)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, SIGTERM);
	waitpid(p->pid, NULL, 0);
	p->pid = 0;
}

/* Runs a shell command (test set-up such as the openssl CLI). Returns its exit status. */
static inline int run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int run_cmd(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Counts the lines of a file that contain needle. */
static inline int count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

#endif
