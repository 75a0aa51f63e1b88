/* event.c — event storage: init/free, setting fields from C values, copying, tag lookup, kind classes. */
#include "nostr/event.h"

#include <stdlib.h>
#include <string.h>

void nostr_event_init(struct nostr_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->content.s = "";
}

void nostr_event_free(struct nostr_event *ev)
{
	free(ev->mem_);
	free(ev->tag_mem_);
	free(ev->item_mem_);
	nostr_event_init(ev);
}

/* Fresh storage for a set or copy; the old storage is released only afterwards (inputs may point into it). */
struct storage {
	char *mem;
	struct nostr_tag *tags;
	struct nostr_str *items;
	size_t mem_len, n_tags, n_items;
};

static int storage_alloc(struct storage *st, const struct nostr_tag *tags, size_t n_tags, size_t content_len)
{
	memset(st, 0, sizeof(*st));
	st->n_tags = n_tags;
	st->mem_len = content_len + 1;
	for (size_t i = 0; i < n_tags; i++) {
		st->n_items += tags[i].n;
		for (size_t j = 0; j < tags[i].n; j++)
			st->mem_len += tags[i].items[j].len + 1;
	}
	st->mem = malloc(st->mem_len);
	st->tags = malloc((n_tags ? n_tags : 1) * sizeof(*st->tags));
	st->items = malloc((st->n_items ? st->n_items : 1) * sizeof(*st->items));
	if (st->mem && st->tags && st->items)
		return 0;
	free(st->mem);
	free(st->tags);
	free(st->items);
	return -1;
}

static char *put_str(char *p, struct nostr_str *dst, const char *s, size_t n)
{
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	dst->s = p;
	dst->len = n;
	return p + n + 1;
}

/* Copies tags and content into st, then makes st the event's storage. */
static void storage_fill(struct nostr_event *ev, struct storage *st, const struct nostr_tag *tags,
			 const char *content, size_t content_len)
{
	char *p = st->mem;
	struct nostr_str *it = st->items;
	p = put_str(p, &ev->content, content, content_len);
	for (size_t i = 0; i < st->n_tags; i++) {
		st->tags[i].items = it;
		st->tags[i].n = tags[i].n;
		for (size_t j = 0; j < tags[i].n; j++, it++)
			p = put_str(p, it, tags[i].items[j].s, tags[i].items[j].len);
	}
	free(ev->mem_);
	free(ev->tag_mem_);
	free(ev->item_mem_);
	ev->mem_ = st->mem;
	ev->mem_cap_ = st->mem_len;
	ev->tag_mem_ = st->tags;
	ev->tag_cap_ = st->n_tags ? st->n_tags : 1;
	ev->item_mem_ = st->items;
	ev->item_cap_ = st->n_items ? st->n_items : 1;
	ev->tags = st->tags;
	ev->n_tags = st->n_tags;
}

int nostr_event_set(struct nostr_event *ev, uint32_t kind, int64_t created_at, const struct nostr_tag *tags,
		    size_t n_tags, const char *content, size_t content_len, struct nostr_err *err)
{
	if (kind > 65535)
		return nostr_fail(err, NOSTR_E_ARG, "kind", "expected 0..65535");
	if (created_at < 0)
		return nostr_fail(err, NOSTR_E_ARG, "created_at", "expected a non-negative integer");
	if (!utf8_valid(content, content_len))
		return nostr_fail(err, NOSTR_E_ARG, "content", "not valid UTF-8");
	for (size_t i = 0; i < n_tags; i++)
		for (size_t j = 0; j < tags[i].n; j++)
			if (!utf8_valid(tags[i].items[j].s, tags[i].items[j].len))
				return nostr_fail(err, NOSTR_E_ARG, "tags", "not valid UTF-8");
	struct storage st;
	if (storage_alloc(&st, tags, n_tags, content_len) < 0)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "event storage");
	storage_fill(ev, &st, tags, content, content_len);
	ev->kind = kind;
	ev->created_at = created_at;
	return 0;
}

int nostr_event_copy(struct nostr_event *dst, const struct nostr_event *src)
{
	if (dst == src)
		return 0;
	struct storage st;
	if (storage_alloc(&st, src->tags, src->n_tags, src->content.len) < 0)
		return -1;
	storage_fill(dst, &st, src->tags, src->content.s, src->content.len);
	memcpy(dst->id, src->id, 32);
	memcpy(dst->pubkey, src->pubkey, 32);
	memcpy(dst->sig, src->sig, 64);
	dst->created_at = src->created_at;
	dst->kind = src->kind;
	dst->have_id = src->have_id;
	return 0;
}

const struct nostr_str *nostr_event_tag_item(const struct nostr_event *ev, size_t i, size_t j)
{
	if (i >= ev->n_tags || j >= ev->tags[i].n)
		return NULL;
	return &ev->tags[i].items[j];
}

long nostr_event_find_tag(const struct nostr_event *ev, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < ev->n_tags; i++) {
		const struct nostr_tag *t = &ev->tags[i];
		if (t->n > 0 && t->items[0].len == n && memcmp(t->items[0].s, name, n) == 0)
			return (long)i;
	}
	return -1;
}

int nostr_kind_is_regular(uint32_t kind)
{
	return kind == 1 || kind == 2 || (kind >= 4 && kind < 45) || (kind >= 1000 && kind < 10000);
}

int nostr_kind_is_replaceable(uint32_t kind)
{
	return kind == 0 || kind == 3 || (kind >= 10000 && kind < 20000);
}

int nostr_kind_is_ephemeral(uint32_t kind)
{
	return kind >= 20000 && kind < 30000;
}

int nostr_kind_is_addressable(uint32_t kind)
{
	return kind >= 30000 && kind < 40000;
}
