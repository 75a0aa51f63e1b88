/* finder_scan.c — the relay URLs one archived event names: tags, relay-list content, tagvalues. */
#include "services/finder_scan.h"

#include <string.h>

static const char *const source_names[FINDER__COUNT] = {
	"r-tag", "relay-tag", "contacts", "recommend", "hint", "nip66", "http",
};

const char *finder_source_name(enum finder_source s)
{
	return (unsigned)s < FINDER__COUNT ? source_names[s] : "?";
}

struct scan {
	const struct json_doc *doc;
	finder_url_fn fn;
	void *user;
	int found;
};

/* Decodes string token t and hands it to fn (unless empty). */
static void emit(struct scan *sc, enum finder_source src, size_t t)
{
	const struct json_tok *tok = &sc->doc->tok[t];
	char buf[FINDER_STR_MAX];
	size_t raw = tok->end - tok->start;
	if (tok->type != JSON_STRING || raw == 0)
		return;
	sc->found++;
	if (raw > FINDER_STR_MAX) { /* decoding never grows a string; it may shrink below the cap */
		sc->fn(sc->user, src, NULL, raw);
		return;
	}
	sc->fn(sc->user, src, buf, json_str_decode(sc->doc, tok, buf));
}

static int relay_list_kind(int32_t kind)
{
	return kind == 10006 || kind == 10007 || kind == 10012 || kind == 10050 || kind == 30002;
}

static int is_hint_tag(const struct json_doc *d, size_t name)
{
	return json_str_is(d, &d->tok[name], "e") || json_str_is(d, &d->tok[name], "p") ||
	       json_str_is(d, &d->tok[name], "a") || json_str_is(d, &d->tok[name], "q");
}

/* One tag (an array token at t) of an event of kind. */
static void scan_tag(struct scan *sc, int32_t kind, size_t t)
{
	const struct json_doc *d = sc->doc;
	if (d->tok[t].type != JSON_ARRAY || d->tok[t].size < 2 || d->tok[t + 1].type != JSON_STRING)
		return;
	size_t name = t + 1, value = d->tok[name].next, third = d->tok[value].next;
	if (kind == 10002 && json_str_is(d, &d->tok[name], "r"))
		emit(sc, FINDER_R_TAG, value);
	else if (relay_list_kind(kind) && json_str_is(d, &d->tok[name], "relay"))
		emit(sc, FINDER_RELAY_TAG, value);
	else if (kind == 30166 && json_str_is(d, &d->tok[name], "d"))
		emit(sc, FINDER_NIP66, value);
	if (d->tok[t].size >= 3 && is_hint_tag(d, name))
		emit(sc, FINDER_HINT, third);
}

static int scan_tags(struct scan *sc, struct json_doc *doc, int32_t kind, const char *tags)
{
	struct nostr_err err = { 0 };
	if (json_parse(doc, tags, strlen(tags), &err) < 0 || doc->tok[0].type != JSON_ARRAY)
		return -1;
	for (size_t i = 1; i < doc->n_tok; i = doc->tok[i].next)
		scan_tag(sc, kind, i);
	return 0;
}

static int starts_ws(const struct json_doc *d, size_t t)
{
	const char *s = d->text + d->tok[t].start;
	return d->tok[t].end - d->tok[t].start >= 2 && (s[0] == 'w' || s[0] == 'W') && (s[1] == 's' || s[1] == 'S');
}

/* lilbrotr: the values of the single-letter tags. */
static int scan_tagvalues(struct scan *sc, struct json_doc *doc, int32_t kind, const char *tv)
{
	struct nostr_err err = { 0 };
	if (kind != 10002 && kind != 30166)
		return 0;
	if (json_parse(doc, tv, strlen(tv), &err) < 0 || doc->tok[0].type != JSON_ARRAY)
		return -1;
	for (size_t i = 1; i < doc->n_tok; i = doc->tok[i].next)
		if (kind == 10002 || starts_ws(doc, i))
			emit(sc, kind == 10002 ? FINDER_R_TAG : FINDER_NIP66, i);
	return 0;
}

/* Kind 3 content: the keys of a JSON object (anything else names no relay). */
static void scan_contacts(struct scan *sc, struct json_doc *doc, const char *content)
{
	struct nostr_err err = { 0 };
	if (!*content || json_parse(doc, content, strlen(content), &err) < 0 || doc->tok[0].type != JSON_OBJECT)
		return;
	for (size_t k = 1; k < doc->n_tok; k = doc->tok[doc->tok[k].next].next)
		emit(sc, FINDER_CONTACTS, k);
}

/* Kind 2 content: the URL itself, surrounding whitespace left to the normaliser. */
static void scan_recommend(struct scan *sc, const char *content)
{
	size_t n = strlen(content);
	if (n == 0)
		return;
	sc->found++;
	sc->fn(sc->user, FINDER_RECOMMEND, n > FINDER_STR_MAX ? NULL : content, n);
}

int finder_scan_event(struct json_doc *doc, const struct finder_event *ev, finder_url_fn fn, void *user)
{
	struct scan sc = { doc, fn, user, 0 };
	int rc = 0;
	if (ev->tags)
		rc = scan_tags(&sc, doc, ev->kind, ev->tags);
	else if (ev->tagvalues)
		rc = scan_tagvalues(&sc, doc, ev->kind, ev->tagvalues);
	if (rc < 0)
		return -1;
	if (ev->content && ev->kind == 3)
		scan_contacts(&sc, doc, ev->content);
	else if (ev->content && ev->kind == 2)
		scan_recommend(&sc, ev->content);
	return sc.found;
}

/* The values at path from token t (recursion depth: the path's segments, at most 32). */
static void walk(struct scan *sc, size_t t, const char *path, int depth)
{
	const struct json_doc *d = sc->doc;
	const struct json_tok *tok = &d->tok[t];
	if (!*path || depth > 32) {
		if (tok->type == JSON_STRING)
			emit(sc, FINDER_HTTP, t);
		for (size_t i = t + 1; tok->type == JSON_ARRAY && i < tok->next; i = d->tok[i].next)
			emit(sc, FINDER_HTTP, i);
		return;
	}
	size_t seg = strcspn(path, ".");
	const char *rest = path[seg] ? path + seg + 1 : path + seg;
	int any = seg == 1 && path[0] == '*';
	if (tok->type == JSON_ARRAY && any) {
		for (size_t i = t + 1; i < tok->next; i = d->tok[i].next)
			walk(sc, i, rest, depth + 1);
	} else if (tok->type == JSON_OBJECT) {
		for (size_t k = t + 1; k < tok->next; k = d->tok[d->tok[k].next].next)
			if (any || json_str_eq(d, &d->tok[k], path, seg))
				walk(sc, d->tok[k].next, rest, depth + 1);
	}
}

int finder_scan_json(struct json_doc *doc, const char *text, size_t len, const char *path, finder_url_fn fn,
		     void *user)
{
	struct scan sc = { doc, fn, user, 0 };
	struct nostr_err err = { 0 };
	if (json_parse(doc, text, len, &err) < 0)
		return -1;
	walk(&sc, 0, path, 0);
	return sc.found;
}
