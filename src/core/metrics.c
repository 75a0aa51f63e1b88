/* metrics.c — counters and gauges behind one mutex, rendered in the Prometheus text format. */
#include "core/metrics.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct family {
	struct family *next; /* in creation order, so output is stable */
	enum metric_kind kind;
	const char *name;
	const char *help;
	char *owned; /* name and help when read from a file ("name\0help"), else NULL */
	struct metric *head, *tail;
};

struct metric {
	struct metric *next;  /* in its family, in creation order */
	struct metric *hnext; /* in its hash bucket */
	struct family *family;
	char *labels; /* NULL when none */
	uint64_t hash;
	double value;
	pthread_mutex_t *lock;
};

struct metrics {
	pthread_mutex_t lock;
	char *service;
	struct family *families, *last_family;
	struct metric **buckets; /* series by name and labels, so a lookup costs the same at any size */
	size_t n_buckets, n_series;
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
	m->n_buckets = 64;
	m->buckets = calloc(m->n_buckets, sizeof(*m->buckets));
	if (!m->service || !m->buckets) {
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
	for (struct family *f = m->families, *fn; f; f = fn) {
		fn = f->next;
		for (struct metric *s = f->head, *n; s; s = n) {
			n = s->next;
			free(s->labels);
			free(s);
		}
		free(f->owned);
		free(f);
	}
	free(m->buckets);
	free(m->service);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* FNV-1a over name, a separator and labels. */
static uint64_t series_hash(const char *name, const char *labels)
{
	uint64_t h = 14695981039346656037ULL;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *p = labels ? labels : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

/* Doubles the table when it holds twice as many series as buckets; on OOM it just stays smaller. */
static void grow(struct metrics *m)
{
	if (m->n_series < 2 * m->n_buckets)
		return;
	size_t n = m->n_buckets * 2;
	struct metric **b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct metric *s = m->buckets[i], *next; s; s = next) {
			next = s->hnext;
			s->hnext = b[s->hash % n];
			b[s->hash % n] = s;
		}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = n;
}

static struct family *family_of(struct metrics *m, enum metric_kind kind, const char *name, const char *help)
{
	struct family *f;
	for (f = m->families; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	if (!(f = calloc(1, sizeof(*f))))
		return NULL;
	f->kind = kind;
	f->name = name;
	f->help = help;
	if (m->last_family)
		m->last_family->next = f;
	else
		m->families = f;
	m->last_family = f;
	return f;
}

/* metrics_get with the lock held. */
static struct metric *get_locked(struct metrics *m, enum metric_kind kind, const char *name, const char *help,
				 const char *labels)
{
	if (labels && !*labels)
		labels = NULL;
	uint64_t hash = series_hash(name, labels);
	struct metric *s;
	for (s = m->buckets[hash % m->n_buckets]; s; s = s->hnext)
		if (s->hash == hash && strcmp(s->family->name, name) == 0 && strcmp(s->labels ? s->labels : "",
										   labels ? labels : "") == 0)
			goto out;
	struct family *f = family_of(m, kind, name, help);
	if (!f || !(s = calloc(1, sizeof(*s))))
		goto out;
	if (labels && !(s->labels = strdup(labels))) {
		free(s);
		s = NULL;
		goto out;
	}
	s->family = f;
	s->hash = hash;
	s->lock = &m->lock;
	if (f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	s->hnext = m->buckets[hash % m->n_buckets];
	m->buckets[hash % m->n_buckets] = s;
	m->n_series++;
	grow(m);
out:
	return s;
}

struct metric *metrics_get(struct metrics *m, enum metric_kind kind, const char *name, const char *help,
			   const char *labels)
{
	pthread_mutex_lock(&m->lock);
	struct metric *s = get_locked(m, kind, name, help, labels);
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
	for (struct family *f = m->families; f; f = f->next) {
		buf_printf(out, "# HELP brotr_%s %s\n# TYPE brotr_%s %s\n", f->name, f->help, f->name,
			   f->kind == METRIC_COUNTER ? "counter" : "gauge");
		for (struct metric *s = f->head; s; s = s->next)
			buf_printf(out, "brotr_%s{service=\"%s\"%s%s} %.17g\n", f->name, m->service, s->labels ? "," : "",
				   s->labels ? s->labels : "", s->value);
	}
	pthread_mutex_unlock(&m->lock);
}

/* The counter family a "# TYPE brotr_<name> counter" line names, created with the name and help read
 * from the file (help: the latest "# HELP" line for that name), or NULL. */
static struct family *loaded_family(struct metrics *m, const char *line, const char *help_line)
{
	const char *name = line + strlen("# TYPE brotr_"), *sp = strchr(name, ' ');
	if (!sp || strcmp(sp, " counter") != 0)
		return NULL;
	size_t nl = (size_t)(sp - name), hl = 0;
	const char *help = "";
	if (help_line && strncmp(help_line + strlen("# HELP brotr_"), name, nl) == 0 &&
	    help_line[strlen("# HELP brotr_") + nl] == ' ')
		help = help_line + strlen("# HELP brotr_") + nl + 1;
	hl = strlen(help);
	char *own = malloc(nl + hl + 2);
	if (!own)
		return NULL;
	memcpy(own, name, nl);
	own[nl] = '\0';
	memcpy(own + nl + 1, help, hl + 1);
	struct family *f = family_of(m, METRIC_COUNTER, own, own + nl + 1);
	if (f && f->name == own)
		f->owned = own;
	else
		free(own);
	return f && f->kind == METRIC_COUNTER ? f : NULL;
}

/* 1 when s is what metrics_labels writes: k="v" pairs, comma-separated, v escaped. */
static int labels_valid(const char *s)
{
	while (*s) {
		if (!(isalpha((unsigned char)*s) || *s == '_'))
			return 0;
		while (isalnum((unsigned char)*s) || *s == '_')
			s++;
		if (*s++ != '=' || *s++ != '"')
			return 0;
		for (; *s != '"'; s++)
			if (!*s || (*s == '\\' && (!s[1] || !strchr("\\\"n", *++s))))
				return 0;
		if (!*++s)
			return 1;
		if (*s++ != ',' || !*s)
			return 0;
	}
	return 1;
}

/* Adds one sample line of family f ("brotr_<name>{service="<s>"[,labels]} <value>") to its series. */
static void load_sample(struct metrics *m, struct family *f, char *line)
{
	struct buf pre;
	buf_init(&pre);
	buf_printf(&pre, "brotr_%s{service=\"%s\"", f->name, m->service);
	char *sp = strrchr(line, ' '), *end;
	if (pre.failed || strncmp(line, pre.data, pre.len) != 0 || !sp || sp[-1] != '}')
		goto out;
	char *labels = line + pre.len;
	if (*labels == ',')
		labels++;
	else if (labels != sp - 1)
		goto out;
	double v = strtod(sp + 1, &end);
	if (*end || end == sp + 1 || !(v >= 0 && v <= 1e300))
		goto out;
	sp[-1] = '\0';
	if (!labels_valid(labels))
		goto out;
	struct metric *s = get_locked(m, METRIC_COUNTER, f->name, f->help, labels);
	if (s)
		s->value += v;
out:
	buf_free(&pre);
}

int metrics_load_file(struct metrics *m, const char *dir)
{
	char path[PATH_MAX], *data;
	size_t len;
	if (snprintf(path, sizeof(path), "%s/brotr_%s.prom", dir, m->service) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (read_file(path, METRICS_FILE_MAX, &data, &len) < 0)
		return errno == ENOENT ? 0 : -1;
	pthread_mutex_lock(&m->lock);
	struct family *f = NULL;
	const char *help = NULL;
	for (char *line = data, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "# HELP brotr_", 13) == 0)
			help = line;
		else if (strncmp(line, "# TYPE brotr_", 13) == 0)
			f = loaded_family(m, line, help);
		else if (f && *line != '#')
			load_sample(m, f, line);
	}
	pthread_mutex_unlock(&m->lock);
	free(data);
	return 0;
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
