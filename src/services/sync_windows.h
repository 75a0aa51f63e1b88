/* sync_windows.h — a relay's range as windows walked at the same time: the plan from its recorded progress, splits by density, and the progress they add up to. */
#ifndef BROTR_SERVICES_SYNC_WINDOWS_H
#define BROTR_SERVICES_SYNC_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "services/sync_walk.h"

/*
 * Over Tor a round trip takes seconds, so one walk asking one page at a time yields at most a page
 * per round trip. A relay's range is therefore cut into windows, each a sync_walk of its own
 * (every rule of the walk holds inside it), walked at the same time as separate subscriptions.
 *
 * A pass first resumes the windows a previous pass left unfinished, then walks one new window from
 * just below the highest archived second (less the overlap) up to the pass's start. The split is
 * chosen from what a window has seen: after a page, a window whose remaining seconds would take
 * many more pages at the density it met gives its lower part to new windows while slots are free
 * (at the first page of a new window, and whenever a window ends and frees one). The window keeps
 * its top (its key in relay_sync_windows) and raises its since; the new windows are recorded in the
 * same commit, so the range is always covered.
 *
 * What a page shows of the relay's cap (a page cut although older events matched, the largest
 * page) is the relay's, so every window's walk is told; the walk's rules inside a window hold.
 *
 * Progress is the windows' [complete_from, top]; synced_until rises over every window that joins it
 * without a gap. A commit carries synced_until and the windows that moved; everything of the relay
 * is committed in order on one connection, so the commit covers what it claims.
 * Pure logic: no I/O, no allocation.
 */

enum sync_win_state {
	SYNC_WIN_WAITING, /* not walked yet in this pass (or sent back after a refusal) */
	SYNC_WIN_WALKING, /* has a subscription, or is about to */
	SYNC_WIN_DONE,    /* its walk ended (whole, or stalled) */
};

struct sync_win {
	struct db_sync_window w; /* since, top, complete_from as this pass knows them */
	struct sync_walk walk;
	enum sync_win_state state;
	int pending;    /* moved since the last commit */
	unsigned pages; /* pages of this pass */
	int64_t newest; /* the newest event its pages brought (-1: none yet): where its density starts */
};

struct sync_windows {
	int64_t floor;        /* the configured since: nothing below it is walked */
	int64_t synced_until; /* -1: nothing yet */
	uint32_t limit;       /* the limit every REQ asks for */
	/* what the windows' pages showed of the relay's cap (sync_walk's proven_cap and max_received),
	 * shared: every window's walk knows what any of them learnt */
	uint32_t proven_cap, max_received;
	size_t n;             /* windows in win[]; a merged one (top <= synced_until) may be reused */
	struct sync_win win[DB_SYNC_WINDOWS_MAX];
};

/* A window splits only into parts that would take at least this many pages each, at the density it
 * met; every part but the lowest takes at most SYNC_SPLIT_MAX_PAGES pages' worth of seconds. */
#define SYNC_SPLIT_MIN_PAGES 4
#define SYNC_SPLIT_MAX_PAGES 16

/*
 * The plan of a pass from recorded progress p: its unfinished windows (clamped to floor), then a
 * new window [max(highest archived + 1 - overlap, floor), top] unless that is empty or a recorded
 * window already ends at top.
 */
void sync_windows_plan(struct sync_windows *s, const struct db_sync_progress *p, int64_t floor, int64_t overlap,
		       int64_t top, uint32_t limit);

/* The waiting window with the lowest since, or -1. */
int sync_windows_next(const struct sync_windows *s);
/* Windows in state st. */
size_t sync_windows_count(const struct sync_windows *s, enum sync_win_state st);
/* Window i starts (or resumes) its walk: state WALKING. */
void sync_windows_start(struct sync_windows *s, int i);

/* What the walk of window i said about a page whose newest usable event is newest (-1: none):
 * complete_from moves, the window ends unless MORE. */
void sync_windows_step(struct sync_windows *s, int i, enum sync_verdict v, const struct sync_step *st,
		       int64_t newest);

/*
 * After a page of window i (walking, between pages; never while its walk is still deciding whether
 * a second filled the cap, which the next page of the same range settles): gives the lower part of
 * its remaining range to
 * up to free_slots new waiting windows when it would still take SYNC_SPLIT_MIN_PAGES pages per
 * window at the density it met: parts of equal seconds stacked below where it stands, each at most
 * SYNC_SPLIT_MAX_PAGES pages' worth, the lowest taking the rest down to its since. Returns how
 * many windows were added.
 */
size_t sync_windows_split(struct sync_windows *s, int i, size_t free_slots);

/*
 * The progress to commit now: synced_until raised over every window joining it without a gap, and
 * the windows that moved (their pending flags clear). Returns 1 when *p holds anything to record,
 * 0 when nothing moved.
 */
int sync_windows_progress(struct sync_windows *s, struct db_sync_progress *p);

/* The lowest complete_from of the unfinished windows above synced_until, or -1. */
int64_t sync_windows_walk_from(const struct sync_windows *s);

#endif
