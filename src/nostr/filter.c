/* filter.c — filter storage and matching. */
#include "nostr/filter.h"

#include <stdlib.h>
#include <string.h>

void nostr_filter_init(struct nostr_filter *f)
{
	memset(f, 0, sizeof(*f));
}

void nostr_filter_free(struct nostr_filter *f)
{
	free(f->ids);
	free(f->authors);
	free(f->kinds);
	for (size_t i = 0; i < f->n_tags; i++) {
		for (size_t j = 0; j < f->tags[i].n; j++)
			free((char *)f->tags[i].values[j].s);
		free(f->tags[i].values);
	}
	free(f->tags);
	nostr_filter_init(f);
}


/* Room for element n of an array grown by doubling: the capacity is the next power of two, implied
 * by n, so no capacity field is needed. Returns the (maybe moved) array, or NULL. */
static void *room(void *arr, size_t n, size_t elem)
{
	if (n & (n - 1)) /* not a power of two (nor 0): there is room */
		return arr;
	return realloc(arr, (n ? 2 * n : 1) * elem);
}

int nostr_filter_add_id(struct nostr_filter *f, const unsigned char id[32], struct nostr_err *err)
{
	unsigned char(*ids)[32] = room(f->ids, f->n_ids, 32);
	if (!ids)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "filter");
	f->ids = ids;
	memcpy(ids[f->n_ids++], id, 32);
	f->has_ids = 1;
	return 0;
}

int nostr_filter_add_author(struct nostr_filter *f, const unsigned char pubkey[32], struct nostr_err *err)
{
	unsigned char(*authors)[32] = room(f->authors, f->n_authors, 32);
	if (!authors)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "filter");
	f->authors = authors;
	memcpy(authors[f->n_authors++], pubkey, 32);
	f->has_authors = 1;
	return 0;
}

int nostr_filter_add_kind(struct nostr_filter *f, uint32_t kind, struct nostr_err *err)
{
	if (kind > 65535)
		return nostr_fail(err, NOSTR_E_ARG, "kinds", "expected 0..65535");
	uint32_t *kinds = room(f->kinds, f->n_kinds, sizeof(*kinds));
	if (!kinds)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "filter");
	f->kinds = kinds;
	kinds[f->n_kinds++] = kind;
	f->has_kinds = 1;
	return 0;
}

static struct nostr_filter_tag *tag_list(struct nostr_filter *f, char letter, struct nostr_err *err)
{
	for (size_t i = 0; i < f->n_tags; i++)
		if (f->tags[i].letter == letter)
			return &f->tags[i];
	struct nostr_filter_tag *tags = room(f->tags, f->n_tags, sizeof(*tags));
	if (!tags)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "filter"), NULL;
	f->tags = tags;
	tags[f->n_tags] = (struct nostr_filter_tag){ .letter = letter };
	return &tags[f->n_tags++];
}

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int nostr_filter_add_tag(struct nostr_filter *f, char letter, const char *value, size_t len, struct nostr_err *err)
{
	if (!is_letter(letter))
		return nostr_fail(err, NOSTR_E_ARG, "#tag", "the tag name must be one letter a-z or A-Z");
	if (value && !utf8_valid(value, len))
		return nostr_fail(err, NOSTR_E_ARG, "#tag", "not valid UTF-8");
	struct nostr_filter_tag *t = tag_list(f, letter, err);
	if (!t)
		return -1;
	if (!value) /* just the (empty) list */
		return 0;
	char *copy = malloc(len + 1);
	struct nostr_str *values = copy ? room(t->values, t->n, sizeof(*values)) : NULL;
	if (!values) {
		free(copy);
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "filter");
	}
	t->values = values;
	memcpy(copy, value, len);
	copy[len] = '\0';
	values[t->n++] = (struct nostr_str){ copy, len };
	return 0;
}

static int has32(const unsigned char (*list)[32], size_t n, const unsigned char *v)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(list[i], v, 32) == 0)
			return 1;
	return 0;
}

static int tag_matches(const struct nostr_filter_tag *t, const struct nostr_event *ev)
{
	for (size_t i = 0; i < ev->n_tags; i++) {
		const struct nostr_tag *tag = &ev->tags[i];
		if (tag->n < 2 || tag->items[0].len != 1 || tag->items[0].s[0] != t->letter)
			continue;
		for (size_t j = 0; j < t->n; j++)
			if (t->values[j].len == tag->items[1].len &&
			    memcmp(t->values[j].s, tag->items[1].s, tag->items[1].len) == 0)
				return 1;
	}
	return 0;
}

int nostr_filter_match(const struct nostr_filter *f, const struct nostr_event *ev)
{
	if (f->has_ids && !has32((const unsigned char(*)[32])f->ids, f->n_ids, ev->id))
		return 0;
	if (f->has_authors && !has32((const unsigned char(*)[32])f->authors, f->n_authors, ev->pubkey))
		return 0;
	if (f->has_kinds) {
		size_t i = 0;
		while (i < f->n_kinds && f->kinds[i] != ev->kind)
			i++;
		if (i == f->n_kinds)
			return 0;
	}
	if ((f->has_since && ev->created_at < f->since) || (f->has_until && ev->created_at > f->until))
		return 0;
	for (size_t i = 0; i < f->n_tags; i++)
		if (!tag_matches(&f->tags[i], ev))
			return 0;
	return 1;
}

int nostr_filters_match(const struct nostr_filter *fs, size_t n, const struct nostr_event *ev)
{
	for (size_t i = 0; i < n; i++)
		if (nostr_filter_match(&fs[i], ev))
			return 1;
	return 0;
}
