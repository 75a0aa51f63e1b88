/* test_sync_walk.c — the paging plan against simulated NIP-01 relays with silent caps, bursts and interruptions. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/sync_walk.h"

#define MAX_EVENTS 4000

/* A relay as NIP-01 describes it: the newest `min(limit, cap)` events, ties by lowest id. */
struct sim_relay {
	int n;
	int64_t created_at[MAX_EVENTS];
	int id[MAX_EVENTS]; /* stands for the event id; unique */
	uint32_t cap;
	int garbage;        /* answers every page with `cap` unusable events */
};

struct archive {
	unsigned char seen[MAX_EVENTS]; /* by index into the relay's arrays */
	int pages;
	int n_at_cap;
	int64_t at_cap[MAX_EVENTS];
	int64_t complete_from;
	enum sync_verdict verdict;
};

static int newer_first(const struct sim_relay *r, int a, int b)
{
	if (r->created_at[a] != r->created_at[b])
		return r->created_at[a] > r->created_at[b];
	return r->id[a] < r->id[b];
}

/* Answers one page: marks what it returns in *a, fills the page summary. */
static void sim_query(const struct sim_relay *r, int64_t since, int64_t until, uint32_t limit, struct archive *a,
		      struct sync_page *page)
{
	static int match[MAX_EVENTS];
	int m = 0;
	for (int i = 0; i < r->n; i++)
		if (r->created_at[i] >= since && r->created_at[i] <= until)
			match[m++] = i;
	/* selection sort of the newest `take` is enough here */
	uint32_t take = limit < r->cap ? limit : r->cap;
	memset(page, 0, sizeof(*page));
	if (r->garbage) {
		page->received = r->cap;
		return;
	}
	for (uint32_t k = 0; k < take && (int)k < m; k++) {
		int best = (int)k;
		for (int j = (int)k + 1; j < m; j++)
			if (newer_first(r, match[j], match[best]))
				best = j;
		int t = match[k];
		match[k] = match[best];
		match[best] = t;
		int e = match[k];
		a->seen[e] = 1;
		if (page->usable == 0 || r->created_at[e] < page->oldest)
			page->oldest = r->created_at[e];
		page->usable++;
		page->received++;
	}
}

/* Walks [since, top]; stops after max_pages pages (0: no limit). Returns the verdict of the last page. */
static void walk(const struct sim_relay *r, struct sync_walk *w, struct archive *a, int max_pages)
{
	int64_t s, u;
	a->verdict = SYNC_MORE;
	while (sync_walk_next(w, &s, &u) == 0) {
		if (max_pages && a->pages >= max_pages)
			return;
		struct sync_page page;
		sim_query(r, s, u, w->limit, a, &page);
		a->pages++;
		struct sync_step step;
		a->verdict = sync_walk_page(w, &page, &step);
		ck_assert_int_le(step.complete_from, a->complete_from ? a->complete_from : INT64_MAX);
		a->complete_from = step.complete_from;
		for (int i = 0; i < step.n_at_cap; i++) {
			/* the relay returned exactly its cap for the second, which is what COUNT is compared with */
			ck_assert_uint_eq(step.at_cap_n[i], r->cap);
			a->at_cap[a->n_at_cap++] = step.at_cap[i];
		}
		if (a->verdict != SYNC_MORE)
			return;
		ck_assert_int_lt(a->pages, 100000); /* the walk always moves down: it cannot loop */
	}
}

static int count_in_second(const struct sim_relay *r, int64_t sec)
{
	int c = 0;
	for (int i = 0; i < r->n; i++)
		c += r->created_at[i] == sec;
	return c;
}

static int reported(const struct archive *a, int64_t sec)
{
	for (int i = 0; i < a->n_at_cap; i++)
		if (a->at_cap[i] == sec)
			return 1;
	return 0;
}

/*
 * The guarantees: every event of [since, top] is archived unless its second holds more events
 * than the cap; every such second is reported at cap; a second reported at cap holds at least the cap.
 */
static void check_complete(const struct sim_relay *r, const struct archive *a, int64_t since, int64_t top)
{
	ck_assert_int_eq(a->verdict, SYNC_DONE);
	ck_assert_int_eq(a->complete_from, since);
	for (int i = 0; i < r->n; i++) {
		int64_t t = r->created_at[i];
		if (t < since || t > top)
			continue;
		int crowded = count_in_second(r, t) > (int)r->cap;
		if (!crowded)
			ck_assert_msg(a->seen[i], "event %d at %lld missed (cap %u)", r->id[i], (long long)t, r->cap);
		else
			ck_assert_msg(reported(a, t), "second %lld holds %d > cap %u but was not reported",
				      (long long)t, count_in_second(r, t), r->cap);
	}
	for (int i = 0; i < a->n_at_cap; i++)
		ck_assert_msg(count_in_second(r, a->at_cap[i]) >= (int)r->cap,
			      "second %lld reported truncated but holds %d < cap %u", (long long)a->at_cap[i],
			      count_in_second(r, a->at_cap[i]), r->cap);
}

static struct sim_relay relay;
static struct archive arch;

static void setup(void)
{
	memset(&relay, 0, sizeof(relay));
	memset(&arch, 0, sizeof(arch));
}

static void add(int64_t t)
{
	relay.created_at[relay.n] = t;
	relay.id[relay.n] = relay.n * 7919 % 10007; /* unique, not in time order */
	relay.n++;
}

/* Walks the window [since, top] of the simulated relay with pages of limit, to the end, and
 * checks it completed (check_complete). */
static void walk_all(int64_t since, int64_t top, int limit)
{
	struct sync_walk w;
	sync_walk_start(&w, since, top, limit, 0);
	walk(&relay, &w, &arch, 0);
	check_complete(&relay, &arch, since, top);
}

START_TEST(empty_relay_takes_one_page)
{
	relay.cap = 500;
	walk_all(100, 1000, 500);
	ck_assert_int_eq(arch.pages, 1);
}
END_TEST

START_TEST(window_holding_exactly_the_cap)
{
	relay.cap = 100;
	for (int i = 0; i < 100; i++)
		add(1000 + i);
	walk_all(0, 5000, 100);
	ck_assert_int_eq(arch.n_at_cap, 0);
}
END_TEST

/* A quiet relay: its few events in one second are not mistaken for a full page. */
START_TEST(few_events_in_one_second_are_not_at_cap)
{
	relay.cap = 500;
	for (int i = 0; i < 3; i++)
		add(4242);
	struct sync_walk w;
	sync_walk_start(&w, 0, 9000, 500, 1); /* even when NIP-11 claims a cap of 1 */
	walk(&relay, &w, &arch, 0);
	check_complete(&relay, &arch, 0, 9000);
	ck_assert_int_eq(arch.n_at_cap, 0);
}
END_TEST

START_TEST(silent_cap_below_the_limit)
{
	relay.cap = 37;
	for (int i = 0; i < 1000; i++)
		add(10000 + i * 3);
	struct sync_walk w;
	sync_walk_start(&w, 0, 20000, 500, 500); /* NIP-11 claims 500; the relay returns 37 */
	walk(&relay, &w, &arch, 0);
	check_complete(&relay, &arch, 0, 20000);
	ck_assert_int_eq(arch.n_at_cap, 0);
}
END_TEST

/* Every event of a second holding exactly the cap is archived; the walk cannot tell it from a
 * crowded second, so it reports it at cap for the caller to settle with COUNT. */
START_TEST(burst_at_the_cap_in_one_second)
{
	relay.cap = 50;
	for (int i = 0; i < 50; i++)
		add(7777);
	for (int i = 0; i < 200; i++)
		add(5000 + i);
	walk_all(0, 9000, 500);
	for (int i = 0; i < relay.n; i++)
		ck_assert(arch.seen[i]);
	ck_assert_int_eq(arch.n_at_cap, 1);
	ck_assert_int_eq(arch.at_cap[0], 7777);
}
END_TEST

START_TEST(burst_above_the_cap_is_reported)
{
	relay.cap = 50;
	for (int i = 0; i < 80; i++)
		add(7777);
	for (int i = 0; i < 200; i++)
		add(5000 + i);
	walk_all(0, 9000, 500);
	ck_assert_int_eq(arch.n_at_cap, 1);
	ck_assert_int_eq(arch.at_cap[0], 7777);
}
END_TEST

/* The crowded second is the oldest data: the cap is proven by the pages before it. */
START_TEST(crowded_oldest_second_detected_from_proven_cap)
{
	relay.cap = 40;
	for (int i = 0; i < 60; i++)
		add(3000);
	for (int i = 0; i < 300; i++)
		add(4000 + i);
	walk_all(0, 9000, 500);
	ck_assert_int_eq(arch.n_at_cap, 1);
	ck_assert_int_eq(arch.at_cap[0], 3000);
}
END_TEST

START_TEST(events_outside_the_window_are_not_asked)
{
	relay.cap = 10;
	for (int i = 0; i < 30; i++)
		add(i * 100);
	walk_all(1000, 2000, 10);
	for (int i = 0; i < relay.n; i++)
		if (relay.created_at[i] < 1000 || relay.created_at[i] > 2000)
			ck_assert(!arch.seen[i]);
}
END_TEST

START_TEST(garbage_stalls_without_progress)
{
	relay.cap = 20;
	relay.garbage = 1;
	struct sync_walk w;
	sync_walk_start(&w, 0, 9000, 20, 0);
	walk(&relay, &w, &arch, 0);
	ck_assert_int_eq(arch.verdict, SYNC_STALLED);
	ck_assert_int_eq(arch.complete_from, 9001); /* nothing below top is claimed complete */
}
END_TEST

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng_state >> 33) % n;
}

static void random_relay(void)
{
	memset(&relay, 0, sizeof(relay));
	relay.cap = 1 + rnd(60);
	int n = (int)rnd(1500);
	int64_t base = rnd(100000);
	int spread = 1 + (int)rnd(3000);
	for (int i = 0; i < n; i++) {
		int64_t t = base + rnd((uint32_t)spread);
		if (rnd(10) == 0) /* bursts: several events in one second */
			for (int k = rnd(2 * relay.cap); k > 0 && relay.n < MAX_EVENTS - 1; k--)
				add(t);
		if (relay.n < MAX_EVENTS)
			add(t);
	}
}

/* Random relays, caps, limits and windows: the guarantees always hold. */
START_TEST(random_relays_keep_the_guarantees)
{
	rng_state = 0x9e3779b97f4a7c15ULL + (uint64_t)_i;
	random_relay();
	memset(&arch, 0, sizeof(arch));
	uint32_t limit = 1 + rnd(100);
	int64_t since = rnd(100000), top = since + rnd(5000);
	struct sync_walk w;
	sync_walk_start(&w, since, top, limit, rnd(2) ? 0 : 1 + rnd(200));
	if (limit < relay.cap)
		relay.cap = limit; /* the relay returns min(limit, cap): model that as its cap */
	walk(&relay, &w, &arch, 0);
	check_complete(&relay, &arch, since, top);
}
END_TEST

/* Interrupted after any page, resumed from the committed progress: the same complete archive. */
START_TEST(interrupted_and_resumed_walks_have_no_gap)
{
	rng_state = 0x51ed2701ULL + (uint64_t)_i;
	random_relay();
	uint32_t limit = 1 + rnd(100);
	if (limit < relay.cap)
		relay.cap = limit;
	int64_t since = 0, top = 200000;
	struct sync_walk w;
	sync_walk_start(&w, since, top, limit, 0);
	memset(&arch, 0, sizeof(arch));
	int stop_after = 1 + (int)rnd(20);
	walk(&relay, &w, &arch, stop_after);
	while (arch.verdict == SYNC_MORE) {
		/* a new pass: only the committed progress survives, plus what was archived */
		int64_t from = arch.complete_from ? arch.complete_from : top + 1;
		sync_walk_resume(&w, since, top, from, limit, 0);
		arch.pages = 0;
		walk(&relay, &w, &arch, 1 + (int)rnd(20));
	}
	ck_assert_int_eq(arch.verdict, SYNC_DONE);
	for (int i = 0; i < relay.n; i++)
		if (count_in_second(&relay, relay.created_at[i]) <= (int)relay.cap)
			ck_assert_msg(arch.seen[i], "event at %lld missed after resume", (long long)relay.created_at[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sync_walk");
	TCase *tc = tcase_create("sync_walk");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, empty_relay_takes_one_page);
	tcase_add_test(tc, window_holding_exactly_the_cap);
	tcase_add_test(tc, few_events_in_one_second_are_not_at_cap);
	tcase_add_test(tc, silent_cap_below_the_limit);
	tcase_add_test(tc, burst_at_the_cap_in_one_second);
	tcase_add_test(tc, burst_above_the_cap_is_reported);
	tcase_add_test(tc, crowded_oldest_second_detected_from_proven_cap);
	tcase_add_test(tc, events_outside_the_window_are_not_asked);
	tcase_add_test(tc, garbage_stalls_without_progress);
	tcase_add_loop_test(tc, random_relays_keep_the_guarantees, 0, 300);
	tcase_add_loop_test(tc, interrupted_and_resumed_walks_have_no_gap, 0, 100);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
