/* filter_json.c — a filter to and from its JSON object. */
#include "nostr/filter.h"

#include <string.h>

static void put_hex_list(struct buf *b, const char *key, const unsigned char (*list)[32], size_t n)
{
	char hex[65];
	buf_printf(b, "\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		hex_encode(list[i], 32, hex);
		buf_printf(b, "%s\"%s\"", i ? "," : "", hex);
	}
	buf_putc(b, ']');
}

/* Appends ',' before every member but the first. */
static void sep(struct buf *b, int *first)
{
	if (!*first)
		buf_putc(b, ',');
	*first = 0;
}

void nostr_filter_json(const struct nostr_filter *f, struct buf *out)
{
	int first = 1;
	buf_putc(out, '{');
	if (f->has_ids) {
		sep(out, &first);
		put_hex_list(out, "ids", (const unsigned char(*)[32])f->ids, f->n_ids);
	}
	if (f->has_authors) {
		sep(out, &first);
		put_hex_list(out, "authors", (const unsigned char(*)[32])f->authors, f->n_authors);
	}
	if (f->has_kinds) {
		sep(out, &first);
		buf_puts(out, "\"kinds\":[");
		for (size_t i = 0; i < f->n_kinds; i++)
			buf_printf(out, "%s%u", i ? "," : "", f->kinds[i]);
		buf_putc(out, ']');
	}
	for (size_t i = 0; i < f->n_tags; i++) {
		sep(out, &first);
		buf_printf(out, "\"#%c\":[", f->tags[i].letter);
		for (size_t j = 0; j < f->tags[i].n; j++) {
			if (j)
				buf_putc(out, ',');
			json_write_str(out, f->tags[i].values[j].s, f->tags[i].values[j].len);
		}
		buf_putc(out, ']');
	}
	const char *names[3] = { "since", "until", "limit" };
	const int has[3] = { f->has_since, f->has_until, f->has_limit };
	const int64_t val[3] = { f->since, f->until, f->limit };
	for (int i = 0; i < 3; i++) {
		if (!has[i])
			continue;
		sep(out, &first);
		buf_printf(out, "\"%s\":%lld", names[i], (long long)val[i]);
	}
	buf_putc(out, '}');
}

static int hex_list(struct nostr_filter *f, const struct json_doc *d, size_t arr, int authors, struct nostr_err *err)
{
	const char *name = authors ? "authors" : "ids";
	if (d->tok[arr].type != JSON_ARRAY)
		return nostr_fail(err, NOSTR_E_FIELD, name, "expected an array of 64 lower-case hex strings");
	if (authors)
		f->has_authors = 1;
	else
		f->has_ids = 1;
	for (uint32_t i = 0; i < d->tok[arr].size; i++) {
		const struct json_tok *t = &d->tok[arr + 1 + i];
		unsigned char v[32];
		if (t->type != JSON_STRING || t->escaped || t->end - t->start != 64 ||
		    hex_decode(d->text + t->start, v, 32) < 0)
			return nostr_fail(err, NOSTR_E_FIELD, name, "expected an array of 64 lower-case hex strings");
		if ((authors ? nostr_filter_add_author(f, v, err) : nostr_filter_add_id(f, v, err)) < 0)
			return -1;
	}
	return 0;
}

static int kinds(struct nostr_filter *f, const struct json_doc *d, size_t arr, struct nostr_err *err)
{
	if (d->tok[arr].type != JSON_ARRAY)
		return nostr_fail(err, NOSTR_E_FIELD, "kinds", "expected an array of integers 0..65535");
	f->has_kinds = 1;
	for (uint32_t i = 0; i < d->tok[arr].size; i++) {
		int64_t k;
		if (json_int(d, &d->tok[arr + 1 + i], &k) < 0 || k < 0 || k > 65535)
			return nostr_fail(err, NOSTR_E_FIELD, "kinds", "expected an array of integers 0..65535");
		if (nostr_filter_add_kind(f, (uint32_t)k, err) < 0)
			return -1;
	}
	return 0;
}

static int tag_values(struct nostr_filter *f, char letter, const struct json_doc *d, size_t arr, struct nostr_err *err)
{
	if (d->tok[arr].type != JSON_ARRAY)
		return nostr_fail(err, NOSTR_E_FIELD, "#tag", "expected an array of strings");
	if (nostr_filter_add_tag(f, letter, NULL, 0, err) < 0)
		return -1;
	size_t i = arr + 1;
	for (uint32_t n = 0; n < d->tok[arr].size; n++, i = d->tok[i].next) {
		const struct json_tok *t = &d->tok[i];
		if (t->type != JSON_STRING)
			return nostr_fail(err, NOSTR_E_FIELD, "#tag", "expected an array of strings");
		char tmp[4096];
		if (t->end - t->start > sizeof(tmp))
			return nostr_fail(err, NOSTR_E_FIELD, "#tag", "value longer than 4096 bytes");
		size_t len = json_str_decode(d, t, tmp);
		if (nostr_filter_add_tag(f, letter, tmp, len, err) < 0)
			return -1;
	}
	return 0;
}

static int scalar(int64_t *dst, int *has, const char *name, const struct json_doc *d, size_t v, struct nostr_err *err)
{
	if (*has)
		return nostr_fail(err, NOSTR_E_DUPLICATE, name, NULL);
	if (json_int(d, &d->tok[v], dst) < 0 || *dst < 0)
		return nostr_fail(err, NOSTR_E_FIELD, name, "expected a non-negative integer");
	*has = 1;
	return 0;
}

static int member(struct nostr_filter *f, const struct json_doc *d, size_t key, struct nostr_err *err)
{
	size_t v = key + 1;
	const struct json_tok *k = &d->tok[key];
	if (json_str_is(d, k, "ids"))
		return f->has_ids ? nostr_fail(err, NOSTR_E_DUPLICATE, "ids", NULL) : hex_list(f, d, v, 0, err);
	if (json_str_is(d, k, "authors"))
		return f->has_authors ? nostr_fail(err, NOSTR_E_DUPLICATE, "authors", NULL) : hex_list(f, d, v, 1, err);
	if (json_str_is(d, k, "kinds"))
		return f->has_kinds ? nostr_fail(err, NOSTR_E_DUPLICATE, "kinds", NULL) : kinds(f, d, v, err);
	if (json_str_is(d, k, "since"))
		return scalar(&f->since, &f->has_since, "since", d, v, err);
	if (json_str_is(d, k, "until"))
		return scalar(&f->until, &f->has_until, "until", d, v, err);
	if (json_str_is(d, k, "limit"))
		return scalar(&f->limit, &f->has_limit, "limit", d, v, err);
	const char *s = d->text + k->start;
	if (!k->escaped && k->end - k->start == 2 && s[0] == '#' &&
	    ((s[1] >= 'a' && s[1] <= 'z') || (s[1] >= 'A' && s[1] <= 'Z'))) {
		for (size_t i = 0; i < f->n_tags; i++)
			if (f->tags[i].letter == s[1])
				return nostr_fail(err, NOSTR_E_DUPLICATE, "#tag", NULL);
		return tag_values(f, s[1], d, v, err);
	}
	return nostr_fail(err, NOSTR_E_FIELD, "filter", "unknown key");
}

int nostr_filter_from_json(struct nostr_filter *f, const struct json_doc *d, size_t obj, struct nostr_err *err)
{
	if (d->tok[obj].type != JSON_OBJECT)
		return nostr_fail(err, NOSTR_E_TYPE, NULL, "a filter must be a JSON object");
	size_t k = obj + 1;
	for (uint32_t m = 0; m < d->tok[obj].size; m++, k = d->tok[k + 1].next)
		if (member(f, d, k, err) < 0)
			return -1;
	return 0;
}
