/* event_parse.c — an event from JSON with strict types; the reason for a rejection names the field. */
#include "nostr/event.h"

#include <stdlib.h>
#include <string.h>

enum field { F_ID, F_PUBKEY, F_SIG, F_CREATED_AT, F_KIND, F_TAGS, F_CONTENT, F_COUNT };

static const char *const field_name[F_COUNT] = { "id", "pubkey", "sig", "created_at", "kind", "tags", "content" };

/* Lower-case hex digit values plus one; 0 for every other byte. */
static const unsigned char hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* Table-driven (this runs for 256 characters of every event); same contract as hex_decode. */
static int unhex(const char *s, unsigned char *out, size_t n)
{
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned hi = hexval[(unsigned char)s[2 * i]], lo = hexval[(unsigned char)s[2 * i + 1]];
		bad |= (hi == 0) | (lo == 0);
		out[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
	}
	return bad ? -1 : 0;
}

/* Decodes a hex string token of exactly 2n lower-case hex characters into out. Returns 0 or -1. */
static int hex_field(const struct json_doc *d, const struct json_tok *t, unsigned char *out, size_t n)
{
	if (t->type != JSON_STRING)
		return -1;
	const char *s = d->text + t->start;
	size_t len = t->end - t->start;
	char tmp[6 * 128];
	if (t->escaped) { /* unusual but legal JSON: "\u0061b..." */
		if (len > sizeof(tmp))
			return -1;
		len = json_str_decode(d, t, tmp);
		s = tmp;
	}
	if (len != 2 * n)
		return -1;
	return unhex(s, out, n);
}

/* Which known field key k names, or -1. */
static int which_field(const struct json_doc *d, const struct json_tok *key)
{
	if (key->escaped) { /* rare: compare the decoded key with every name */
		for (int f = 0; f < F_COUNT; f++)
			if (json_str_is(d, key, field_name[f]))
				return f;
		return -1;
	}
	const char *s = d->text + key->start;
	size_t n = key->end - key->start;
	int f;
	switch (n) {
	case 2: f = F_ID; break;
	case 3: f = F_SIG; break;
	case 4: f = s[0] == 'k' ? F_KIND : F_TAGS; break;
	case 6: f = F_PUBKEY; break;
	case 7: f = F_CONTENT; break;
	case 10: f = F_CREATED_AT; break;
	default: return -1;
	}
	return memcmp(s, field_name[f], n) == 0 ? f : -1;
}

/* Finds the known fields of object obj into at[] (token indexes, 0 when absent). Returns the first
 * field that appears twice, or -1. */
static int find_fields(const struct json_doc *d, size_t obj, size_t at[F_COUNT])
{
	int dup = -1;
	size_t k = obj + 1;
	for (uint32_t m = 0; m < d->tok[obj].size; m++) {
		int f = which_field(d, &d->tok[k]);
		if (f >= 0 && at[f] && dup < 0)
			dup = f;
		if (f >= 0 && !at[f])
			at[f] = k + 1;
		k = d->tok[k + 1].next;
	}
	return dup;
}

/* Checks that tags is an array of arrays of strings; counts tags, strings and bytes needed. */
static int check_tags(const struct json_doc *d, size_t at, size_t *n_items, size_t *bytes, struct nostr_err *err)
{
	const struct json_tok *t = &d->tok[at];
	if (t->type != JSON_ARRAY)
		return nostr_fail(err, NOSTR_E_FIELD, "tags", "expected an array of arrays of strings");
	size_t i = at + 1;
	for (uint32_t n = 0; n < t->size; n++) {
		const struct json_tok *tag = &d->tok[i];
		if (tag->type != JSON_ARRAY)
			return nostr_fail(err, NOSTR_E_FIELD, "tags", "expected an array of arrays of strings");
		for (uint32_t j = 0; j < tag->size; j++) {
			const struct json_tok *s = &d->tok[i + 1 + j];
			if (s->type != JSON_STRING)
				return nostr_fail(err, NOSTR_E_FIELD, "tags", "expected an array of arrays of strings");
			*bytes += s->end - s->start + 1;
		}
		*n_items += tag->size;
		i = tag->next;
	}
	return 0;
}

/* A capacity of at least need, doubling from 16. */
static size_t capacity(size_t cap, size_t need)
{
	size_t c = cap ? cap : 16;
	while (c < need)
		c *= 2;
	return c;
}

/* Storage above this many bytes that is more than 4 times what an event needs is given back, so
 * one huge event does not leave a parser's scratch event huge. */
#define KEEP_BYTES ((size_t)64 << 10)

static void trim(void **p, size_t *cap, size_t need, size_t size)
{
	if (*cap * size > KEEP_BYTES && *cap > 4 * need) {
		free(*p);
		*p = NULL;
		*cap = 0;
	}
}

/*
 * Makes the event's storage big enough: bytes of strings, tags, tag strings. Capacities at most
 * double what is needed, so an event of n bytes of JSON holds at most 2n bytes of strings and
 * 2 * 16 bytes per tag and per tag string (each takes at least 3 bytes of JSON): under 13n in all.
 * Returns 0 or -1.
 */
static int reserve(struct nostr_event *ev, size_t bytes, size_t n_tags, size_t n_items)
{
	ev->tags = NULL; /* set again by fill */
	ev->n_tags = 0;
	ev->content = (struct nostr_str){ "", 0 };
	trim((void **)&ev->mem_, &ev->mem_cap_, bytes, 1);
	trim((void **)&ev->tag_mem_, &ev->tag_cap_, n_tags, sizeof(*ev->tag_mem_));
	trim((void **)&ev->item_mem_, &ev->item_cap_, n_items, sizeof(*ev->item_mem_));
	if (bytes > ev->mem_cap_) {
		size_t c = capacity(ev->mem_cap_, bytes);
		char *m = realloc(ev->mem_, c);
		if (!m)
			return -1;
		ev->mem_ = m;
		ev->mem_cap_ = c;
	}
	if (n_tags > ev->tag_cap_) {
		size_t c = capacity(ev->tag_cap_, n_tags);
		struct nostr_tag *t = realloc(ev->tag_mem_, c * sizeof(*t));
		if (!t)
			return -1;
		ev->tag_mem_ = t;
		ev->tag_cap_ = c;
	}
	if (n_items > ev->item_cap_) {
		size_t c = capacity(ev->item_cap_, n_items);
		struct nostr_str *it = realloc(ev->item_mem_, c * sizeof(*it));
		if (!it)
			return -1;
		ev->item_mem_ = it;
		ev->item_cap_ = c;
	}
	return 0;
}

static struct nostr_str decode_into(const struct json_doc *d, const struct json_tok *t, char **p)
{
	struct nostr_str s = { *p, json_str_decode(d, t, *p) };
	(*p)[s.len] = '\0';
	*p += s.len + 1;
	return s;
}

/* Decodes content and every tag string into the event's own (reused) storage. */
static int fill(struct nostr_event *ev, const struct json_doc *d, size_t tags_at, size_t content_at,
		size_t n_items, size_t bytes, struct nostr_err *err)
{
	const struct json_tok *tags = &d->tok[tags_at], *content = &d->tok[content_at];
	bytes += content->end - content->start + 1;
	if (reserve(ev, bytes, tags->size, n_items) < 0)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "event storage");
	char *p = ev->mem_;
	ev->content = decode_into(d, content, &p);
	struct nostr_str *it = ev->item_mem_;
	size_t i = tags_at + 1;
	for (uint32_t n = 0; n < tags->size; n++) {
		const struct json_tok *tag = &d->tok[i];
		ev->tag_mem_[n].items = it;
		ev->tag_mem_[n].n = tag->size;
		for (uint32_t j = 0; j < tag->size; j++)
			*it++ = decode_into(d, &d->tok[i + 1 + j], &p);
		i = tag->next;
	}
	ev->tags = ev->tag_mem_;
	ev->n_tags = tags->size;
	return 0;
}

/* Checks the hex fields and the integers in the fixed order, storing them. */
static int scalars(struct nostr_event *ev, const struct json_doc *d, const size_t at[F_COUNT], struct nostr_err *err)
{
	static const char hex64[] = "expected 64 lower-case hex characters";
	int64_t v;
	if (!at[F_ID])
		return nostr_fail(err, NOSTR_E_MISSING, "id", NULL);
	if (hex_field(d, &d->tok[at[F_ID]], ev->id, 32) < 0)
		return nostr_fail(err, NOSTR_E_FIELD, "id", hex64);
	ev->have_id = 1;
	if (!at[F_PUBKEY])
		return nostr_fail(err, NOSTR_E_MISSING, "pubkey", NULL);
	if (hex_field(d, &d->tok[at[F_PUBKEY]], ev->pubkey, 32) < 0)
		return nostr_fail(err, NOSTR_E_FIELD, "pubkey", hex64);
	if (!at[F_SIG])
		return nostr_fail(err, NOSTR_E_MISSING, "sig", NULL);
	if (hex_field(d, &d->tok[at[F_SIG]], ev->sig, 64) < 0)
		return nostr_fail(err, NOSTR_E_FIELD, "sig", "expected 128 lower-case hex characters");
	if (!at[F_CREATED_AT])
		return nostr_fail(err, NOSTR_E_MISSING, "created_at", NULL);
	if (json_int(d, &d->tok[at[F_CREATED_AT]], &v) < 0 || v < 0)
		return nostr_fail(err, NOSTR_E_FIELD, "created_at", "expected an integer 0..9223372036854775807");
	ev->created_at = v;
	if (!at[F_KIND])
		return nostr_fail(err, NOSTR_E_MISSING, "kind", NULL);
	if (json_int(d, &d->tok[at[F_KIND]], &v) < 0 || v < 0 || v > 65535)
		return nostr_fail(err, NOSTR_E_FIELD, "kind", "expected an integer 0..65535");
	ev->kind = (uint32_t)v;
	return 0;
}

int nostr_event_from_json(struct nostr_event *ev, const struct json_doc *d, size_t obj, struct nostr_err *err)
{
	size_t at[F_COUNT] = { 0 };
	size_t n_items = 0, bytes = 0;
	ev->have_id = 0;
	if (d->tok[obj].type != JSON_OBJECT)
		return nostr_fail(err, NOSTR_E_TYPE, NULL, "expected a JSON object");
	int dup = find_fields(d, obj, at);
	if (at[F_ID] && hex_field(d, &d->tok[at[F_ID]], ev->id, 32) == 0)
		ev->have_id = 1; /* known early, so that even a rejection can name the event */
	if (dup >= 0)
		return nostr_fail(err, NOSTR_E_DUPLICATE, field_name[dup], NULL);
	if (scalars(ev, d, at, err) < 0)
		return -1;
	if (!at[F_TAGS])
		return nostr_fail(err, NOSTR_E_MISSING, "tags", NULL);
	if (check_tags(d, at[F_TAGS], &n_items, &bytes, err) < 0)
		return -1;
	if (!at[F_CONTENT])
		return nostr_fail(err, NOSTR_E_MISSING, "content", NULL);
	if (d->tok[at[F_CONTENT]].type != JSON_STRING)
		return nostr_fail(err, NOSTR_E_FIELD, "content", "expected a string");
	return fill(ev, d, at[F_TAGS], at[F_CONTENT], n_items, bytes, err);
}

int nostr_event_parse(struct nostr_event *ev, struct json_doc *doc, const char *text, size_t len,
		      struct nostr_err *err)
{
	ev->have_id = 0;
	if (len > NOSTR_EVENT_MAX_JSON)
		return nostr_fail(err, NOSTR_E_TOO_LARGE, NULL, "more than 1048576 bytes");
	if (json_parse(doc, text, len, err) < 0)
		return -1;
	return nostr_event_from_json(ev, doc, 0, err);
}
