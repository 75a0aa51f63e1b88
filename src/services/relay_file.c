/* relay_file.c — reads a file of relay URLs (seed list, priority list): normalised, deduplicated, rejects with line numbers. */
#include "services/relay_file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define RELAY_FILE_MAX (64u << 20) /* a list this large is a mistake, not a seed list */

/* FNV-1a of a URL: the index of relays[] is an open-addressing table of these. */
static uint64_t url_hash(const char *s)
{
	uint64_t h = 14695981039346656037u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* Doubles the index (slot value 0: empty, else relay index + 1) and re-inserts every relay. */
static int grow_index(struct relay_file *f)
{
	size_t cap = f->index_cap_ ? 2 * f->index_cap_ : 64;
	size_t *idx = calloc(cap, sizeof(*idx));
	if (!idx)
		return -1;
	for (size_t i = 0; i < f->n; i++) {
		size_t k = (size_t)url_hash(f->relays[i].url) & (cap - 1);
		while (idx[k])
			k = (k + 1) & (cap - 1);
		idx[k] = i + 1;
	}
	free(f->index_);
	f->index_ = idx;
	f->index_cap_ = cap;
	return 0;
}

/* Appends u unless its URL is listed already: expected constant time per line (the index holds at
 * most half as many relays as slots). */
static int add_relay(struct relay_file *f, const struct relay_url *u)
{
	if (2 * (f->n + 1) > f->index_cap_ && grow_index(f) < 0)
		return -1;
	size_t mask = f->index_cap_ - 1, k = (size_t)url_hash(u->url) & mask;
	for (; f->index_[k]; k = (k + 1) & mask) {
		f->compares++;
		if (strcmp(f->relays[f->index_[k] - 1].url, u->url) == 0) {
			f->duplicates++;
			return 0;
		}
	}
	if (f->n == f->cap_) {
		size_t cap = f->cap_ ? 2 * f->cap_ : 16;
		struct relay_url *p = realloc(f->relays, cap * sizeof(*p));
		if (!p)
			return -1;
		f->relays = p;
		f->cap_ = cap;
	}
	f->relays[f->n++] = *u;
	f->index_[k] = f->n;
	return 0;
}

static int add_reject(struct relay_file *f, int line, const char *reason, const char *text, size_t len)
{
	if (f->n_rejects == f->rejects_cap_) {
		size_t cap = f->rejects_cap_ ? 2 * f->rejects_cap_ : 16;
		struct relay_file_reject *p = realloc(f->rejects, cap * sizeof(*p));
		if (!p)
			return -1;
		f->rejects = p;
		f->rejects_cap_ = cap;
	}
	struct relay_file_reject *r = &f->rejects[f->n_rejects++];
	r->line = line;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	snprintf(r->text, sizeof(r->text), "%.*s", (int)(len < sizeof(r->text) - 1 ? len : sizeof(r->text) - 1), text);
	return 0;
}

/* Handles one line (without its newline). Returns 0, or -1 when out of memory. */
static int take_line(struct relay_file *f, unsigned flags, int lineno, const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t' || *s == '\r')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	if (len == 0 || *s == '#')
		return 0;
	struct relay_url u;
	const char *why;
	if (relay_url_parse(s, len, flags, &u, &why) < 0)
		return add_reject(f, lineno, why, s, len);
	return add_relay(f, &u);
}

int relay_file_read(const char *path, unsigned flags, struct relay_file *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	char *data;
	size_t len;
	if (read_file(path, RELAY_FILE_MAX, &data, &len) < 0) {
		snprintf(err, errlen, "%s: %s", path, errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
		return -1;
	}
	int rc = 0, lineno = 1;
	for (const char *p = data, *end = data + len; p < end && rc == 0; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		rc = take_line(out, flags, lineno, p, l);
		p += l + 1;
	}
	free(data);
	if (rc < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		relay_file_free(out);
	}
	return rc;
}

void relay_file_free(struct relay_file *f)
{
	free(f->relays);
	free(f->rejects);
	free(f->index_);
	memset(f, 0, sizeof(*f));
}
