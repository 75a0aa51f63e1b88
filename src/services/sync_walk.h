/* sync_walk.h — the paging plan that archives a time window from one relay without gaps, whatever its silent cap. */
#ifndef BROTR_SERVICES_SYNC_WALK_H
#define BROTR_SERVICES_SYNC_WALK_H

#include <stdint.h>

/*
 * NIP-01: a REQ with `limit: n` returns "the last n events ordered by created_at", ties broken by
 * the lowest id. Relays clamp n silently, often below what NIP-11 says, so a short page proves
 * nothing. The walk therefore never trusts a count. It pages backwards from `top` to `since`:
 *
 *   page [since, until] returns events whose oldest created_at is t.
 *   - No events: [since, until] holds nothing more; the walk is complete.
 *   - t < until: the relay returned the newest events of the window, so every event in (t, until]
 *     has been seen; second t may be cut. Next page: [since, t], which fetches second t again.
 *   - t == until: every event sat in one second. Next page: [since, until - 1]. If that page
 *     still finds older events, the relay stopped at this second although older events matched:
 *     the page size is the relay's cap, and the second filled it. If it finds nothing, the second
 *     filled the cap only if its count reaches the relay's known cap (the requested limit,
 *     NIP-11's max_limit, or a cap proven by an earlier page, never below the largest page seen).
 *
 * A second that fills the cap is reported "at cap": it holds at least the cap, and perhaps more
 * than the relay will return. A relay's answers cannot tell the two apart (ties are broken by
 * lowest id and filters cannot exclude ids), so the caller settles it with NIP-45 COUNT where the
 * relay supports it, and otherwise counts the second as truncated.
 *
 * Progress is the lowest second from which everything up to `top` is complete; it only moves
 * down, one page at a time, so the caller can commit it with the page's events.
 * Pure logic: no I/O, no allocation.
 */

struct sync_walk {
	int64_t since;       /* inclusive lower bound of the window */
	int64_t top;         /* inclusive upper bound the walk started from */
	int64_t until;       /* inclusive upper bound of the next page */
	uint32_t limit;      /* the limit every REQ asks for */
	uint32_t hint_cap;   /* NIP-11 limitation.max_limit, or 0 when unknown */
	uint32_t proven_cap; /* events in a page the relay cut although older events matched */
	uint32_t max_received; /* the largest page seen: the cap is at least this */
	uint32_t prev_received;
	int64_t prev_oldest;
	int prev_one_second; /* the previous page's events all sat in second `prev_oldest` (== its until) */
	int done;
};

/* What one page brought, as the caller counted it after EOSE. */
struct sync_page {
	uint32_t received; /* EVENT messages for this page, valid or not: they all filled the relay's cap */
	uint32_t usable;   /* verified events inside the page's [since, until] that match the filter */
	int64_t oldest;    /* smallest created_at among the usable events (ignored when usable == 0) */
};

enum sync_verdict {
	SYNC_MORE,    /* ask for the next page */
	SYNC_DONE,    /* the window [since, top] is complete */
	SYNC_STALLED, /* the relay filled a page with nothing usable: stop here, progress stays */
};

/* Starts a walk over [since, top]. limit is what each REQ asks; hint_cap is NIP-11 max_limit or 0. */
void sync_walk_start(struct sync_walk *w, int64_t since, int64_t top, uint32_t limit, uint32_t hint_cap);

/*
 * Resumes a walk interrupted after progress `complete_from` (as returned by sync_walk_page):
 * everything in [complete_from, top] is archived; the next page is [since, complete_from - 1].
 */
void sync_walk_resume(struct sync_walk *w, int64_t since, int64_t top, int64_t complete_from, uint32_t limit,
		      uint32_t hint_cap);

/* Writes the next page's window. Returns 0 when a page should be asked, -1 when the walk is over. */
int sync_walk_next(const struct sync_walk *w, int64_t *since, int64_t *until);

/* What the walk learned from a page. */
struct sync_step {
	int64_t complete_from; /* every event in [complete_from, top] has now been seen */
	int n_at_cap;          /* seconds that filled the relay's cap: they may hold more (0..2) */
	int64_t at_cap[2];
	uint32_t at_cap_n[2];  /* how many events the relay returned for each */
};

/* Records the page that sync_walk_next described, fills *step, and returns the verdict. */
enum sync_verdict sync_walk_page(struct sync_walk *w, const struct sync_page *p, struct sync_step *step);

#endif
