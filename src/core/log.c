/* log.c — structured logging: logfmt or JSON lines, rate-limited per subject, reopened on SIGHUP. */
#include "core/log.h"

#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RL_SLOTS 256       /* rate-limiter keys tracked at once; a collision evicts */
#define SUBJECT_MAX 96     /* bytes of the first field kept for the suppression summary */
#define VALUE_MAX 1024     /* longer field values are cut, and say so */

struct rl_slot {
	uint64_t hash;
	const char *logger;
	const char *msg;
	enum log_level level;
	char subject_key[32];
	char subject[SUBJECT_MAX];
	uint64_t window_start;
	unsigned count;
	unsigned long suppressed;
};

struct log_sink {
	pthread_mutex_t lock;
	enum log_level level;
	enum log_format format;
	char *path;
	int fd;
	int journal; /* stderr is connected to journald: prefix lines with <priority> */
	volatile sig_atomic_t reopen;
	unsigned burst;
	unsigned long interval_ms;
	uint64_t (*clock_ms)(void);
	struct rl_slot slots[RL_SLOTS];
	struct buf line;
};

static const char *level_names[] = { "debug", "info", "warn", "error" };
static const int level_syslog[] = { 7, 6, 4, 3 };

int log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_LEN(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int log_format_parse(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

/* journald sets JOURNAL_STREAM=dev:ino for the stream it reads; only then is the prefix understood. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	struct stat st;
	unsigned long long dev, ino;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

struct log_sink *log_sink_new(const struct log_options *opt, char *err, size_t errlen)
{
	struct log_sink *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->level = opt->level;
	s->format = opt->format;
	s->burst = opt->burst;
	s->interval_ms = opt->interval_ms;
	s->clock_ms = opt->clock_ms ? opt->clock_ms : mono_ms;
	s->fd = STDERR_FILENO;
	buf_init(&s->line);
	if (opt->path && *opt->path) {
		s->path = strdup(opt->path);
		s->fd = s->path ? open_log(s->path) : -1;
		if (s->fd < 0) {
			snprintf(err, errlen, "cannot open log file %s: %s", opt->path,
				 s->path ? strerror(errno) : "out of memory");
			free(s->path);
			free(s);
			return NULL;
		}
	} else {
		s->journal = stderr_is_journal();
	}
	return s;
}

void log_sink_free(struct log_sink *s)
{
	if (!s)
		return;
	log_flush_suppressed(s);
	if (s->path && s->fd >= 0)
		close(s->fd);
	free(s->path);
	buf_free(&s->line);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void log_sink_request_reopen(struct log_sink *s)
{
	s->reopen = 1;
}

void log_sink_set_level(struct log_sink *s, enum log_level level)
{
	s->level = level;
}

void log_sink_set_format(struct log_sink *s, enum log_format format)
{
	s->format = format;
}

/* Called with the lock held. On failure the old file stays in use. */
static void reopen_locked(struct log_sink *s)
{
	s->reopen = 0;
	if (!s->path)
		return;
	int fd = open_log(s->path);
	if (fd < 0)
		return;
	close(s->fd);
	s->fd = fd;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned min;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Escapes a string for a JSON string or a quoted logfmt value; invalid UTF-8 becomes U+FFFD. */
static void put_escaped(struct buf *b, const char *str, size_t cap)
{
	const unsigned char *p = (const unsigned char *)str;
	size_t n = strlen(str), shown = n > cap ? cap : n;
	for (size_t i = 0; i < shown;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
		} else if (c == '\n') {
			buf_puts(b, "\\n");
		} else if (c == '\t') {
			buf_puts(b, "\\t");
		} else if (c == '\r') {
			buf_puts(b, "\\r");
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
		} else {
			size_t l = utf8_len(p + i, shown - i);
			if (l == 0) {
				buf_puts(b, "\xef\xbf\xbd");
				l = 1;
			} else {
				buf_append(b, p + i, l);
			}
			i += l;
			continue;
		}
		i++;
	}
	if (shown < n)
		buf_printf(b, "...(%zu bytes)", n);
}

static int logfmt_needs_quotes(const char *s)
{
	if (!*s)
		return 1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p >= 0x7f)
			return 1;
	return 0;
}

static void put_value(struct log_sink *s, const struct log_kv *kv)
{
	struct buf *b = &s->line;
	switch (kv->type) {
	case LOG_KV_STR: {
		const char *v = kv->v.s ? kv->v.s : "";
		if (s->format == LOG_FORMAT_JSON || logfmt_needs_quotes(v)) {
			buf_putc(b, '"');
			put_escaped(b, v, VALUE_MAX);
			buf_putc(b, '"');
		} else {
			put_escaped(b, v, VALUE_MAX);
		}
		break;
	}
	case LOG_KV_INT:
		buf_printf(b, "%lld", kv->v.i);
		break;
	case LOG_KV_UINT:
		buf_printf(b, "%llu", kv->v.u);
		break;
	case LOG_KV_DBL:
		buf_printf(b, "%.6g", kv->v.d);
		break;
	case LOG_KV_BOOL:
		buf_puts(b, kv->v.b ? "true" : "false");
		break;
	case LOG_KV_END:
		break;
	}
}

static void put_field(struct log_sink *s, const struct log_kv *kv)
{
	struct buf *b = &s->line;
	if (s->format == LOG_FORMAT_JSON) {
		buf_puts(b, ",\"");
		put_escaped(b, kv->key, 64);
		buf_puts(b, "\":");
	} else {
		buf_putc(b, ' ');
		buf_puts(b, kv->key);
		buf_putc(b, '=');
	}
	put_value(s, kv);
}

static void format_head(struct log_sink *s, enum log_level level, const char *logger, const char *msg)
{
	char ts[32];
	format_utc_ms(wall_ms(), ts);
	struct buf *b = &s->line;
	buf_reset(b);
	struct log_kv m = LOG_S("msg", msg);
	if (s->format == LOG_FORMAT_JSON) {
		buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\",\"logger\":\"%s\",\"msg\":", ts, level_names[level],
			   logger);
		put_value(s, &m);
		return;
	}
	if (s->journal)
		buf_printf(b, "<%d>", level_syslog[level]);
	buf_printf(b, "ts=%s level=%s logger=%s", ts, level_names[level], logger);
	put_field(s, &m);
}

static void emit_line(struct log_sink *s)
{
	struct buf *b = &s->line;
	buf_puts(b, s->format == LOG_FORMAT_JSON ? "}\n" : "\n");
	if (b->failed) {
		buf_free(b);
		return;
	}
	const char *p = b->data;
	size_t left = b->len;
	while (left > 0) {
		ssize_t n = write(s->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		left -= (size_t)n;
	}
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;
}

/* The first field's value as text, for the key and the summary line. */
static void subject_text(const struct log_kv *kv, char *out, size_t len)
{
	out[0] = '\0';
	if (!kv || kv->type == LOG_KV_END)
		return;
	switch (kv->type) {
	case LOG_KV_STR:
		snprintf(out, len, "%s", kv->v.s ? kv->v.s : "");
		break;
	case LOG_KV_INT:
		snprintf(out, len, "%lld", kv->v.i);
		break;
	case LOG_KV_UINT:
		snprintf(out, len, "%llu", kv->v.u);
		break;
	default:
		break;
	}
}

static void emit_summary(struct log_sink *s, struct rl_slot *sl)
{
	format_head(s, sl->level, sl->logger, sl->msg);
	if (sl->subject_key[0]) {
		struct log_kv kv = LOG_S(sl->subject_key, sl->subject);
		put_field(s, &kv);
	}
	struct log_kv n = LOG_U("suppressed", sl->suppressed);
	put_field(s, &n);
	emit_line(s);
	sl->suppressed = 0;
}

/*
 * Decides whether an event passes. Returns 1 to emit it, 0 to suppress it; *suppressed
 * receives how many events of this key were dropped before this one.
 */
static int rate_allow(struct log_sink *s, const struct logger *lg, enum log_level level, const char *msg,
		      const struct log_kv *first, unsigned long *suppressed)
{
	*suppressed = 0;
	if (s->burst == 0)
		return 1;
	char subject[SUBJECT_MAX];
	subject_text(first, subject, sizeof(subject));
	uint64_t h = fnv1a(fnv1a(fnv1a(0xcbf29ce484222325ULL, lg->name), msg), subject);
	struct rl_slot *sl = &s->slots[h % RL_SLOTS];
	uint64_t now = s->clock_ms();
	if (sl->hash != h || sl->msg == NULL) {
		if (sl->suppressed)
			emit_summary(s, sl);
		memset(sl, 0, sizeof(*sl));
		sl->hash = h;
		sl->logger = lg->name;
		sl->msg = msg;
		sl->level = level;
		if (first && first->type != LOG_KV_END)
			snprintf(sl->subject_key, sizeof(sl->subject_key), "%s", first->key);
		snprintf(sl->subject, sizeof(sl->subject), "%s", subject);
		sl->window_start = now;
	}
	if (now - sl->window_start >= s->interval_ms) {
		sl->window_start = now;
		sl->count = 0;
	}
	if (sl->count >= s->burst) {
		sl->suppressed++;
		return 0;
	}
	sl->count++;
	*suppressed = sl->suppressed;
	sl->suppressed = 0;
	return 1;
}

void log_write(const struct logger *lg, enum log_level level, const char *msg, ...)
{
	struct log_sink *s = lg->sink;
	if (!s || level < s->level)
		return;
	struct log_kv kvs[32];
	size_t n = 0;
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		struct log_kv kv = va_arg(ap, struct log_kv);
		if (kv.type == LOG_KV_END)
			break;
		if (n < ARRAY_LEN(kvs))
			kvs[n++] = kv;
	}
	va_end(ap);

	pthread_mutex_lock(&s->lock);
	if (s->reopen)
		reopen_locked(s);
	unsigned long suppressed;
	if (rate_allow(s, lg, level, msg, n ? &kvs[0] : NULL, &suppressed)) {
		format_head(s, level, lg->name, msg);
		for (size_t i = 0; i < n; i++)
			put_field(s, &kvs[i]);
		if (suppressed) {
			struct log_kv kv = LOG_U("suppressed", suppressed);
			put_field(s, &kv);
		}
		emit_line(s);
	}
	pthread_mutex_unlock(&s->lock);
}

void log_flush_suppressed(struct log_sink *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->reopen)
		reopen_locked(s);
	for (size_t i = 0; i < RL_SLOTS; i++)
		if (s->slots[i].suppressed)
			emit_summary(s, &s->slots[i]);
	pthread_mutex_unlock(&s->lock);
}
