/* publisher_event.c — the NIP-66 events the monitor publishes, built from what was observed, and the hash that decides whether to publish again. */
#include "services/publisher_event.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "nostr/json.h"

#define TAGS_MAX 64 /* 30166: d, n, 3 RTTs, 8 N, 8 R, 16 t, k, expiration; 10002: at most 16 relays */

/* Tags being built: items point at static strings, the facts, or num[]. */
struct tagset {
	struct nostr_tag tags[TAGS_MAX];
	struct nostr_str items[TAGS_MAX * 3];
	char num[TAGS_MAX][24];
	size_t n, n_items, n_num;
};

static void put(struct tagset *t, const char *a, const char *b, const char *c)
{
	if (t->n == TAGS_MAX)
		return; /* not reached: every list feeding it is capped below TAGS_MAX in all */
	struct nostr_str *it = &t->items[t->n_items];
	size_t k = 0;
	it[k++] = (struct nostr_str){ a, strlen(a) };
	it[k++] = (struct nostr_str){ b, strlen(b) };
	if (c)
		it[k++] = (struct nostr_str){ c, strlen(c) };
	t->tags[t->n++] = (struct nostr_tag){ it, k };
	t->n_items += k;
}

static const char *num(struct tagset *t, int64_t v)
{
	char *s = t->num[t->n_num++ % TAGS_MAX];
	snprintf(s, sizeof(t->num[0]), "%lld", (long long)v);
	return s;
}

/* sha256 over the tags and content, each item length-prefixed (unambiguous whatever they hold). */
static void hash_of(const struct tagset *t, const char *content, size_t content_len, unsigned char out[32])
{
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < t->n; i++) {
		buf_printf(&b, "T%zu:", t->tags[i].n);
		for (size_t j = 0; j < t->tags[i].n; j++) {
			buf_printf(&b, "%zu:", t->tags[i].items[j].len);
			buf_append(&b, t->tags[i].items[j].s, t->tags[i].items[j].len);
		}
	}
	buf_printf(&b, "C%zu:", content_len);
	buf_append(&b, content, content_len);
	if (b.failed)
		memset(out, 0, 32); /* out of memory: a hash that matches nothing published */
	else
		SHA256((const unsigned char *)b.data, b.len, out);
	buf_free(&b);
}

void pub_relay_facts_init(struct pub_relay_facts *f, const char *url, const char *network)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->url, sizeof(f->url), "%s", url);
	f->network = network;
	f->rtt_open = f->rtt_read = f->rtt_write = -1;
	f->kind_accepted = -1;
}

static int printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

void pub_relay_facts_topics(struct pub_relay_facts *f, const char *nip11_json, size_t len)
{
	struct json_doc d;
	struct nostr_err err;
	json_doc_init(&d);
	f->n_topics = 0;
	if (json_parse(&d, nip11_json, len, &err) == 0 && d.tok[0].type == JSON_OBJECT) {
		size_t a = json_member(&d, 0, "tags");
		if (a && d.tok[a].type == JSON_ARRAY) {
			for (size_t i = a + 1, k = 0; k < d.tok[a].size && f->n_topics < PUB_TOPICS_MAX;
			     k++, i = d.tok[i].next) {
				const struct json_tok *t = &d.tok[i];
				if (t->type != JSON_STRING || t->end - t->start > PUB_TOPIC_MAX)
					continue;
				char *out = f->topics[f->n_topics];
				size_t n = json_str_decode(&d, t, out);
				out[n] = '\0';
				if (n && printable(out, n) && strlen(out) == n)
					f->n_topics++;
			}
		}
	}
	json_doc_free(&d);
}

/* The 30166 tags; with_live: also the RTTs and the expiration (left out of the hash). */
static void relay_tags(struct tagset *t, const struct pub_relay_facts *f, int64_t expiration, int with_live)
{
	static const char *const rtt_names[3] = { "rtt-open", "rtt-read", "rtt-write" };
	const int64_t rtts[3] = { f->rtt_open, f->rtt_read, f->rtt_write };
	memset(t, 0, sizeof(*t));
	put(t, "d", f->url, NULL);
	put(t, "n", f->network, NULL);
	for (int i = 0; i < 3 && with_live; i++)
		if (rtts[i] >= 0)
			put(t, rtt_names[i], num(t, rtts[i]), NULL);
	for (size_t i = 0; i < f->n_nips && i < PUB_NIPS_MAX; i++)
		put(t, "N", num(t, f->nips[i]), NULL);
	for (size_t i = 0; i < f->n_reqs && i < PUB_REQS_MAX; i++)
		put(t, "R", f->reqs[i], NULL);
	for (size_t i = 0; i < f->n_topics && i < PUB_TOPICS_MAX; i++)
		put(t, "t", f->topics[i], NULL);
	if (f->kind_accepted >= 0)
		put(t, "k", num(t, f->kind_accepted), NULL);
	if (with_live)
		put(t, "expiration", num(t, expiration), NULL);
}

int pub_event_relay(struct nostr_event *ev, const struct pub_relay_facts *f, int64_t created_at,
		    int64_t expiration, unsigned char hash[32], struct nostr_err *err)
{
	struct tagset *t = malloc(sizeof(*t)); /* 7 KiB: not on the stack */
	const char *content = f->content && f->content_len <= PUB_CONTENT_MAX ? f->content : "";
	size_t content_len = *content ? f->content_len : 0;
	if (!t)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, NULL);
	if (hash) {
		relay_tags(t, f, expiration, 0);
		hash_of(t, content, content_len, hash);
	}
	relay_tags(t, f, expiration, 1);
	int rc = nostr_event_set(ev, 30166, created_at, t->tags, t->n, content, content_len, err);
	free(t);
	return rc;
}

/* The tags of t set on ev as kind, with content; hash of both when asked. Frees t. */
static int finish(struct nostr_event *ev, struct tagset *t, uint32_t kind, int64_t created_at, const char *content,
		  unsigned char hash[32], struct nostr_err *err)
{
	if (hash)
		hash_of(t, content, strlen(content), hash);
	int rc = nostr_event_set(ev, kind, created_at, t->tags, t->n, content, strlen(content), err);
	free(t);
	return rc;
}

int pub_event_monitor(struct nostr_event *ev, const struct pub_monitor_facts *m, int64_t created_at,
		      unsigned char hash[32], struct nostr_err *err)
{
	struct tagset *t = calloc(1, sizeof(*t));
	if (!t)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, NULL);
	put(t, "frequency", num(t, m->frequency_s), NULL);
	for (size_t i = 0; i < m->n_timeouts && i < 4; i++)
		put(t, "timeout", m->timeout_checks[i], num(t, m->timeout_ms[i]));
	for (size_t i = 0; i < m->n_checks && i < 8; i++)
		put(t, "c", m->checks[i], NULL);
	for (size_t i = 0; i < m->n_networks && i < 2; i++)
		put(t, "n", m->networks[i], NULL);
	return finish(ev, t, 10166, created_at, "", hash, err);
}

int pub_event_profile(struct nostr_event *ev, const char *profile, int64_t created_at, unsigned char hash[32],
		      struct nostr_err *err)
{
	struct tagset *t = calloc(1, sizeof(*t));
	if (!t)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, NULL);
	return finish(ev, t, 0, created_at, profile, hash, err);
}

int pub_event_relay_list(struct nostr_event *ev, const char *const *relays, size_t n, int64_t created_at,
			 unsigned char hash[32], struct nostr_err *err)
{
	struct tagset *t = calloc(1, sizeof(*t));
	if (!t)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		put(t, "r", relays[i], NULL);
	return finish(ev, t, 10002, created_at, "", hash, err);
}
