/* log.h — structured logging: logfmt or JSON lines, rate-limited, reopened on SIGHUP. */
#ifndef BROTR_CORE_LOG_H
#define BROTR_CORE_LOG_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

enum log_kv_type { LOG_KV_END, LOG_KV_STR, LOG_KV_INT, LOG_KV_UINT, LOG_KV_DBL, LOG_KV_BOOL };

/* One field of a log event. Strings are borrowed for the duration of the call. */
struct log_kv {
	const char *key;
	enum log_kv_type type;
	union {
		const char *s;
		long long i;
		unsigned long long u;
		double d;
		int b;
	} v;
};

#define LOG_S(k, x) ((struct log_kv){ .key = (k), .type = LOG_KV_STR, .v.s = (x) })
#define LOG_I(k, x) ((struct log_kv){ .key = (k), .type = LOG_KV_INT, .v.i = (long long)(x) })
#define LOG_U(k, x) ((struct log_kv){ .key = (k), .type = LOG_KV_UINT, .v.u = (unsigned long long)(x) })
#define LOG_F(k, x) ((struct log_kv){ .key = (k), .type = LOG_KV_DBL, .v.d = (double)(x) })
#define LOG_B(k, x) ((struct log_kv){ .key = (k), .type = LOG_KV_BOOL, .v.b = !!(x) })
#define LOG_END ((struct log_kv){ .key = NULL, .type = LOG_KV_END })

struct log_options {
	enum log_level level;
	enum log_format format;
	const char *path;         /* NULL or "" for stderr */
	unsigned burst;           /* events per key per interval; 0 disables rate limiting */
	unsigned long interval_ms;
	uint64_t (*clock_ms)(void); /* monotonic milliseconds for rate limiting; NULL: the real clock */
};

/* The process's log output. One per process, created by main and passed down. */
struct log_sink;

/* A named view of the sink; services and layers each hold one. Plain value, no ownership. */
struct logger {
	struct log_sink *sink;
	const char *name; /* static string */
};

/* Creates a sink. Returns NULL and writes a reason into err when the file cannot be opened. */
struct log_sink *log_sink_new(const struct log_options *opt, char *err, size_t errlen);
void log_sink_free(struct log_sink *s);

/* Async-signal-safe: asks the sink to reopen its file before the next event (SIGHUP). */
void log_sink_request_reopen(struct log_sink *s);

/* Changes level or format after creation (command-line options win over the configuration). */
void log_sink_set_level(struct log_sink *s, enum log_level level);
void log_sink_set_format(struct log_sink *s, enum log_format format);

/* Emits one summary line for every rate-limited key that suppressed events, then resets them. */
void log_flush_suppressed(struct log_sink *s);

/*
 * Writes one event: msg is a constant string, followed by log_kv values and LOG_END.
 * Rate limiting is keyed by (logger, msg, value of the first field): the first field names
 * the subject, typically the relay. Thread-safe; one write(2) per event.
 */
void log_write(const struct logger *lg, enum log_level level, const char *msg, ...);

#define log_debug(lg, ...) log_write((lg), LOG_DEBUG, __VA_ARGS__, LOG_END)
#define log_info(lg, ...) log_write((lg), LOG_INFO, __VA_ARGS__, LOG_END)
#define log_warn(lg, ...) log_write((lg), LOG_WARN, __VA_ARGS__, LOG_END)
#define log_error(lg, ...) log_write((lg), LOG_ERROR, __VA_ARGS__, LOG_END)

/* Parses "debug", "info", "warn", "error" / "text", "json". Return 0, or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);
int log_format_parse(const char *s, enum log_format *out);

#endif
