/* test_sync_windows.c — windows walked at the same time over a simulated relay, committed at random, interrupted at random: no gap, ever. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/sync_windows.h"

#define MAX_EVENTS 3000

/* A relay as NIP-01 describes it: the newest min(limit, cap) events of a window, ties by lowest id
 * (the ids are the indexes, created_at ascending with them). */
struct sim {
	int n;
	int64_t at[MAX_EVENTS];
	uint32_t cap;
	unsigned char pending[MAX_EVENTS];   /* fetched, in a batch not committed yet */
	unsigned char committed[MAX_EVENTS]; /* fetched and committed */
	int64_t at_cap[64];                  /* seconds the walks reported as filling the cap */
	int n_at_cap;
	int crowded; /* a second holds more than the cap: what it holds past it cannot be claimed */
};

/* What relay_sync_progress and relay_sync_windows hold. */
struct sim_db {
	struct db_sync_progress p;
	int commits;
};

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

static void sim_make(struct sim *r, uint32_t *seed, int n, int64_t span)
{
	memset(r, 0, sizeof(*r));
	r->n = n;
	for (int i = 0; i < n; i++)
		r->at[i] = (int64_t)(rnd(seed) % (uint32_t)span);
	for (int i = 1; i < n; i++) /* sort ascending: index order is the tie order */
		for (int j = i; j > 0 && r->at[j - 1] > r->at[j]; j--) {
			int64_t t = r->at[j];
			r->at[j] = r->at[j - 1];
			r->at[j - 1] = t;
		}
	r->cap = 40;
}

/* One page: the newest min(limit, cap) events in [since, until]; their oldest and newest. */
static void sim_page(struct sim *r, int64_t since, int64_t until, uint32_t limit, struct sync_page *pg, int64_t *newest)
{
	uint32_t take = limit < r->cap ? limit : r->cap, got = 0;
	memset(pg, 0, sizeof(*pg));
	*newest = -1;
	for (int i = r->n - 1; i >= 0 && got < take; i--) {
		if (r->at[i] < since || r->at[i] > until)
			continue;
		if (!r->committed[i])
			r->pending[i] = 1;
		if (*newest < 0)
			*newest = r->at[i];
		pg->oldest = r->at[i];
		got++;
	}
	pg->received = pg->usable = got;
}

static void check_claims(const struct sim *r, const struct sim_db *db, int64_t floor)
{
	if (r->crowded)
		return;
	for (int i = 0; i < r->n; i++) {
		int claimed = r->at[i] >= floor && r->at[i] <= db->p.synced_until;
		for (size_t k = 0; k < db->p.n_windows; k++)
			claimed |= r->at[i] >= db->p.window[k].complete_from && r->at[i] <= db->p.window[k].top;
		ck_assert_msg(!claimed || r->committed[i], "event %d at %lld claimed but not committed", i,
			      (long long)r->at[i]);
	}
}

/* What set_relay_sync_progress does with a commit. */
static void sim_commit(struct sim *r, struct sim_db *db, struct sync_windows *s, int64_t floor)
{
	struct db_sync_progress c;
	for (int i = 0; i < r->n; i++)
		if (r->pending[i])
			r->committed[i] = 1, r->pending[i] = 0;
	if (!sync_windows_progress(s, &c))
		return;
	db->commits++;
	if (c.synced_until > db->p.synced_until)
		db->p.synced_until = c.synced_until;
	for (size_t k = 0; k < c.n_windows; k++) {
		size_t j = 0;
		while (j < db->p.n_windows && db->p.window[j].top != c.window[k].top)
			j++;
		if (j == db->p.n_windows) {
			ck_assert_uint_lt(db->p.n_windows, DB_SYNC_WINDOWS_MAX);
			db->p.window[db->p.n_windows++] = c.window[k];
		} else {
			db->p.window[j].since = c.window[k].since;
			if (c.window[k].complete_from < db->p.window[j].complete_from)
				db->p.window[j].complete_from = c.window[k].complete_from;
		}
		ck_assert_int_le(c.window[k].since, c.window[k].complete_from);
	}
	size_t m = 0;
	for (size_t k = 0; k < db->p.n_windows; k++)
		if (db->p.synced_until < 0 || db->p.window[k].top > db->p.synced_until)
			db->p.window[m++] = db->p.window[k];
	db->p.n_windows = m;
	check_claims(r, db, floor);
}

/* A random walking window's next page; returns 0 when nothing walks. */
static int one_page(struct sim *r, struct sync_windows *s, size_t slots, uint32_t *seed)
{
	int walking[DB_SYNC_WINDOWS_MAX], n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->win[i].state == SYNC_WIN_WALKING)
			walking[n++] = (int)i;
	if (n == 0)
		return 0;
	int i = walking[rnd(seed) % (uint32_t)n];
	int64_t since, until, newest;
	if (sync_walk_next(&s->win[i].walk, &since, &until) < 0) {
		s->win[i].state = SYNC_WIN_DONE;
		return 1;
	}
	struct sync_page pg;
	struct sync_step st;
	sim_page(r, since, until, s->limit, &pg, &newest);
	enum sync_verdict v = sync_walk_page(&s->win[i].walk, &pg, &st);
	for (int k = 0; k < st.n_at_cap && r->n_at_cap < 64; k++)
		r->at_cap[r->n_at_cap++] = st.at_cap[k];
	sync_windows_step(s, i, v, &st, newest);
	size_t busy = sync_windows_count(s, SYNC_WIN_WALKING) + sync_windows_count(s, SYNC_WIN_WAITING);
	if (v == SYNC_MORE)
		sync_windows_split(s, i, busy < slots ? slots - busy : 0);
	return 1;
}

/* One pass; returns 1 when it ran to the end, 0 when it was interrupted. */
static int pass(struct sim *r, struct sim_db *db, int64_t floor, int64_t overlap, int64_t top, uint32_t limit,
		size_t slots, uint32_t *seed, size_t *most_walking)
{
	struct sync_windows s;
	sync_windows_plan(&s, &db->p, floor, overlap, top, limit);
	for (;;) {
		int w;
		while (sync_windows_count(&s, SYNC_WIN_WALKING) < slots && (w = sync_windows_next(&s)) >= 0)
			sync_windows_start(&s, w);
		size_t now = sync_windows_count(&s, SYNC_WIN_WALKING);
		if (now > *most_walking)
			*most_walking = now;
		ck_assert_uint_le(now, slots);
		if (!one_page(r, &s, slots, seed))
			break;
		if (rnd(seed) % 5 == 0)
			sim_commit(r, db, &s, floor);
		if (rnd(seed) % 97 == 0) { /* killed: what was not committed is lost */
			memset(r->pending, 0, sizeof(r->pending));
			return 0;
		}
	}
	sim_commit(r, db, &s, floor);
	return 1;
}

START_TEST(test_windows_never_leave_a_gap)
{
	uint32_t seed = 7u + (uint32_t)_i * 7919u;
	static struct sim r;
	/* at least a second per event on average: no second holds more than the cap (those are the
	 * walk's own business, reported as at the cap) */
	int n = 200 + (int)(rnd(&seed) % 2500);
	sim_make(&r, &seed, n, n + (int64_t)(rnd(&seed) % 20000));
	struct sim_db db = { .p = { .synced_until = -1 } };
	int64_t floor = rnd(&seed) % 3 == 0 ? (int64_t)(rnd(&seed) % 500) : 0;
	int64_t overlap = (int64_t)(rnd(&seed) % 100), top = 25000;
	uint32_t limit = 20 + rnd(&seed) % 200;
	size_t slots = 1 + rnd(&seed) % 16, most = 0;
	int passes = 0;
	while (passes < 400 && !(pass(&r, &db, floor, overlap, top, limit, slots, &seed, &most) &&
				 db.p.synced_until >= top)) {
		passes++;
		top += (int64_t)(rnd(&seed) % 3); /* a later pass starts later */
	}
	ck_assert_msg(db.p.synced_until >= top, "not complete after %d passes", passes);
	ck_assert_uint_eq(db.p.n_windows, 0);
	for (int i = 0; i < r.n; i++)
		ck_assert_msg(r.at[i] < floor || r.committed[i], "event %d at %lld never archived", i, (long long)r.at[i]);
	if (slots > 1 && r.n > 1000 && limit < 100)
		ck_assert_uint_gt(most, 1); /* a dense relay is walked by several windows at once */
}
END_TEST

/* The plan resumes what a killed pass left, then walks from just below the highest archived second. */
START_TEST(test_plan_resumes_then_walks_on)
{
	struct db_sync_progress p = { .synced_until = 99, .n_windows = 3 };
	p.window[0] = (struct db_sync_window){ 100, 199, 150 }; /* half done */
	p.window[1] = (struct db_sync_window){ 200, 299, 200 }; /* whole, waiting for the gap below */
	p.window[2] = (struct db_sync_window){ 300, 399, 400 }; /* nothing yet */
	struct sync_windows s;
	sync_windows_plan(&s, &p, 0, 10, 1000, 100);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_int_eq(s.win[0].state, SYNC_WIN_WAITING);
	ck_assert_int_eq(s.win[1].state, SYNC_WIN_DONE);
	ck_assert_int_eq(s.win[2].state, SYNC_WIN_WAITING);
	ck_assert_int_eq(s.win[3].w.since, 390); /* 399 + 1 - 10 */
	ck_assert_int_eq(s.win[3].w.top, 1000);
	ck_assert_int_eq(sync_windows_next(&s), 0);
	ck_assert_int_eq(sync_windows_walk_from(&s), 150);
	/* Window 0 completes: synced_until runs over it and the whole window 1, no further. */
	struct sync_step st = { .complete_from = 100 };
	sync_windows_start(&s, 0);
	sync_windows_step(&s, 0, SYNC_DONE, &st, 120);
	struct db_sync_progress c;
	ck_assert_int_eq(sync_windows_progress(&s, &c), 1);
	ck_assert_int_eq(c.synced_until, 299);
	ck_assert_uint_eq(c.n_windows, 0); /* window 0 is merged: nothing of it to record */
	ck_assert_int_eq(sync_windows_progress(&s, &c), 0);
	/* A recorded window already ending at the pass's start: no second one. */
	p.window[2].top = 1000;
	sync_windows_plan(&s, &p, 0, 10, 1000, 100);
	ck_assert_uint_eq(s.n, 3);
	/* Nothing recorded: one window from since. */
	struct db_sync_progress none = { .synced_until = -1 };
	sync_windows_plan(&s, &none, 50, 10, 1000, 100);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_int_eq(s.win[0].w.since, 50);
	ck_assert_int_eq(s.win[0].w.complete_from, 1001);
}
END_TEST

/* A window that met a dense stretch gives its lower part to the free slots, in the same commit. */
START_TEST(test_split_by_density)
{
	struct db_sync_progress none = { .synced_until = -1 };
	struct sync_windows s;
	sync_windows_plan(&s, &none, 0, 0, 100000, 100);
	sync_windows_start(&s, 0);
	/* A first page of 100 events from 100000 down to 99901: a hundred seconds a page. */
	struct sync_page pg = { 100, 100, 99901 };
	struct sync_step st;
	enum sync_verdict v = sync_walk_page(&s.win[0].walk, &pg, &st);
	ck_assert_int_eq(v, SYNC_MORE);
	sync_windows_step(&s, 0, v, &st, 100000);
	ck_assert_uint_eq(sync_windows_split(&s, 0, 0), 0); /* no free slot */
	ck_assert_uint_eq(sync_windows_split(&s, 0, 3), 3);
	ck_assert_uint_eq(s.n, 4);
	int64_t covered = 0;
	for (size_t i = 0; i < s.n; i++)
		covered += s.win[i].w.top - s.win[i].w.since + 1;
	ck_assert_int_eq(covered, 100001);
	ck_assert_int_eq(s.win[0].w.top, 100000);
	ck_assert_int_eq(s.win[0].walk.since, s.win[0].w.since);
	struct db_sync_progress c;
	ck_assert_int_eq(sync_windows_progress(&s, &c), 1);
	ck_assert_uint_eq(c.n_windows, 4); /* the raised since and the three new windows together */
	/* A sparse window (the same page spread over the whole range) is not worth splitting. */
	sync_windows_plan(&s, &none, 0, 0, 100000, 100);
	sync_windows_start(&s, 0);
	struct sync_page sparse = { 100, 100, 2000 };
	v = sync_walk_page(&s.win[0].walk, &sparse, &st);
	sync_windows_step(&s, 0, v, &st, 100000);
	ck_assert_uint_eq(sync_windows_split(&s, 0, 7), 0);
}
END_TEST

/* A second that fills the cap is still found when windows split around it: no split while the walk
 * is deciding that second, and what one window learnt of the cap every window knows. */
START_TEST(test_second_at_cap_survives_splits)
{
	static struct sim r;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 20; i++)
		r.at[r.n++] = 7000 + i * 45;
	for (int i = 0; i < 40; i++)
		r.at[r.n++] = 8000;
	r.cap = 25;
	r.crowded = 1;
	struct sim_db db = { .p = { .synced_until = -1 } };
	uint32_t seed = 1;
	size_t most = 0;
	for (int passes = 0; passes < 50 && db.p.synced_until < 1800000000; passes++)
		pass(&r, &db, 0, 0, 1800000000, 500, 8, &seed, &most);
	ck_assert_int_eq(db.p.synced_until, 1800000000);
	int found = 0;
	for (int k = 0; k < r.n_at_cap; k++)
		found |= r.at_cap[k] == 8000;
	ck_assert_msg(found, "second 8000 (40 events, cap 25) not reported at the cap");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sync_windows");
	TCase *tc = tcase_create("windows");
	tcase_add_loop_test(tc, test_windows_never_leave_a_gap, 0, 300);
	tcase_add_test(tc, test_plan_resumes_then_walks_on);
	tcase_add_test(tc, test_split_by_density);
	tcase_add_test(tc, test_second_at_cap_survives_splits);
	tcase_set_timeout(tc, 0);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
