/* sync_windows.c — a relay's range as windows walked at the same time: the plan from its recorded progress, splits by density, and the progress they add up to. */
#include "services/sync_windows.h"

#include <string.h>

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int merged(const struct sync_windows *s, const struct sync_win *x)
{
	return s->synced_until >= 0 && x->w.top <= s->synced_until;
}

/* A slot for a new window: a merged one no walk uses, or the next free. NULL when none is left. */
static struct sync_win *new_window(struct sync_windows *s, int64_t since, int64_t top)
{
	struct sync_win *x = NULL;
	for (size_t i = 0; i < s->n && !x; i++)
		if (merged(s, &s->win[i]) && s->win[i].state != SYNC_WIN_WALKING)
			x = &s->win[i];
	if (!x && s->n < DB_SYNC_WINDOWS_MAX)
		x = &s->win[s->n++];
	if (!x)
		return NULL;
	memset(x, 0, sizeof(*x));
	x->w = (struct db_sync_window){ since, top, top + 1 };
	x->state = SYNC_WIN_WAITING;
	x->newest = -1;
	return x;
}

void sync_windows_plan(struct sync_windows *s, const struct db_sync_progress *p, int64_t floor, int64_t overlap,
		       int64_t top, uint32_t limit)
{
	memset(s, 0, sizeof(*s));
	s->floor = floor;
	s->synced_until = p->synced_until;
	s->limit = limit;
	int64_t hi = p->synced_until; /* the highest second archived */
	int at_top = 0;
	for (size_t i = 0; i < p->n_windows && i < DB_SYNC_WINDOWS_MAX; i++) {
		struct db_sync_window w = p->window[i];
		if (w.top < floor || (p->synced_until >= 0 && w.top <= p->synced_until))
			continue;
		struct sync_win *x = &s->win[s->n++];
		x->pending = w.since < floor; /* clamped: recorded so */
		w.since = max64(w.since, floor);
		w.complete_from = max64(w.complete_from, w.since);
		x->w = w;
		x->state = w.complete_from > w.since ? SYNC_WIN_WAITING : SYNC_WIN_DONE;
		x->newest = -1;
		hi = max64(hi, w.top);
		at_top |= w.top == top;
	}
	int64_t base = hi >= 0 ? max64(hi + 1 - overlap, floor) : floor;
	if (top >= base && !at_top)
		new_window(s, base, top);
}

int sync_windows_next(const struct sync_windows *s)
{
	int best = -1;
	for (size_t i = 0; i < s->n; i++)
		if (s->win[i].state == SYNC_WIN_WAITING && (best < 0 || s->win[i].w.since < s->win[best].w.since))
			best = (int)i;
	return best;
}

size_t sync_windows_count(const struct sync_windows *s, enum sync_win_state st)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++)
		k += s->win[i].state == st;
	return k;
}

void sync_windows_start(struct sync_windows *s, int i)
{
	struct sync_win *x = &s->win[i];
	if (!x->walk.limit) { /* a window sent back after a refusal keeps its walk */
		if (x->w.complete_from > x->w.top)
			sync_walk_start(&x->walk, x->w.since, x->w.top, s->limit, 0);
		else
			sync_walk_resume(&x->walk, x->w.since, x->w.top, x->w.complete_from, s->limit, 0);
	}
	x->state = SYNC_WIN_WALKING;
	if (x->walk.proven_cap < s->proven_cap)
		x->walk.proven_cap = s->proven_cap;
	if (x->walk.max_received < s->max_received)
		x->walk.max_received = s->max_received;
}

/* What window i's walk learnt of the relay's cap, told to every window's walk. */
static void share_cap(struct sync_windows *s, const struct sync_win *x)
{
	if (x->walk.proven_cap > s->proven_cap)
		s->proven_cap = x->walk.proven_cap;
	if (x->walk.max_received > s->max_received)
		s->max_received = x->walk.max_received;
	for (size_t i = 0; i < s->n; i++) {
		struct sync_walk *w = &s->win[i].walk;
		if (s->win[i].state != SYNC_WIN_WALKING)
			continue;
		if (w->proven_cap < s->proven_cap)
			w->proven_cap = s->proven_cap;
		if (w->max_received < s->max_received)
			w->max_received = s->max_received;
	}
}

void sync_windows_step(struct sync_windows *s, int i, enum sync_verdict v, const struct sync_step *st,
		       int64_t newest)
{
	struct sync_win *x = &s->win[i];
	if (newest > x->newest)
		x->newest = newest;
	if (x->newest >= 0)
		x->pages++; /* pages above its first event say nothing of its density */
	if (v != SYNC_STALLED) {
		int64_t from = v == SYNC_DONE ? x->w.since : max64(st->complete_from, x->w.since);
		if (from < x->w.complete_from)
			x->w.complete_from = from;
		x->pending = 1;
	}
	if (v != SYNC_MORE)
		x->state = SYNC_WIN_DONE;
	share_cap(s, x);
}

/*
 * How window x's remaining [lo, hi] is cut, at the density its pages met: into at most want parts
 * of at least SYNC_SPLIT_MIN_PAGES pages each. *width gets the seconds of each part but the lowest,
 * which takes the rest: at most SYNC_SPLIT_MAX_PAGES pages' worth, since what lies below the pages
 * seen is unknown (a relay's events often begin long after since). Returns the number of parts.
 */
static size_t parts_for(const struct sync_win *x, int64_t lo, int64_t hi, size_t want, int64_t *width)
{
	int64_t covered = x->newest - hi; /* seconds (hi, newest] its pages spanned */
	if (hi < lo || covered <= 0 || x->pages == 0)
		return 1;
	double per_second = (double)x->pages / (double)covered;
	double pages_left = (double)(hi - lo + 1) * per_second;
	size_t parts = want;
	if ((double)parts * SYNC_SPLIT_MIN_PAGES > pages_left)
		parts = (size_t)(pages_left / SYNC_SPLIT_MIN_PAGES);
	if (parts < 2)
		return 1;
	double per_part = pages_left / (double)parts;
	if (per_part > SYNC_SPLIT_MAX_PAGES)
		per_part = SYNC_SPLIT_MAX_PAGES;
	double w = per_part / per_second;
	*width = w < 1 ? 1 : w > (double)(hi - lo + 1) ? hi - lo + 1 : (int64_t)w;
	if ((int64_t)parts * *width > hi - lo + 1) /* every part at least width seconds */
		parts = (size_t)((hi - lo + 1) / *width);
	return parts < 2 ? 1 : parts;
}

size_t sync_windows_split(struct sync_windows *s, int i, size_t free_slots)
{
	struct sync_win *x = &s->win[i];
	if (x->state != SYNC_WIN_WALKING || x->walk.done || x->walk.prev_one_second || free_slots == 0)
		return 0;
	int64_t lo = x->walk.since, hi = x->walk.until, width = 0;
	size_t parts = parts_for(x, lo, hi, free_slots + 1, &width);
	if (parts < 2)
		return 0;
	/* x keeps [hi - width + 1, hi]; part k below it is [hi - (k + 1) * width + 1, hi - k * width],
	 * the lowest reaching down to lo */
	size_t added = 0;
	struct sync_win *lowest = NULL;
	for (size_t k = 1; k < parts; k++) {
		int64_t top = hi - (int64_t)k * width, since = k + 1 == parts ? lo : top - width + 1;
		struct sync_win *y = new_window(s, since, top);
		if (!y)
			break;
		y->pending = 1; /* recorded with the raised since below, in the same commit */
		lowest = y;
		added++;
	}
	if (!lowest)
		return 0;
	lowest->w.since = lo; /* out of slots before the last part: the lowest takes the rest */
	x = &s->win[i]; /* windows never move; x is still window i */
	x->w.since = x->walk.since = hi - width + 1;
	x->pending = 1;
	return added;
}

/* The highest second up to which everything is archived: synced_until, raised over every window
 * whose archived part [complete_from, top] joins it without a gap. */
static int64_t joined(const struct sync_windows *s)
{
	int64_t cur = s->synced_until >= 0 ? s->synced_until : s->floor - 1;
	for (int moved = 1; moved;) {
		moved = 0;
		for (size_t i = 0; i < s->n; i++) {
			const struct db_sync_window *w = &s->win[i].w;
			if (w->complete_from <= cur + 1 && w->top > cur) {
				cur = w->top;
				moved = 1;
			}
		}
	}
	return cur;
}

int sync_windows_progress(struct sync_windows *s, struct db_sync_progress *p)
{
	int64_t cur = joined(s);
	int moved = 0;
	p->synced_until = -1;
	p->n_windows = 0;
	if (cur > s->synced_until && cur >= s->floor) {
		s->synced_until = p->synced_until = cur;
		moved = 1;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct sync_win *x = &s->win[i];
		if (!x->pending)
			continue;
		x->pending = 0;
		if (!merged(s, x)) {
			p->window[p->n_windows++] = x->w;
			moved = 1;
		}
	}
	return moved;
}

int64_t sync_windows_walk_from(const struct sync_windows *s)
{
	int64_t low = -1;
	for (size_t i = 0; i < s->n; i++) {
		const struct sync_win *x = &s->win[i];
		if (!merged(s, x) && x->w.complete_from > x->w.since && (low < 0 || x->w.complete_from < low))
			low = x->w.complete_from;
	}
	return low;
}
