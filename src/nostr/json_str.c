/* json_str.c — JSON strings: decoding escapes, comparing, writing NIP-01 canonical escapes; integers. */
#include "nostr/json.h"

#include <string.h>

static unsigned hexdig(char c)
{
	if (c <= '9')
		return (unsigned)(c - '0');
	if (c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return (unsigned)(c - 'a' + 10);
}

static unsigned hex4(const char *s)
{
	return hexdig(s[0]) << 12 | hexdig(s[1]) << 8 | hexdig(s[2]) << 4 | hexdig(s[3]);
}

static size_t put_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decodes the (validated) escape at *p into out (at most 4 bytes) and advances *p past it. */
static size_t unescape(const char **p, char *out)
{
	const char *s = *p;
	char c = s[1];
	*p = s + 2;
	switch (c) {
	case 'b': *out = '\b'; return 1;
	case 'f': *out = '\f'; return 1;
	case 'n': *out = '\n'; return 1;
	case 'r': *out = '\r'; return 1;
	case 't': *out = '\t'; return 1;
	case 'u': break;
	default: *out = c; return 1; /* " \ / */
	}
	uint32_t cp = hex4(s + 2);
	*p = s + 6;
	if (cp >= 0xD800 && cp <= 0xDBFF) { /* validated: a low surrogate escape follows */
		uint32_t lo = hex4(s + 8);
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		*p = s + 12;
	}
	return put_utf8(cp, out);
}

size_t json_str_decode(const struct json_doc *d, const struct json_tok *t, char *out)
{
	const char *p = d->text + t->start, *end = d->text + t->end;
	if (!t->escaped) {
		memcpy(out, p, (size_t)(end - p));
		return (size_t)(end - p);
	}
	char *o = out;
	while (p < end) {
		const char *bs = memchr(p, '\\', (size_t)(end - p));
		size_t run = (size_t)((bs ? bs : end) - p);
		memcpy(o, p, run);
		o += run;
		p += run;
		if (bs)
			o += unescape(&p, o);
	}
	return (size_t)(o - out);
}

int json_str_eq(const struct json_doc *d, const struct json_tok *t, const char *s, size_t n)
{
	if (t->type != JSON_STRING)
		return 0;
	const char *p = d->text + t->start, *end = d->text + t->end;
	if (!t->escaped)
		return (size_t)(end - p) == n && memcmp(p, s, n) == 0;
	size_t i = 0;
	while (p < end) {
		char unit[4];
		size_t k;
		if (*p == '\\') {
			k = unescape(&p, unit);
		} else {
			unit[0] = *p++;
			k = 1;
		}
		if (k > n - i || memcmp(unit, s + i, k) != 0)
			return 0;
		i += k;
	}
	return i == n;
}

int json_str_is(const struct json_doc *d, const struct json_tok *t, const char *lit)
{
	return json_str_eq(d, t, lit, strlen(lit));
}

int json_int(const struct json_doc *d, const struct json_tok *t, int64_t *out)
{
	if (t->type != JSON_NUMBER || !t->integer)
		return -1;
	const char *p = d->text + t->start, *end = d->text + t->end;
	int neg = *p == '-';
	p += neg;
	uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end; p++) {
		unsigned dgt = (unsigned)(*p - '0');
		if (v > (limit - dgt) / 10)
			return -1;
		v = v * 10 + dgt;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

size_t json_member(const struct json_doc *d, size_t obj, const char *key)
{
	const struct json_tok *o = &d->tok[obj];
	if (o->type != JSON_OBJECT)
		return 0;
	size_t k = obj + 1, found = 0;
	for (uint32_t m = 0; m < o->size; m++) {
		if (json_str_is(d, &d->tok[k], key))
			found = k + 1;
		k = d->tok[k + 1].next;
	}
	return found;
}

/* 0: copy as is; otherwise the character after the backslash ('u' for \u00xx). */
static const char esc_tab[256] = {
	['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r', ['"'] = '"', ['\\'] = '\\',
	[0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u', [0x06] = 'u',
	[0x07] = 'u', [0x0B] = 'u', [0x0E] = 'u', [0x0F] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u',
	[0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u', [0x19] = 'u',
	[0x1A] = 'u', [0x1B] = 'u', [0x1C] = 'u', [0x1D] = 'u', [0x1E] = 'u', [0x1F] = 'u',
};

void json_write_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (buf_reserve(b, n + 2) < 0)
		return;
	buf_putc(b, '"');
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && !esc_tab[(unsigned char)s[j]])
			j++;
		buf_append(b, s + i, j - i);
		if (j == n)
			break;
		unsigned char c = (unsigned char)s[j];
		char e[6] = { '\\', esc_tab[c], '0', '0', hex[c >> 4], hex[c & 15] };
		buf_append(b, e, e[1] == 'u' ? 6 : 2);
		i = j + 1;
	}
	buf_putc(b, '"');
}
