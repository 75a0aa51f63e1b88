/* test_auth.c — the client side of NIP-42 (services/auth.c): the [auth] key, a session's challenge, answer and OK. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "nostr/verify.h"
#include "services/auth.h"

#define SECRET "0000000000000000000000000000000000000000000000000000000000000003"

static struct nostr_ctx *ctx;
static struct json_doc doc;
static struct nostr_msg msg;
static struct nostr_event ev;

static void setup(void)
{
	ctx = nostr_ctx_new();
	json_doc_init(&doc);
	nostr_msg_init(&msg);
	nostr_event_init(&ev);
}

static void teardown(void)
{
	nostr_event_free(&ev);
	nostr_msg_free(&msg);
	json_doc_free(&doc);
	nostr_ctx_free(ctx);
}

static void parse(const char *text)
{
	struct nostr_err err = { 0 };
	ck_assert_int_eq(nostr_msg_parse(&msg, &doc, &ev, text, strlen(text), &err), 0);
}

static void identity(struct auth_identity *id, const char *secret, int enabled)
{
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.auth.private_key = (char *)secret;
	cfg.auth.enabled = enabled;
	ck_assert_int_eq(auth_identity_load(id, ctx, &cfg), 0);
}

START_TEST(test_answer_and_ok)
{
	struct auth_identity id;
	struct auth_session s;
	struct buf out;
	char ok[200], hex[65];
	buf_init(&out);
	identity(&id, SECRET, 1);
	ck_assert_int_eq(id.usable, 1);
	auth_session_init(&s, &id);
	parse("[\"AUTH\",\"abc\"]");
	ck_assert_int_eq(auth_session_challenge(&s, "ws://r.example", &msg, 1700000000, &out), 1);
	ck_assert_int_eq(s.state, AUTH_SENT);
	/* the message is ["AUTH",<event>]: a valid kind-22242 event with both tags */
	ck_assert_mem_eq(out.data, "[\"AUTH\",", 8);
	struct nostr_err err = { 0 };
	ck_assert_int_eq(nostr_event_parse(&ev, &doc, out.data + 8, out.len - 9, &err), 0);
	ck_assert_int_eq(nostr_event_verify(ctx, &ev, &err), 0);
	ck_assert_uint_eq(ev.kind, 22242);
	ck_assert_str_eq(nostr_event_tag_item(&ev, (size_t)nostr_event_find_tag(&ev, "challenge"), 1)->s, "abc");
	ck_assert_str_eq(nostr_event_tag_item(&ev, (size_t)nostr_event_find_tag(&ev, "relay"), 1)->s, "ws://r.example");
	hex_encode(s.event_id, 32, hex);
	/* an OK for another event is not ours */
	parse("[\"OK\",\"0000000000000000000000000000000000000000000000000000000000000001\",true,\"\"]");
	ck_assert_int_eq(auth_session_ok(&s, &msg), 0);
	snprintf(ok, sizeof(ok), "[\"OK\",\"%s\",false,\"restricted: not on the list\"]", hex);
	parse(ok);
	ck_assert_int_eq(auth_session_ok(&s, &msg), 1);
	ck_assert_int_eq(s.state, AUTH_REFUSED);
	ck_assert_str_eq(s.reason, "restricted: not on the list");
	ck_assert_str_eq(auth_state_name(s.state), "refused");
	/* a renewed challenge is answered again, and accepted this time */
	buf_reset(&out);
	parse("[\"AUTH\",\"def\"]");
	ck_assert_int_eq(auth_session_challenge(&s, "ws://r.example", &msg, 1700000001, &out), 1);
	hex_encode(s.event_id, 32, hex);
	snprintf(ok, sizeof(ok), "[\"OK\",\"%s\",true,\"\"]", hex);
	parse(ok);
	ck_assert_int_eq(auth_session_ok(&s, &msg), 1);
	ck_assert_int_eq(s.state, AUTH_ACCEPTED);
	ck_assert_str_eq(s.reason, "");
	auth_identity_wipe(&id);
	buf_free(&out);
}
END_TEST

START_TEST(test_no_key_and_disabled)
{
	struct auth_identity id;
	struct auth_session s;
	struct buf out;
	buf_init(&out);
	parse("[\"AUTH\",\"abc\"]");
	identity(&id, "", 1);
	ck_assert_int_eq(id.usable, 0);
	auth_session_init(&s, &id);
	ck_assert_int_eq(auth_session_challenge(&s, "ws://r", &msg, 1, &out), 0);
	ck_assert_int_eq(s.state, AUTH_NO_KEY);
	ck_assert_uint_eq(out.len, 0);
	identity(&id, SECRET, 0); /* a key, but [auth] enabled = false */
	ck_assert_int_eq(id.usable, 0);
	auth_session_init(&s, NULL);
	ck_assert_int_eq(auth_session_challenge(&s, "ws://r", &msg, 1, &out), 0);
	ck_assert_str_eq(auth_state_name(s.state), "no-key");
	ck_assert_int_eq(auth_session_required(&s, "auth-required: sign in", 22), 1);
	ck_assert_int_eq(s.required, 1);
	auth_session_init(&s, NULL);
	ck_assert_int_eq(auth_session_required(&s, "auth-required", 13), 0);
	ck_assert_int_eq(auth_session_required(&s, "restricted: auth-required:", 26), 0);
	ck_assert_int_eq(s.required, 0);
	buf_free(&out);
}
END_TEST

START_TEST(test_check_config)
{
	struct config cfg;
	char err[200] = "";
	memset(&cfg, 0, sizeof(cfg));
	cfg.auth.private_key = (char *)"nsec1notakey";
	ck_assert_int_eq(auth_check_config(&cfg, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "BROTR_AUTH_PRIVATE_KEY"));
	ck_assert_ptr_null(strstr(err, "nsec1notakey"));
	cfg.auth.private_key = (char *)SECRET;
	ck_assert_int_eq(auth_check_config(&cfg, err, sizeof(err)), 0);
	cfg.auth.private_key = (char *)"";
	ck_assert_int_eq(auth_check_config(&cfg, err, sizeof(err)), 0);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("auth");
	TCase *tc = tcase_create("auth");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_answer_and_ok);
	tcase_add_test(tc, test_no_key_and_disabled);
	tcase_add_test(tc, test_check_config);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
