/* finder_scan.h — the relay URLs one archived event names, by where they sit in it (no I/O, no normalising). */
#ifndef BROTR_SERVICES_FINDER_SCAN_H
#define BROTR_SERVICES_FINDER_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "nostr/json.h"

/* Where a URL was found; finder_source_name gives the name stored in relay_candidates.source. */
enum finder_source {
	FINDER_R_TAG,     /* kind 10002: ["r", <url>, ...] */
	FINDER_RELAY_TAG, /* NIP-51 relay lists (10006, 10007, 10012, 10050, 30002): ["relay", <url>] */
	FINDER_CONTACTS,  /* kind 3 content: {"<url>": {"read": .., "write": ..}, ...} */
	FINDER_RECOMMEND, /* kind 2 content: a URL */
	FINDER_HINT,      /* the third element of an e, p, a or q tag */
	FINDER_NIP66,     /* kind 30166: ["d", <url>] */
	FINDER_HTTP,      /* an HTTP source (not read here) */
	FINDER__COUNT
};
const char *finder_source_name(enum finder_source s);

/* Called once per URL-like string: s[0..len) decoded, not NUL-terminated, valid during the call.
 * len > FINDER_STR_MAX means the string was too long to decode (s is then NULL). */
typedef void (*finder_url_fn)(void *user, enum finder_source src, const char *s, size_t len);
#define FINDER_STR_MAX 2048

/* One archived event as the database keeps it: tags and content may be NULL (lilbrotr keeps
 * neither; it keeps tagvalues, the values of the single-letter tags, as a JSON array). */
struct finder_event {
	int32_t kind;
	const char *tags;      /* JSON array of arrays, or NULL */
	const char *content;   /* or NULL */
	const char *tagvalues; /* JSON array of strings, or NULL */
};

/*
 * Calls fn for every string of ev that names a relay by its position (see enum finder_source).
 * With tags NULL, reads tagvalues instead: every value of a kind 10002 event, and the values of
 * a kind 30166 event that start with "ws" (its d tag; the others are labels and numbers).
 * Empty strings are skipped. doc is scratch, reused. Returns how many strings fn got, or -1
 * when a column that should hold JSON does not (kind 3 content may be any text: not JSON there
 * counts as no URL, and returns 0).
 */
int finder_scan_event(struct json_doc *doc, const struct finder_event *ev, finder_url_fn fn, void *user);

/*
 * An HTTP source's document: calls fn (source FINDER_HTTP) for the strings at path, a list of
 * member names separated by '.', where '*' stands for every element of an array (or every member
 * value of an object); "" is the document itself. A string found there is one URL, an array of
 * strings gives each. Anything else at the path names nothing. Returns how many strings fn got,
 * or -1 when text is not JSON.
 */
int finder_scan_json(struct json_doc *doc, const char *text, size_t len, const char *path, finder_url_fn fn,
		     void *user);

#endif
