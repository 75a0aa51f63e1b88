/* json_canon.c — canonical JSON of any value (sorted keys, no whitespace), for stable content hashes. */
#include "nostr/json.h"

#include <stdlib.h>
#include <string.h>

struct member {
	const char *key;
	size_t len;
	size_t val;   /* token index of the value */
	size_t order; /* position in the object */
};

static int by_key(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->key, y->key, n);
	if (c == 0 && x->len != y->len)
		c = x->len < y->len ? -1 : 1;
	if (c == 0)
		c = x->order < y->order ? -1 : 1;
	return c;
}

static int value(const struct json_doc *d, size_t i, const uint8_t *skip, uint8_t mask, struct buf *out);

static int object(const struct json_doc *d, size_t i, const uint8_t *skip, uint8_t mask, struct buf *out)
{
	size_t n = d->tok[i].size, bytes = 1, k = i + 1;
	for (size_t m = 0; m < n; m++, k = d->tok[k + 1].next)
		bytes += d->tok[k].end - d->tok[k].start;
	struct member *mem = malloc((n ? n : 1) * sizeof(*mem));
	char *keys = malloc(bytes), *p = keys;
	int rc = -1;
	if (!mem || !keys)
		goto out;
	k = i + 1;
	for (size_t m = 0; m < n; m++, k = d->tok[k + 1].next) {
		size_t len = json_str_decode(d, &d->tok[k], p);
		mem[m] = (struct member){ p, len, k + 1, m };
		p += len;
	}
	qsort(mem, n, sizeof(*mem), by_key);
	buf_putc(out, '{');
	int first = 1;
	for (size_t m = 0; m < n; m++) {
		if (m + 1 < n && mem[m + 1].len == mem[m].len && memcmp(mem[m + 1].key, mem[m].key, mem[m].len) == 0)
			continue; /* a later duplicate follows */
		if (skip && (skip[mem[m].val] & mask))
			continue;
		if (!first)
			buf_putc(out, ',');
		first = 0;
		json_write_str(out, mem[m].key, mem[m].len);
		buf_putc(out, ':');
		if (value(d, mem[m].val, skip, mask, out) < 0)
			goto out;
	}
	buf_putc(out, '}');
	rc = 0;
out:
	free(mem);
	free(keys);
	return rc;
}

static int value(const struct json_doc *d, size_t i, const uint8_t *skip, uint8_t mask, struct buf *out)
{
	const struct json_tok *t = &d->tok[i];
	int64_t v;
	switch (t->type) {
	case JSON_OBJECT:
		return object(d, i, skip, mask, out);
	case JSON_ARRAY:
		buf_putc(out, '[');
		for (size_t n = 0, k = i + 1; n < t->size; n++, k = d->tok[k].next) {
			if (n)
				buf_putc(out, ',');
			if (value(d, k, skip, mask, out) < 0)
				return -1;
		}
		buf_putc(out, ']');
		break;
	case JSON_STRING: {
		char *tmp = malloc(t->end - t->start + 1);
		if (!tmp)
			return -1;
		json_write_str(out, tmp, json_str_decode(d, t, tmp));
		free(tmp);
		break;
	}
	case JSON_NUMBER:
		if (skip && (skip[i] & JSON_CANON_AS_STRING))
			json_write_str(out, d->text + t->start, t->end - t->start);
		else if (json_int(d, t, &v) == 0)
			buf_printf(out, "%lld", (long long)v);
		else
			buf_append(out, d->text + t->start, t->end - t->start);
		break;
	default: /* true, false, null */
		buf_append(out, d->text + t->start, t->end - t->start);
	}
	return out->failed ? -1 : 0;
}

int json_canonical(const struct json_doc *d, size_t i, const uint8_t *skip, uint8_t mask, struct buf *out)
{
	return value(d, i, skip, mask, out) < 0 || out->failed ? -1 : 0;
}

int json_value_has_nul(const struct json_doc *d, size_t i)
{
	for (size_t k = i; k < d->tok[i].next; k++) {
		const struct json_tok *t = &d->tok[k];
		if (t->type != JSON_STRING || !t->escaped)
			continue;
		const char *p = d->text + t->start, *end = d->text + t->end;
		while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
			if (p[1] == 'u' && memcmp(p + 2, "0000", 4) == 0)
				return 1;
			p += 2; /* skip the escaped character (so "\\u0000" is not a match) */
		}
	}
	return 0;
}
