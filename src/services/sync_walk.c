/* sync_walk.c — the paging plan that archives a time window from one relay without gaps, whatever its silent cap. */
#include "services/sync_walk.h"

#include <string.h>

static void reset(struct sync_walk *w, int64_t since, int64_t top, int64_t until, uint32_t limit,
		  uint32_t hint_cap)
{
	memset(w, 0, sizeof(*w));
	w->since = since;
	w->top = top;
	w->until = until;
	w->limit = limit;
	w->hint_cap = hint_cap;
	w->done = until < since;
}

void sync_walk_start(struct sync_walk *w, int64_t since, int64_t top, uint32_t limit, uint32_t hint_cap)
{
	reset(w, since, top, top, limit, hint_cap);
}

void sync_walk_resume(struct sync_walk *w, int64_t since, int64_t top, int64_t complete_from, uint32_t limit,
		      uint32_t hint_cap)
{
	reset(w, since, top, complete_from - 1, limit, hint_cap);
}

int sync_walk_next(const struct sync_walk *w, int64_t *since, int64_t *until)
{
	if (w->done)
		return -1;
	*since = w->since;
	*until = w->until;
	return 0;
}

/* The page size the relay is known to cut at. A cap that a page has exceeded is disproven. */
static uint32_t known_cap(const struct sync_walk *w)
{
	uint32_t c = w->limit;
	if (w->hint_cap && w->hint_cap >= w->max_received && w->hint_cap < c)
		c = w->hint_cap;
	if (w->proven_cap && w->proven_cap >= w->max_received && w->proven_cap < c)
		c = w->proven_cap;
	return c > w->max_received ? c : w->max_received;
}

/* Reports the previous page's second as filling the cap. */
static void add_at_cap(const struct sync_walk *w, struct sync_step *step)
{
	step->at_cap[step->n_at_cap] = w->prev_oldest;
	step->at_cap_n[step->n_at_cap++] = w->prev_received;
}

/* The walk reached `since`: a pending one-second page is truncated only if it filled the known cap. */
static enum sync_verdict finish(struct sync_walk *w, struct sync_step *step)
{
	if (w->prev_one_second && w->prev_received >= known_cap(w))
		add_at_cap(w, step);
	w->done = 1;
	step->complete_from = w->since;
	return SYNC_DONE;
}

enum sync_verdict sync_walk_page(struct sync_walk *w, const struct sync_page *p, struct sync_step *step)
{
	step->n_at_cap = 0;
	step->complete_from = w->until + 1;
	if (w->done)
		return SYNC_DONE;
	if (p->usable == 0) {
		/* Nothing usable: the window is exhausted, unless the relay filled its cap with garbage. */
		if (p->received >= known_cap(w))
			return SYNC_STALLED;
		return finish(w, step);
	}
	if (p->received > w->max_received)
		w->max_received = p->received;
	int found_older = w->prev_received > 0 && p->oldest < w->prev_oldest;
	if (w->prev_one_second && found_older) /* it sat in one second, yet older events matched */
		add_at_cap(w, step);
	if (found_older && w->prev_received > w->proven_cap)
		w->proven_cap = w->prev_received;
	int64_t page_until = w->until;
	if (p->oldest < page_until) {
		w->until = p->oldest; /* (oldest, until] is complete; fetch second `oldest` again */
		step->complete_from = p->oldest + 1;
		w->prev_one_second = 0;
	} else {
		w->until = page_until - 1; /* the whole page sat in second `until` */
		step->complete_from = page_until;
		w->prev_one_second = 1;
	}
	w->prev_oldest = p->oldest;
	w->prev_received = p->received;
	if (w->until < w->since)
		return finish(w, step);
	return SYNC_MORE;
}
