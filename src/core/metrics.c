/* metrics.c — counters and gauges behind one mutex, rendered in the Prometheus text format. */
#include "core/metrics.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metric {
	struct metric *next;
	enum metric_kind kind;
	const char *name;
	const char *help;
	char *labels;
	double value;
	pthread_mutex_t *lock;
};

struct metrics {
	pthread_mutex_t lock;
	char *service;
	struct metric *head, *tail; /* in creation order, so output is stable */
	int last_ok;
	struct metric *passes_ok, *passes_failed, *last_success, *last_end, *duration;
};

struct metrics *metrics_new(const char *service)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->service = strdup(service);
	m->last_ok = -1;
	if (!m->service) {
		metrics_free(m);
		return NULL;
	}
	m->passes_ok = metrics_get(m, METRIC_COUNTER, "passes_total", "Passes finished, by result.", "result=\"ok\"");
	m->passes_failed =
		metrics_get(m, METRIC_COUNTER, "passes_total", "Passes finished, by result.", "result=\"failed\"");
	m->last_success = metrics_get(m, METRIC_GAUGE, "last_pass_success", "1 if the last pass succeeded.", NULL);
	m->last_end = metrics_get(m, METRIC_GAUGE, "last_pass_end_timestamp_seconds",
				  "When the last pass ended (Unix time).", NULL);
	m->duration = metrics_get(m, METRIC_GAUGE, "last_pass_duration_seconds", "How long the last pass took.", NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (struct metric *s = m->head, *n; s; s = n) {
		n = s->next;
		free(s->labels);
		free(s);
	}
	free(m->service);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static int same_labels(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

struct metric *metrics_get(struct metrics *m, enum metric_kind kind, const char *name, const char *help,
			   const char *labels)
{
	pthread_mutex_lock(&m->lock);
	struct metric *s;
	for (s = m->head; s; s = s->next)
		if (strcmp(s->name, name) == 0 && same_labels(s->labels, labels))
			goto out;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out;
	s->kind = kind;
	s->name = name;
	s->help = help;
	s->lock = &m->lock;
	if (labels && *labels && !(s->labels = strdup(labels))) {
		free(s);
		s = NULL;
		goto out;
	}
	if (m->tail)
		m->tail->next = s;
	else
		m->head = s;
	m->tail = s;
out:
	pthread_mutex_unlock(&m->lock);
	return s;
}

const char *metrics_labels(char *out, size_t len, ...)
{
	struct buf b;
	buf_init(&b);
	va_list ap;
	va_start(ap, len);
	const char *k;
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		buf_printf(&b, "%s%s=\"", b.len ? "," : "", k);
		for (; v && *v; v++) {
			if (*v == '\\' || *v == '"')
				buf_putc(&b, '\\');
			if (*v == '\n')
				buf_puts(&b, "\\n");
			else
				buf_putc(&b, *v);
		}
		buf_putc(&b, '"');
	}
	va_end(ap);
	snprintf(out, len, "%s", b.failed || !b.data ? "" : b.data);
	buf_free(&b);
	return out;
}

void metrics_count(struct metrics *m, const char *name, const char *help, const char *k1, const char *v1,
		   const char *k2, const char *v2, double n)
{
	char labels[192];
	metric_add(metrics_get(m, METRIC_COUNTER, name, help, metrics_labels(labels, sizeof(labels), k1, v1, k2, v2, NULL)),
		   n);
}

void metric_add(struct metric *s, double v)
{
	if (!s)
		return;
	pthread_mutex_lock(s->lock);
	s->value += v;
	pthread_mutex_unlock(s->lock);
}

void metric_set(struct metric *s, double v)
{
	if (!s)
		return;
	pthread_mutex_lock(s->lock);
	s->value = v;
	pthread_mutex_unlock(s->lock);
}

double metric_value(const struct metric *s)
{
	if (!s)
		return 0;
	pthread_mutex_lock(s->lock);
	double v = s->value;
	pthread_mutex_unlock(s->lock);
	return v;
}

void metrics_pass_done(struct metrics *m, int ok, int64_t start_ms, int64_t end_ms)
{
	metric_add(ok ? m->passes_ok : m->passes_failed, 1);
	metric_set(m->last_success, ok ? 1 : 0);
	metric_set(m->last_end, (double)end_ms / 1000.0);
	metric_set(m->duration, (double)(end_ms - start_ms) / 1000.0);
	pthread_mutex_lock(&m->lock);
	m->last_ok = ok ? 1 : 0;
	pthread_mutex_unlock(&m->lock);
}

int metrics_last_pass_ok(struct metrics *m)
{
	pthread_mutex_lock(&m->lock);
	int v = m->last_ok;
	pthread_mutex_unlock(&m->lock);
	return v;
}

void metrics_render(struct metrics *m, struct buf *out)
{
	pthread_mutex_lock(&m->lock);
	/* A family's series must be contiguous: print each name once, with all its series. */
	for (struct metric *f = m->head; f; f = f->next) {
		int seen = 0;
		for (struct metric *p = m->head; p != f && !seen; p = p->next)
			seen = strcmp(p->name, f->name) == 0;
		if (seen)
			continue;
		buf_printf(out, "# HELP brotr_%s %s\n# TYPE brotr_%s %s\n", f->name, f->help, f->name,
			   f->kind == METRIC_COUNTER ? "counter" : "gauge");
		for (struct metric *s = f; s; s = s->next)
			if (strcmp(s->name, f->name) == 0)
				buf_printf(out, "brotr_%s{service=\"%s\"%s%s} %.17g\n", s->name, m->service,
					   s->labels ? "," : "", s->labels ? s->labels : "", s->value);
	}
	pthread_mutex_unlock(&m->lock);
}

int metrics_write_file(struct metrics *m, const char *dir)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/brotr_%s.prom", dir, m->service) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	struct buf b;
	buf_init(&b);
	metrics_render(m, &b);
	if (b.failed) {
		buf_free(&b);
		errno = ENOMEM;
		return -1;
	}
	int rc = write_file_atomic(path, b.data ? b.data : "", b.len, 0644);
	buf_free(&b);
	return rc;
}
