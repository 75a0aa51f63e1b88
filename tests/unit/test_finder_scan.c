/* test_finder_scan.c — which strings of an archived event the finder takes as relay URLs, and from where; its URL sets. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/finder_batch.h"
#include "services/finder_scan.h"

struct seen {
	char urls[16][FINDER_STR_MAX + 1];
	enum finder_source src[16];
	size_t lens[16];
	size_t n;
};

static void on_url(void *user, enum finder_source src, const char *s, size_t len)
{
	struct seen *w = user;
	ck_assert_uint_lt(w->n, 16);
	w->src[w->n] = src;
	w->lens[w->n] = len;
	if (s)
		memcpy(w->urls[w->n], s, len);
	w->urls[w->n][s ? len : 0] = '\0';
	w->n++;
}

static int scan(struct seen *w, int32_t kind, const char *tags, const char *content, const char *tagvalues)
{
	struct json_doc doc;
	struct finder_event ev = { kind, tags, content, tagvalues };
	json_doc_init(&doc);
	memset(w, 0, sizeof(*w));
	int n = finder_scan_event(&doc, &ev, on_url, w);
	json_doc_free(&doc);
	return n;
}

START_TEST(relay_list_r_tags_and_hints)
{
	struct seen w;
	ck_assert_int_eq(scan(&w, 10002, "[[\"r\", \"wss://a.com\"], [\"r\",\"wss://b.com\",\"read\"], [\"x\",\"wss://no.com\"],"
					 " [\"p\",\"00\",\"wss://h\\u002ecom\"], [\"e\",\"00\",\"\"], [\"r\"], \"junk\"]",
			      "", NULL),
			 3);
	ck_assert_str_eq(w.urls[0], "wss://a.com");
	ck_assert_int_eq(w.src[0], FINDER_R_TAG);
	ck_assert_str_eq(w.urls[1], "wss://b.com");
	ck_assert_str_eq(w.urls[2], "wss://h.com"); /* escapes decoded */
	ck_assert_int_eq(w.src[2], FINDER_HINT);
	/* an r tag outside kind 10002 is a web link, not a relay */
	ck_assert_int_eq(scan(&w, 1, "[[\"r\",\"wss://a.com\"],[\"q\",\"00\",\"wss://q.com\"],[\"a\",\"1:x:y\",\"ws://a2.com\"]]",
			      "", NULL),
			 2);
	ck_assert_str_eq(w.urls[0], "wss://q.com");
	ck_assert_str_eq(w.urls[1], "ws://a2.com");
}
END_TEST

START_TEST(nip51_lists_and_nip66)
{
	struct seen w;
	ck_assert_int_eq(scan(&w, 10050, "[[\"relay\",\"wss://dm.com\"],[\"r\",\"wss://not.com\"]]", "", NULL), 1);
	ck_assert_int_eq(w.src[0], FINDER_RELAY_TAG);
	ck_assert_int_eq(scan(&w, 30002, "[[\"d\",\"set\"],[\"relay\",\"wss://s.com\"]]", "", NULL), 1);
	ck_assert_int_eq(scan(&w, 30166, "[[\"d\",\"wss://m.com/\"],[\"n\",\"clearnet\"]]", "", NULL), 1);
	ck_assert_int_eq(w.src[0], FINDER_NIP66);
	ck_assert_str_eq(w.urls[0], "wss://m.com/");
	/* a d tag of another addressable kind is no relay */
	ck_assert_int_eq(scan(&w, 30023, "[[\"d\",\"wss://article\"]]", "", NULL), 0);
}
END_TEST

START_TEST(contact_list_and_recommend_content)
{
	struct seen w;
	ck_assert_int_eq(scan(&w, 3, "[[\"p\",\"00\"]]", "{\"wss://k1.com\":{\"read\":true,\"write\":true},\"wss://k2.com/\":{}}",
			      NULL),
			 2);
	ck_assert_int_eq(w.src[0], FINDER_CONTACTS);
	ck_assert_str_eq(w.urls[1], "wss://k2.com/");
	/* content that is not a JSON object names nothing and is no error */
	ck_assert_int_eq(scan(&w, 3, "[]", "not json", NULL), 0);
	ck_assert_int_eq(scan(&w, 3, "[]", "[\"wss://x.com\"]", NULL), 0);
	ck_assert_int_eq(scan(&w, 3, "[]", "", NULL), 0);
	ck_assert_int_eq(scan(&w, 2, "[]", " wss://rec.com ", NULL), 1);
	ck_assert_int_eq(w.src[0], FINDER_RECOMMEND);
	ck_assert_str_eq(w.urls[0], " wss://rec.com ");
	/* content of another kind is never read */
	ck_assert_int_eq(scan(&w, 1, "[]", "wss://note.com", NULL), 0);
}
END_TEST

START_TEST(lilbrotr_tagvalues)
{
	struct seen w;
	ck_assert_int_eq(scan(&w, 10002, NULL, NULL, "[\"wss://a.com\",\"wss://b.com\"]"), 2);
	ck_assert_int_eq(w.src[1], FINDER_R_TAG);
	ck_assert_int_eq(scan(&w, 30166, NULL, NULL, "[\"wss://m.com\",\"clearnet\",\"auth\",\"120\"]"), 1);
	ck_assert_int_eq(w.src[0], FINDER_NIP66);
	ck_assert_int_eq(scan(&w, 1, NULL, NULL, "[\"wss://a.com\"]"), 0); /* hints are not kept there */
}
END_TEST

START_TEST(bounds_and_bad_columns)
{
	struct seen w;
	char *tags = malloc(FINDER_STR_MAX + 64);
	ck_assert_ptr_nonnull(tags);
	size_t head = (size_t)snprintf(tags, 32, "[[\"r\",\"wss://");
	memset(tags + head, 'a', FINDER_STR_MAX);
	strcpy(tags + head + FINDER_STR_MAX, "\"]]");
	ck_assert_int_eq(scan(&w, 10002, tags, "", NULL), 1);
	ck_assert_uint_gt(w.lens[0], FINDER_STR_MAX); /* reported as too long, not decoded */
	ck_assert_str_eq(w.urls[0], "");
	free(tags);
	ck_assert_int_eq(scan(&w, 10002, "{\"r\":1}", "", NULL), -1);
	ck_assert_int_eq(scan(&w, 10002, "[[\"r\",", "", NULL), -1);
	ck_assert_int_eq(scan(&w, 10002, NULL, NULL, NULL), 0);
}
END_TEST

START_TEST(batch_keeps_each_url_once_and_memo_remembers)
{
	struct finder_batch b = { 0 };
	struct finder_memo m = { 0 };
	struct relay_url u;
	const char *why;
	char url[64];
	for (int i = 0; i < 3000; i++) { /* past several growths of the table */
		snprintf(url, sizeof(url), "wss://r%d.com", i % 1000);
		ck_assert_int_eq(relay_url_parse(url, strlen(url), 0, &u, &why), 0);
		ck_assert_int_eq(finder_batch_add(&b, &u, FINDER_HINT, "ab"), i < 1000 ? 1 : 0);
		ck_assert_int_eq(finder_batch_seq(&b, i), 0);
	}
	ck_assert_uint_eq(b.n, 1000);
	ck_assert_uint_eq(b.n_seqs, 3000);
	ck_assert_str_eq(b.cands[999].url, "wss://r999.com");
	ck_assert_str_eq(b.cands[0].event_id, "ab");
	ck_assert_int_eq(relay_url_parse("ws://x.onion", 12, 0, &u, &why), -1); /* v2-length: rejected */
	ck_assert_int_eq(finder_memo_has(&m, "wss://r1.com"), 0);
	for (size_t i = 0; i < b.n; i++)
		finder_memo_add(&m, b.cands[i].url);
	ck_assert_int_eq(finder_memo_has(&m, "wss://r1.com"), 1);
	ck_assert_int_eq(finder_memo_has(&m, "wss://r1000.com"), 0);
	ck_assert_uint_eq(m.n, 1000);
	finder_memo_add(&m, "wss://r1.com");
	ck_assert_uint_eq(m.n, 1000);
	for (int i = 0; i < FINDER_MEMO_MAX + 5000; i++) { /* bounded: past the cap, nothing more is kept */
		snprintf(url, sizeof(url), "wss://m%d.com", i);
		finder_memo_add(&m, url);
	}
	ck_assert_uint_eq(m.n, FINDER_MEMO_MAX);
	ck_assert_int_eq(finder_memo_has(&m, "wss://r1.com"), 1);
	ck_assert_int_eq(finder_memo_has(&m, "wss://m70000.com"), 0);
	finder_batch_free(&b);
	finder_memo_free(&m);
}
END_TEST

START_TEST(http_source_paths)
{
	struct seen w;
	struct json_doc doc;
	json_doc_init(&doc);
	const char *list = "[\"wss://a.com\", 7, \"wss://b.com\"]";
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(finder_scan_json(&doc, list, strlen(list), "", on_url, &w), 2);
	ck_assert_int_eq(w.src[1], FINDER_HTTP);
	const char *nested = "{\"relays\":[{\"url\":\"wss://c.com\"},{\"url\":1},{\"x\":\"wss://no.com\"},"
			     "{\"url\":\"wss://d.com\"}],\"other\":[\"wss://no.com\"]}";
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(finder_scan_json(&doc, nested, strlen(nested), "relays.*.url", on_url, &w), 2);
	ck_assert_str_eq(w.urls[0], "wss://c.com");
	ck_assert_str_eq(w.urls[1], "wss://d.com");
	const char *keyed = "{\"wss://e.com\":{\"ok\":true},\"wss://f.com\":{}}";
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(finder_scan_json(&doc, keyed, strlen(keyed), "online", on_url, &w), 0);
	memset(&w, 0, sizeof(w));
	const char *online = "{\"online\":[\"wss://g.com\"]}";
	ck_assert_int_eq(finder_scan_json(&doc, online, strlen(online), "online", on_url, &w), 1);
	ck_assert_int_eq(finder_scan_json(&doc, "<html>", 6, "", on_url, &w), -1);
	json_doc_free(&doc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("finder_scan");
	TCase *tc = tcase_create("finder_scan");
	tcase_add_test(tc, relay_list_r_tags_and_hints);
	tcase_add_test(tc, nip51_lists_and_nip66);
	tcase_add_test(tc, contact_list_and_recommend_content);
	tcase_add_test(tc, lilbrotr_tagvalues);
	tcase_add_test(tc, bounds_and_bad_columns);
	tcase_add_test(tc, batch_keeps_each_url_once_and_memo_remembers);
	tcase_add_test(tc, http_source_paths);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
