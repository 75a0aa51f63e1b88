/* relay_file.h — reads a file of relay URLs (seed list, priority list): normalised, deduplicated, rejects with line numbers. */
#ifndef BROTR_SERVICES_RELAY_FILE_H
#define BROTR_SERVICES_RELAY_FILE_H

#include <stddef.h>

#include "nostr/relay_url.h"

/* A line that is not a usable relay URL. */
struct relay_file_reject {
	int line;
	char reason[128];
	char text[96]; /* the start of the line, for the report */
};

struct relay_file {
	struct relay_url *relays; /* normalised, in file order, each URL once */
	size_t n;
	size_t duplicates;        /* lines naming a relay already listed (after normalisation) */
	struct relay_file_reject *rejects;
	size_t n_rejects;
	size_t compares;          /* URL comparisons made finding duplicates (about one per line) */
	/* private */
	size_t cap_, rejects_cap_;
	size_t *index_, index_cap_;
};

/*
 * Reads path: one URL per line; blank lines and lines starting with # are skipped; surrounding
 * whitespace is ignored. flags are relay_url_parse's (RELAY_URL_ALLOW_LOCAL). Every other line
 * is either a relay or a reject with its line number and reason. Returns 0, or -1 with a reason
 * in err when the file cannot be read (then *out is empty). Time is linear in the file's length.
 * Free with relay_file_free.
 */
int relay_file_read(const char *path, unsigned flags, struct relay_file *out, char *err, size_t errlen);
void relay_file_free(struct relay_file *f);

#endif
