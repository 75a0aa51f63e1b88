/* nip11_doc.c — parsing a relay information document field by field; a wrongly typed field is dropped and noted. */
#include "nostr/nip11.h"
#include "nostr/nip11_shape.h"

#include <openssl/sha.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* skip_ flags per token (value tokens of object members; numbers) */
#define DROPPED 1 /* left out of every rendering */
#define KNOWN 2   /* a standard top-level field: left out of extra_json */
#define AS_STRING JSON_CANON_AS_STRING /* a number rendered as a string of its text */

enum kind { K_STR, K_STRS, K_INTS, K_INT, K_LIMITATION, K_RETENTION, K_FEES };

#define STR(f) { #f, K_STR, offsetof(struct nip11_doc, f) }
#define STRS(f) { #f, K_STRS, offsetof(struct nip11_doc, f) }
static const struct field {
	const char *name;
	enum kind kind;
	size_t off;
} fields[] = {
	STR(name), STR(description), STR(banner), STR(icon), STR(pubkey), STR(self), STR(contact), STR(software),
	STR(version), STR(privacy_policy), STR(terms_of_service), STR(posting_policy), STR(payments_url),
	STRS(relay_countries), STRS(language_tags), STRS(tags),
	{ "supported_nips", K_INTS, 0 }, { "supported_nips_at", K_INT, 0 }, { "limitation", K_LIMITATION, 0 },
	{ "retention", K_RETENTION, 0 }, { "fees", K_FEES, 0 },
};

static const char *const limit_names[NIP11_LIMIT_COUNT] = {
	"max_message_length", "max_subscriptions", "max_filters", "max_limit", "max_subid_length", "max_event_tags",
	"max_content_length", "min_pow_difficulty", "created_at_lower_limit", "created_at_upper_limit",
	"default_limit", "min_prefix",
};

const char *nip11_limit_name(enum nip11_limit i)
{
	return i < NIP11_LIMIT_COUNT ? limit_names[i] : "?";
}

void nip11_init(struct nip11_doc *d)
{
	memset(d, 0, sizeof(*d));
	json_doc_init(&d->doc_);
	d->limitation.auth_required = d->limitation.payment_required = d->limitation.restricted_writes = -1;
}

static void free_strings(struct nip11_strings *l)
{
	for (size_t i = 0; i < l->n; i++)
		free((char *)l->items[i].s);
	free(l->items);
}

void nip11_free(struct nip11_doc *d)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (fields[i].kind == K_STR)
			free((char *)((struct nostr_str *)((char *)d + fields[i].off))->s);
		else if (fields[i].kind == K_STRS)
			free_strings((struct nip11_strings *)((char *)d + fields[i].off));
	}
	free(d->supported_nips);
	free(d->limitation_json);
	free(d->retention_json);
	free(d->fees_json);
	free(d->extra_json);
	free(d->canonical);
	for (size_t i = 0; i < d->n_notes && i < NIP11_MAX_NOTES; i++)
		free(d->notes[i]);
	free((char *)d->doc_.text);
	json_doc_free(&d->doc_);
	free(d->skip_);
	nip11_init(d);
}

static void note(struct nip11_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct nip11_doc *d, const char *fmt, ...)
{
	if (d->n_notes < NIP11_MAX_NOTES) {
		char tmp[160];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(tmp, sizeof(tmp), fmt, ap);
		va_end(ap);
		d->notes[d->n_notes] = strdup(tmp);
		if (!d->notes[d->n_notes])
			return; /* out of memory: lose the note, not the document */
	}
	d->n_notes++;
}

/* The value of 4 hex digits at s (n bytes available), or -1. */
static long hex4(const char *s, size_t n)
{
	long v = 0;
	for (size_t i = 0; i < 4; i++) {
		char c = i < n ? s[i] : 0;
		int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* A decoded, owned, NUL-terminated copy of string token t. */
static struct nostr_str dup_str(const struct json_doc *j, size_t t)
{
	char *p = malloc(j->tok[t].end - j->tok[t].start + 1);
	if (!p)
		return (struct nostr_str){ NULL, 0 };
	size_t n = json_str_decode(j, &j->tok[t], p);
	p[n] = '\0';
	return (struct nostr_str){ p, n };
}

/* Marks value token v dropped and notes why. */
static void drop(struct nip11_doc *d, size_t v, const char *name, const char *why)
{
	d->skip_[v] |= DROPPED;
	note(d, "%s dropped: %s", name, why);
}

static int limitation(struct nip11_doc *d, size_t obj)
{
	const struct json_doc *j = &d->doc_;
	struct nip11_limitation *l = &d->limitation;
	static const char *const bools[3] = { "auth_required", "payment_required", "restricted_writes" };
	int *flags[3] = { &l->auth_required, &l->payment_required, &l->restricted_writes };
	char name[64];
	for (int i = 0; i < NIP11_LIMIT_COUNT; i++) {
		size_t v = json_member(j, obj, limit_names[i]);
		if (v && !nip11_is_int(j, v)) {
			snprintf(name, sizeof(name), "limitation.%s", limit_names[i]);
			drop(d, v, name, "expected an integer");
		} else if (v) {
			json_int(j, &j->tok[v], &l->value[i]);
			l->has[i] = 1;
		}
	}
	for (int i = 0; i < 3; i++) {
		size_t v = json_member(j, obj, bools[i]);
		if (v && !nip11_is_bool(j, v)) {
			snprintf(name, sizeof(name), "limitation.%s", bools[i]);
			drop(d, v, name, "expected true or false");
		} else if (v) {
			*flags[i] = j->tok[v].type == JSON_TRUE;
		}
	}
	d->has_limitation = 1;
	struct buf b;
	buf_init(&b);
	if (json_canonical(j, obj, d->skip_, DROPPED, &b) < 0) {
		buf_free(&b);
		return -1;
	}
	d->limitation_json = b.data;
	return 0;
}

static int strings(struct nip11_doc *d, size_t arr, struct nip11_strings *out)
{
	const struct json_doc *j = &d->doc_;
	out->items = calloc(j->tok[arr].size ? j->tok[arr].size : 1, sizeof(*out->items));
	if (!out->items)
		return -1;
	for (size_t n = 0, k = arr + 1; n < j->tok[arr].size; n++, k = j->tok[k].next) {
		out->items[n] = dup_str(j, k);
		if (!out->items[n].s)
			return -1;
		out->n++;
	}
	out->present = 1;
	return 0;
}

static int integers(struct nip11_doc *d, size_t arr)
{
	const struct json_doc *j = &d->doc_;
	d->supported_nips = calloc(j->tok[arr].size ? j->tok[arr].size : 1, sizeof(int64_t));
	if (!d->supported_nips)
		return -1;
	for (size_t n = 0, k = arr + 1; n < j->tok[arr].size; n++, k = j->tok[k].next)
		json_int(j, &j->tok[k], &d->supported_nips[d->n_supported_nips++]);
	d->has_supported_nips = 1;
	return 0;
}

static char *canonical_of(const struct json_doc *j, size_t v, const uint8_t *skip)
{
	struct buf b;
	buf_init(&b);
	if (json_canonical(j, v, skip, DROPPED, &b) < 0) {
		buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* Checks and stores one standard field whose (last) value is token v. Returns 0, or -1 out of memory. */
static int field(struct nip11_doc *d, const struct field *f, size_t v)
{
	const struct json_doc *j = &d->doc_;
	void *dst = (char *)d + f->off;
	switch (f->kind) {
	case K_STR:
		if (j->tok[v].type != JSON_STRING)
			return drop(d, v, f->name, "expected a string"), 0;
		*(struct nostr_str *)dst = dup_str(j, v);
		return ((struct nostr_str *)dst)->s ? 0 : -1;
	case K_STRS:
		if (!nip11_all_of(j, v, JSON_STRING, 0))
			return drop(d, v, f->name, "expected an array of strings"), 0;
		return strings(d, v, dst);
	case K_INTS:
		for (size_t n = 0, k = v + 1; j->tok[v].type == JSON_ARRAY && n < j->tok[v].size; n++, k = j->tok[k].next)
			if (!nip11_is_int(j, k))
				return drop(d, v, f->name, "expected an array of integers"), 0;
		if (j->tok[v].type != JSON_ARRAY)
			return drop(d, v, f->name, "expected an array of integers"), 0;
		return integers(d, v);
	case K_INT:
		if (json_int(j, &j->tok[v], &d->supported_nips_at) < 0)
			return drop(d, v, f->name, "expected an integer"), 0;
		d->has_supported_nips_at = 1;
		return 0;
	case K_LIMITATION:
		if (j->tok[v].type != JSON_OBJECT)
			return drop(d, v, f->name, "expected an object"), 0;
		return limitation(d, v);
	case K_RETENTION:
		if (!nip11_retention_ok(j, v))
			return drop(d, v, f->name, "expected an array of {kinds, time, count} rules"), 0;
		return (d->retention_json = canonical_of(j, v, d->skip_)) ? 0 : -1;
	case K_FEES:
		if (!nip11_fees_ok(j, v))
			return drop(d, v, f->name, "expected {admission, subscription, publication} lists of {amount, unit}"), 0;
		return (d->fees_json = canonical_of(j, v, d->skip_)) ? 0 : -1;
	}
	return 0;
}

/*
 * Whether number text s[0..n) (valid JSON) stays a number in the stored document: when PostgreSQL's
 * numeric holds it (at most 131072 digits before the point, 16383 after, an exponent that fits an
 * int) and prints it in at most NIP11_NUMBER_MAX_DIGITS digits. 1e200000 does not fit; 1e-16383 fits
 * but prints as 16385 characters, so a 9-byte number could make a document read back a thousand
 * times larger. Such numbers are kept as strings of their text (nothing is lost).
 */
static int number_fits(const char *s, size_t n)
{
	size_t i = s[0] == '-', first = SIZE_MAX, frac = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if (first == SIZE_MAX && s[i] != '0')
			first = i;
	size_t int_end = i;
	long weight = first == SIZE_MAX ? 0 : (long)(int_end - first) - 1;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, frac++)
			if (first == SIZE_MAX && s[i] != '0')
				first = i, weight = -(long)frac - 1;
	long exp = 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		int neg = s[++i] == '-';
		for (i += s[i] == '-' || s[i] == '+'; i < n; i++)
			if ((exp = exp * 10 + (s[i] - '0')) > 1000000)
				return 0;
		exp = neg ? -exp : exp;
	}
	long scale = (long)frac - exp > 0 ? (long)frac - exp : 0;
	long digits = (first != SIZE_MAX && weight + exp >= 0 ? weight + exp + 1 : 1) + scale;
	return digits <= NIP11_NUMBER_MAX_DIGITS;
}

/* Marks every number that does not fit to be rendered as a string, and notes how many. */
static void numbers(struct nip11_doc *d)
{
	const struct json_doc *j = &d->doc_;
	size_t n = 0, first = 0;
	for (size_t k = 0; k < j->n_tok; k++) {
		if (j->tok[k].type != JSON_NUMBER || number_fits(j->text + j->tok[k].start, j->tok[k].end - j->tok[k].start))
			continue;
		d->skip_[k] |= AS_STRING;
		if (n++ == 0)
			first = k;
	}
	size_t len = j->tok[first].end - j->tok[first].start;
	if (n)
		note(d, "%zu number%s kept as strings: more than %d digits, e.g. %.*s", n, n == 1 ? "" : "s",
		     NIP11_NUMBER_MAX_DIGITS, (int)(len < 24 ? len : 24), j->text + j->tok[first].start);
}

/*
 * Replaces each \u escape of a lone surrogate (which JSON.parse accepts, and neither this parser nor
 * PostgreSQL's jsonb does) with \ufffd, in place. s is the document's own copy. Returns how many.
 */
static size_t lone_surrogates(char *s, size_t len)
{
	size_t n = 0;
	int in_string = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"') {
			in_string = !in_string;
		} else if (in_string && s[i] == '\\' && i + 1 < len) {
			long v = s[i + 1] == 'u' ? hex4(s + i + 2, len - i - 2) : -1;
			if (v >= 0xD800 && v <= 0xDBFF && i + 11 < len && s[i + 6] == '\\' && s[i + 7] == 'u') {
				long lo = hex4(s + i + 8, len - i - 8);
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					i += 11; /* a pair */
					continue;
				}
			}
			if (v >= 0xD800 && v <= 0xDFFF) {
				memcpy(s + i + 2, "fffd", 4);
				n++;
			}
			i++; /* the escaped character (the hex digits are never '"' or '\\') */
		}
	}
	return n;
}

/* Marks the standard fields, drops members holding U+0000 (before anything is stored), handles each
 * standard field, and renders the extras. */
static int fields_and_extras(struct nip11_doc *d)
{
	const struct json_doc *j = &d->doc_;
	size_t k = 1, n_extra = 0;
	for (size_t m = 0; m < j->tok[0].size; m++, k = j->tok[k + 1].next) {
		size_t i = 0;
		while (i < sizeof(fields) / sizeof(fields[0]) && !json_str_is(j, &j->tok[k], fields[i].name))
			i++;
		d->skip_[k + 1] |= i < sizeof(fields) / sizeof(fields[0]) ? KNOWN : 0;
		n_extra += i == sizeof(fields) / sizeof(fields[0]);
		if (json_value_has_nul(j, k) || json_value_has_nul(j, k + 1)) {
			struct nostr_str key = dup_str(j, k);
			d->skip_[k + 1] |= DROPPED;
			note(d, "%.40s dropped: contains U+0000", key.s && !memchr(key.s, 0, key.len) ? key.s : "a field");
			free((char *)key.s);
		}
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t v = json_member(j, 0, fields[i].name);
		if (v && !(d->skip_[v] & DROPPED) && field(d, &fields[i], v) < 0)
			return -1;
	}
	if (n_extra == 0)
		return 0;
	struct buf b;
	buf_init(&b);
	if (json_canonical(j, 0, d->skip_, DROPPED | KNOWN, &b) < 0) {
		buf_free(&b);
		return -1;
	}
	if (strcmp(b.data, "{}") == 0)
		buf_free(&b);
	d->extra_json = b.data;
	return 0;
}

int nip11_parse(struct nip11_doc *d, const char *text, size_t len, struct nostr_err *err)
{
	nip11_free(d);
	if (len > NIP11_MAX_JSON)
		return nostr_fail(err, NOSTR_E_TOO_LARGE, NULL, "document of more than 262144 bytes");
	char *copy = malloc(len + 1);
	if (!copy)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "document");
	memcpy(copy, text, len);
	copy[len] = '\0';
	size_t lone = lone_surrogates(copy, len);
	if (json_parse(&d->doc_, copy, len, err) < 0) /* the doc now owns copy (doc_.text) */
		return -1;
	if (d->doc_.tok[0].type != JSON_OBJECT)
		return nostr_fail(err, NOSTR_E_TYPE, NULL, "a relay information document is a JSON object");
	if (lone)
		note(d, "%zu lone UTF-16 surrogate escape%s replaced by U+FFFD", lone, lone == 1 ? "" : "s");
	d->skip_ = calloc(d->doc_.n_tok, 1);
	if (d->skip_)
		numbers(d);
	struct buf b;
	buf_init(&b);
	if (!d->skip_ || fields_and_extras(d) < 0 || json_canonical(&d->doc_, 0, d->skip_, DROPPED, &b) < 0) {
		buf_free(&b);
		nip11_free(d);
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "document");
	}
	d->canonical = b.data;
	d->canonical_len = b.len;
	SHA256((const unsigned char *)b.data, b.len, d->hash);
	return 0;
}
