/* test_nostr_keys.c — keys (hex, nsec, ephemeral), NIP-19 bech32, signing events, NIP-13 proof of work. */
#include <check.h>
#include <string.h>

#include "nostr/bech32.h"
#include "nostr/keys.h"
#include "nostr/pow.h"
#include "nostr/verify.h"
#include "nostr_fixtures.h"

static struct nostr_ctx *ctx;

static void setup(void)
{
	ctx = nostr_ctx_new();
	ck_assert_ptr_nonnull(ctx);
}

static void teardown(void)
{
	nostr_ctx_free(ctx);
}

/* keys.tsv comes from nostr-tools: hex secret, nsec, hex public key, npub. */
START_TEST(test_keys_fixture)
{
	struct lines l;
	lines_read(&l, "tests/fixtures/nostr/keys.tsv");
	ck_assert_uint_ge(l.n, 3);
	for (size_t i = 0; i < l.n; i++) {
		char *f[4];
		ck_assert_int_eq(split_tabs(l.line[i], f, 4), 4);
		struct nostr_key a, b;
		struct nostr_err err = { 0 };
		char hex[65], npub[100], nsec[100];
		unsigned char sk[32], pk[32];
		ck_assert_int_eq(nostr_key_from_str(ctx, &a, f[0], &err), 0);
		ck_assert_int_eq(nostr_key_from_str(ctx, &b, f[1], &err), 0);
		hex_encode(a.pubkey, 32, hex);
		ck_assert_str_eq(hex, f[2]);
		ck_assert_mem_eq(a.pubkey, b.pubkey, 32);
		ck_assert_int_eq(nip19_encode32("npub", a.pubkey, npub, sizeof(npub)), 0);
		ck_assert_str_eq(npub, f[3]);
		nostr_key_secret(ctx, &b, sk);
		ck_assert_int_eq(nip19_encode32("nsec", sk, nsec, sizeof(nsec)), 0);
		ck_assert_str_eq(nsec, f[1]);
		ck_assert_int_eq(nip19_decode32(f[3], "npub", pk), 0);
		ck_assert_mem_eq(pk, a.pubkey, 32);
		ck_assert_int_eq(nip19_decode32(f[3], "nsec", pk), -1); /* wrong prefix */
		nostr_key_wipe(&a);
		nostr_key_wipe(&b);
	}
	lines_free(&l);
}
END_TEST

/* The examples printed in NIP-19. */
START_TEST(test_nip19_examples)
{
	unsigned char out[32];
	char hex[65];
	ck_assert_int_eq(nip19_decode32("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg", "npub", out), 0);
	hex_encode(out, 32, hex);
	ck_assert_str_eq(hex, "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e");
	ck_assert_int_eq(nip19_decode32("NPUB10ELFCS4FR0L0R8AF98JLMGDH9C8TCXJVZ9QKW038JS35MP4DMA8QZVJPTG", "npub", out), 0);
	ck_assert_int_eq(nip19_decode32("nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5", "nsec", out), 0);
	hex_encode(out, 32, hex);
	ck_assert_str_eq(hex, "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa");
}
END_TEST

START_TEST(test_bad_keys)
{
	static const char *bad[] = {
		"",
		"nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe6", /* checksum */
		"nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9LAQSNLFE5", /* mixed case */
		"npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg", /* a public key */
		"nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe",  /* truncated */
		"nsec1", "1qqqqqq", "nsec1bqqqqqqq",
		"67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffg", /* not hex */
		"67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ff",  /* 63 */
		"0000000000000000000000000000000000000000000000000000000000000000", /* zero */
		"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", /* the curve order */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nostr_key k;
		struct nostr_err err = { 0 };
		ck_assert_msg(nostr_key_from_str(ctx, &k, bad[i], &err) == -1, "accepted %s", bad[i]);
		ck_assert_int_eq(err.code, NOSTR_E_ARG);
	}
	char out[200];
	unsigned char data[32] = { 0 };
	ck_assert_int_eq(bech32_encode("nsec", data, 32, out, 63), -1); /* needs 64 */
	ck_assert_int_eq(bech32_encode("nsec", data, 32, out, 64), 63);
}
END_TEST

static void template(struct nostr_event *ev)
{
	struct nostr_str t0[] = { { "d", 1 }, { "wss://relay.example.com", 23 } };
	struct nostr_str t1[] = { { "nonce", 5 }, { "old", 3 }, { "1", 1 } };
	struct nostr_tag tags[] = { { t0, 2 }, { t1, 3 } };
	struct nostr_err err = { 0 };
	nostr_event_init(ev);
	ck_assert_int_eq(nostr_event_set(ev, 20333, 1700000000, tags, 2, "write test \"\n\0", 14, &err), 0);
}

/* Ephemeral keys differ; what they sign verifies; a change breaks it. */
START_TEST(test_generate_sign_verify)
{
	struct nostr_key a, b;
	struct nostr_err err = { 0 };
	struct nostr_event ev;
	ck_assert_int_eq(nostr_key_generate(ctx, &a, &err), 0);
	ck_assert_int_eq(nostr_key_generate(ctx, &b, &err), 0);
	ck_assert_int_ne(memcmp(a.pubkey, b.pubkey, 32), 0);
	template(&ev);
	ck_assert_int_eq(nostr_event_sign(ctx, &ev, &a, &err), 0);
	ck_assert_mem_eq(ev.pubkey, a.pubkey, 32);
	ck_assert_int_eq(nostr_event_verify(ctx, &ev, &err), 0);
	/* through JSON and back */
	struct buf js;
	struct json_doc doc;
	struct nostr_event back;
	buf_init(&js);
	json_doc_init(&doc);
	nostr_event_init(&back);
	nostr_event_to_json(&ev, &js);
	ck_assert_int_eq(nostr_event_parse(&back, &doc, js.data, js.len, &err), 0);
	ck_assert_int_eq(nostr_event_verify(ctx, &back, &err), 0);
	ev.created_at++;
	ck_assert_int_eq(nostr_event_verify(ctx, &ev, &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_ID);
	ev.created_at--;
	memcpy(ev.pubkey, b.pubkey, 32);
	ck_assert_int_eq(nostr_event_compute_id(&ev, NULL, ev.id), 0);
	ck_assert_int_eq(nostr_event_verify(ctx, &ev, &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_SIG);
	buf_free(&js);
	json_doc_free(&doc);
	nostr_event_free(&back);
	nostr_event_free(&ev);
	nostr_key_wipe(&a);
	nostr_key_wipe(&b);
}
END_TEST

START_TEST(test_pow_difficulty)
{
	unsigned char id[32] = { 0 };
	ck_assert_uint_eq(nostr_pow_difficulty(id), 256);
	id[0] = 0x80;
	ck_assert_uint_eq(nostr_pow_difficulty(id), 0);
	id[0] = 0x01;
	ck_assert_uint_eq(nostr_pow_difficulty(id), 7);
	id[0] = 0;
	id[1] = 0x0f;
	ck_assert_uint_eq(nostr_pow_difficulty(id), 12);
	/* NIP-13's example id has 21 leading zero bits */
	ck_assert_int_eq(hex_decode("000006d8c378af1779d2feebc7603a125d99eca0ccf1085959b307f64e5dd358", id, 32), 0);
	ck_assert_uint_eq(nostr_pow_difficulty(id), 21);
}
END_TEST

/* Mining replaces the nonce tag, reaches the target, keeps the other tags; the signed result verifies. */
START_TEST(test_mine)
{
	struct nostr_key k;
	struct nostr_err err = { 0 };
	struct nostr_event ev;
	ck_assert_int_eq(nostr_key_generate(ctx, &k, &err), 0);
	template(&ev);
	ck_assert_int_eq(nostr_event_mine(&ev, k.pubkey, 12, 1u << 24, &err), 0);
	ck_assert_uint_ge(nostr_pow_difficulty(ev.id), 12);
	ck_assert_uint_eq(ev.n_tags, 2);
	ck_assert_int_eq(nostr_event_find_tag(&ev, "d"), 0);
	ck_assert_int_eq(nostr_event_find_tag(&ev, "nonce"), 1);
	ck_assert_str_eq(ev.tags[1].items[2].s, "12");
	ck_assert_str_ne(ev.tags[1].items[1].s, "old");
	ck_assert_uint_eq(ev.content.len, 14);
	unsigned char mined[32];
	memcpy(mined, ev.id, 32);
	ck_assert_int_eq(nostr_event_sign(ctx, &ev, &k, &err), 0);
	ck_assert_mem_eq(ev.id, mined, 32);
	ck_assert_int_eq(nostr_event_verify(ctx, &ev, &err), 0);
	/* give up cleanly */
	ck_assert_int_eq(nostr_event_mine(&ev, k.pubkey, 40, 3, &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_ARG);
	ck_assert_int_eq(nostr_event_mine(&ev, k.pubkey, 257, 3, &err), -1);
	nostr_event_free(&ev);
	nostr_key_wipe(&k);
}
END_TEST

START_TEST(test_create)
{
	struct nostr_key k;
	struct nostr_err err = { 0 };
	struct nostr_event ev;
	nostr_event_init(&ev);
	ck_assert_int_eq(nostr_key_generate(ctx, &k, &err), 0);
	struct nostr_str r[] = { { "r", 1 }, { "wss://relay.example.com", 23 } };
	struct nostr_tag tags[] = { { r, 2 } };
	ck_assert_int_eq(nostr_event_create(ctx, &ev, &k, 20150, 1700000000, tags, 1, "ping", 4, 0, 0, &err), 0);
	ck_assert_int_eq(nostr_event_verify(ctx, &ev, &err), 0);
	ck_assert_int_eq(nostr_kind_is_ephemeral(ev.kind), 1);
	ck_assert_int_eq(nostr_event_find_tag(&ev, "nonce"), -1);
	ck_assert_int_eq(nostr_event_create(ctx, &ev, &k, 20150, 1700000000, tags, 1, "ping", 4, 8, 1u << 20, &err), 0);
	ck_assert_int_eq(nostr_event_verify(ctx, &ev, &err), 0);
	ck_assert_uint_ge(nostr_pow_difficulty(ev.id), 8);
	ck_assert_int_eq(nostr_event_find_tag(&ev, "r"), 0);
	ck_assert_int_eq(nostr_event_create(ctx, &ev, &k, 70000, 0, NULL, 0, "", 0, 0, 0, &err), -1);
	ck_assert_int_eq(err.code, NOSTR_E_ARG);
	nostr_event_free(&ev);
	nostr_key_wipe(&k);
}
END_TEST

/* The fixture mined by nostr-tools has the difficulty its nonce tag claims. */
START_TEST(test_pow_fixture)
{
	struct lines l;
	struct json_doc doc;
	struct nostr_event ev;
	json_doc_init(&doc);
	nostr_event_init(&ev);
	lines_read(&l, "tests/fixtures/nostr/events.jsonl");
	int found = 0;
	for (size_t i = 0; i < l.n; i++) {
		struct nostr_err err;
		if (!strstr(l.line[i], "\"nonce\"") || nostr_event_parse(&ev, &doc, l.line[i], l.len[i], &err) < 0)
			continue;
		long t = nostr_event_find_tag(&ev, "nonce");
		ck_assert_int_ge(t, 0);
		ck_assert_uint_ge(nostr_pow_difficulty(ev.id), 12);
		ck_assert_str_eq(ev.tags[t].items[2].s, "12");
		found++;
	}
	ck_assert_int_eq(found, 1);
	lines_free(&l);
	json_doc_free(&doc);
	nostr_event_free(&ev);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nostr_keys");
	TCase *tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test_keys_fixture);
	tcase_add_test(tc, test_nip19_examples);
	tcase_add_test(tc, test_bad_keys);
	tcase_add_test(tc, test_generate_sign_verify);
	tcase_add_test(tc, test_pow_difficulty);
	tcase_add_test(tc, test_mine);
	tcase_add_test(tc, test_pow_fixture);
	tcase_add_test(tc, test_create);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
