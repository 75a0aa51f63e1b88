/* nostr_fixtures.h — reading tests/fixtures/nostr/ files as lines (header-only, for the nostr unit tests). */
#ifndef BROTR_TEST_NOSTR_FIXTURES_H
#define BROTR_TEST_NOSTR_FIXTURES_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct lines {
	char *data;
	size_t n;
	char **line;   /* line[i] points into data, NUL-terminated (a line may also contain NULs) */
	size_t *len;
};

/* Reads path (relative to the repository root) and splits it at '\n'. Fails the test when unreadable. */
static inline void lines_read(struct lines *l, const char *path)
{
	size_t size;
	memset(l, 0, sizeof(*l));
	ck_assert_msg(read_file(path, (size_t)64 << 20, &l->data, &size) == 0, "cannot read %s (run from the repository root)",
		      path);
	for (size_t i = 0; i < size; i++)
		l->n += l->data[i] == '\n';
	l->line = calloc(l->n + 1, sizeof(char *));
	l->len = calloc(l->n + 1, sizeof(size_t));
	ck_assert(l->line && l->len);
	size_t start = 0, k = 0;
	for (size_t i = 0; i < size; i++) {
		if (l->data[i] != '\n')
			continue;
		l->data[i] = '\0';
		l->line[k] = l->data + start;
		l->len[k++] = i - start;
		start = i + 1;
	}
}

static inline void lines_free(struct lines *l)
{
	free(l->data);
	free(l->line);
	free(l->len);
}

/* Splits a tab-separated line in place into at most max fields. Returns the count. */
static inline int split_tabs(char *s, char **field, int max)
{
	int n = 0;
	while (n < max) {
		field[n++] = s;
		char *tab = strchr(s, '\t');
		if (!tab)
			break;
		*tab = '\0';
		s = tab + 1;
	}
	return n;
}

#endif
