/* util.h — small helpers shared by every layer: growable buffers, clocks, strict number parsing, hex. */
#ifndef BROTR_CORE_UTIL_H
#define BROTR_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A growable byte buffer, always NUL-terminated when data != NULL. An allocation failure
 * sets `failed`, which stays set; later appends do nothing, so callers check once at the end.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	int failed;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);                       /* len = 0, keeps the memory */
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ensures room for n more bytes. Returns 0, or -1 (and sets failed) on allocation failure. */
int buf_reserve(struct buf *b, size_t n);

/* Milliseconds from a monotonic clock (for durations) and from the epoch (for timestamps). */
uint64_t mono_ms(void);
int64_t wall_ms(void);
/* The CLOCK_REALTIME time ms milliseconds from now, for pthread_cond_timedwait. */
void deadline_in_ms(struct timespec *ts, long long ms);
/* Writes "2026-11-23T10:11:12.345Z" (24 characters + NUL) into out. */
void format_utc_ms(int64_t epoch_ms, char out[32]);

/* Parses a whole decimal integer (optional sign, no spaces). Returns 0, or -1 when invalid or out of range. */
int parse_ll(const char *s, long long *out);
/*
 * Parses a duration: an integer with an optional unit ms, s, m, h or d ("90", "500ms", "5m").
 * A bare number means seconds. Writes milliseconds. Returns 0, or -1 when invalid or overflowing.
 */
int parse_duration_ms(const char *s, long long *out);
/* Parses true/false, yes/no, on/off, 1/0 (case-insensitive). Returns 0, or -1. */
int parse_bool(const char *s, int *out);

/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* Decodes exactly 2n lower-case hex characters of in into n bytes. Returns 0, or -1 when not hex. */
int hex_decode(const char *in, unsigned char *out, size_t n);

/* Reads a whole file (at most max bytes) into a NUL-terminated malloc'd buffer owned by the caller.
 * Returns 0 and sets *out and *len, or -1 with errno set (EFBIG when larger than max). */
int read_file(const char *path, size_t max, char **out, size_t *len);

/* Writes data to path atomically: a new temporary file of unpredictable name in the same directory
 * (O_EXCL|O_NOFOLLOW: no existing file or symbolic link is ever opened), fsync, rename, fsync of the
 * directory. Returns 0, or -1 with errno set. */
int write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* Whether s[0..n) is valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF; NUL is
 * valid here, checked apart where it matters). */
int utf8_valid(const char *s, size_t n);

/* Length in bytes of the valid UTF-8 sequence at s (at most n bytes available), or 0 when invalid. */
size_t utf8_seq(const unsigned char *s, size_t n);

#endif
