/* encode.c — PostgreSQL array literals for array parameters, UTF-8 and U+0000 checks. */
#include "encode.h"

#include <stdio.h>
#include <string.h>

void pgarr_init(struct pgarr *a)
{
	buf_init(&a->buf);
	a->n = 0;
	a->too_long = 0;
}

void pgarr_free(struct pgarr *a)
{
	buf_free(&a->buf);
	a->n = 0;
}

void pgarr_begin(struct pgarr *a)
{
	buf_reset(&a->buf);
	a->buf.failed = 0; /* a failure (memory, size) ends with the literal it hit */
	a->n = 0;
	a->too_long = 0;
	buf_putc(&a->buf, '{');
}

/* Starts an element of at most `most` bytes. Returns 0, or -1 when the literal would pass
 * PGARR_MAX_BYTES (the buffer is then marked failed and stays so). */
static int element(struct pgarr *a, size_t most)
{
	if (a->buf.failed || most > PGARR_MAX_BYTES - 2 || a->buf.len + most + 2 > PGARR_MAX_BYTES) {
		a->too_long = !a->buf.failed;
		a->buf.failed = 1;
		return -1;
	}
	if (a->n++ > 0)
		buf_putc(&a->buf, ',');
	return 0;
}

int pgarr_text(struct pgarr *a, const char *s, size_t len)
{
	if (len > 0 && memchr(s, '\0', len))
		return -1;
	/* Worst case every byte is escaped, plus the quotes. */
	if (element(a, 2 * len + 2) < 0 || buf_reserve(&a->buf, 2 * len + 2) < 0)
		return 0; /* the buffer is marked failed; pgarr_end reports it */
	char *o = a->buf.data + a->buf.len;
	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '"' || c == '\\')
			*o++ = '\\';
		*o++ = c;
	}
	*o++ = '"';
	a->buf.len = (size_t)(o - a->buf.data);
	a->buf.data[a->buf.len] = '\0';
	return 0;
}

void pgarr_null(struct pgarr *a)
{
	if (element(a, 4) == 0)
		buf_puts(&a->buf, "NULL");
}

void pgarr_int(struct pgarr *a, long long v)
{
	char tmp[24];
	int l = snprintf(tmp, sizeof(tmp), "%lld", v);
	if (element(a, (size_t)l) == 0)
		buf_append(&a->buf, tmp, (size_t)l);
}

void pgarr_bool(struct pgarr *a, int v)
{
	if (element(a, 1) == 0)
		buf_putc(&a->buf, v ? 't' : 'f');
}

void pgarr_hex(struct pgarr *a, const unsigned char *p, size_t n)
{
	if (element(a, 2 * n) < 0 || buf_reserve(&a->buf, 2 * n) < 0)
		return;
	hex_encode(p, n, a->buf.data + a->buf.len);
	a->buf.len += 2 * n;
}

const char *pgarr_end(struct pgarr *a)
{
	buf_putc(&a->buf, '}');
	return a->buf.failed ? NULL : a->buf.data;
}

int json_has_nul(const char *s, size_t len)
{
	int in_string = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\0')
			return 1;
		if (!in_string) {
			if (c == '"')
				in_string = 1;
			continue;
		}
		if (c == '"') {
			in_string = 0;
		} else if (c == '\\' && i + 1 < len) {
			if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
				return 1;
			i++; /* skip the escaped character, so \\u0000 is a backslash then "u0000" */
		}
	}
	return 0;
}
