/* nostr_bench.c — benchmark helper: writes signed events (gen), measures the raw BIP-340 verify rate (raw) and JSON parsing of hostile shapes against a linear scan (json). */
#include <openssl/sha.h>
#include <secp256k1_schnorrsig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "core/workpool.h"
#include "nostr/json.h"
#include "nostr/keys.h"
#include "nostr/verify.h"

#define BATCH 4096

static void usage(void)
{
	fprintf(stderr, "usage: nostr_bench gen N [AUTHORS]   write N signed kind-1 events (JSONL) to stdout\n"
			"       nostr_bench raw N [THREADS]   print secp256k1_schnorrsig_verify calls per second\n"
			"       nostr_bench json BYTES        time json_parse of hostile shapes of BYTES next to a linear scan\n");
	exit(2);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The secret key of author a: sha256("brotr bench author" || a), so runs are reproducible. */
static void author_secret(size_t a, unsigned char out[32])
{
	char seed[64];
	int n = snprintf(seed, sizeof(seed), "brotr bench author %zu", a);
	SHA256((const unsigned char *)seed, (size_t)n, out);
}

struct gen {
	const struct nostr_ctx *ctx;
	size_t base, authors;
	struct buf out[BATCH];
	struct nostr_event *ev; /* one per worker */
};

static void gen_one(void *arg, size_t i, unsigned w)
{
	static const char words[] = "the quick brown fox jumps over the lazy dog while nostr relays gossip "
				    "about notes, zaps and long-form articles; caf\xc3\xa9 \xf0\x9f\x9a\x80 \"quoted\"\n";
	struct gen *g = arg;
	size_t n = g->base + i;
	unsigned char secret[32];
	char id[65], pk[65];
	struct nostr_key key;
	struct nostr_err err;
	author_secret(n % g->authors, secret);
	if (nostr_key_from_bytes(g->ctx, &key, secret, &err) < 0)
		abort();
	hex_encode(secret, 32, id); /* any 64 hex will do as a referenced id */
	hex_encode(key.pubkey, 32, pk);
	struct nostr_str e[] = { { "e", 1 }, { id, 64 }, { "wss://relay.example.com", 23 } };
	struct nostr_str p[] = { { "p", 1 }, { pk, 64 } };
	struct nostr_tag tags[] = { { e, 3 }, { p, 2 } };
	size_t len = 40 + n * 7919 % (sizeof(words) - 41);
	while ((words[len] & 0xC0) == 0x80) /* cut at a character boundary */
		len--;
	struct nostr_event *ev = &g->ev[w];
	if (nostr_event_set(ev, 1, 1700000000 + (int64_t)n, tags, 2, words, len, &err) < 0 ||
	    nostr_event_sign(g->ctx, ev, &key, &err) < 0)
		abort();
	buf_reset(&g->out[i]);
	nostr_event_to_json(ev, &g->out[i]);
	buf_putc(&g->out[i], '\n');
	nostr_key_wipe(&key);
}

static int gen(size_t n, size_t authors)
{
	struct nostr_ctx *ctx = nostr_ctx_new();
	struct workpool *pool = workpool_new(0);
	struct gen *g = calloc(1, sizeof(*g));
	if (!ctx || !pool || !g || !(g->ev = calloc(workpool_size(pool), sizeof(*g->ev))))
		return 1;
	g->ctx = ctx;
	g->authors = authors ? authors : 1;
	for (size_t base = 0; base < n; base += BATCH) {
		size_t m = n - base < BATCH ? n - base : BATCH;
		g->base = base;
		workpool_run(pool, m, 8, gen_one, g);
		for (size_t i = 0; i < m; i++)
			fwrite(g->out[i].data, 1, g->out[i].len, stdout);
	}
	for (size_t i = 0; i < BATCH; i++)
		buf_free(&g->out[i]);
	for (unsigned w = 0; w < workpool_size(pool); w++)
		nostr_event_free(&g->ev[w]);
	free(g->ev);
	free(g);
	workpool_free(pool);
	nostr_ctx_free(ctx);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* 256 distinct (key, message, signature) triples, verified round-robin. */
struct raw {
	const struct nostr_ctx *ctx;
	secp256k1_xonly_pubkey pk[256];
	unsigned char msg[256][32], sig[256][64];
	size_t per_worker;
	int bad;
};

static void raw_worker(void *arg, size_t item, unsigned w)
{
	struct raw *r = arg;
	(void)w;
	for (size_t i = 0; i < r->per_worker; i++) {
		size_t k = (i + item) & 255;
		if (!secp256k1_schnorrsig_verify(r->ctx->secp, r->sig[k], r->msg[k], 32, &r->pk[k]))
			r->bad = 1;
	}
}

static int raw(size_t n, unsigned threads)
{
	struct nostr_ctx *ctx = nostr_ctx_new();
	struct raw *r = calloc(1, sizeof(*r));
	struct workpool *pool = workpool_new(threads ? threads : 1);
	if (!ctx || !r || !pool)
		return 1;
	r->ctx = ctx;
	for (size_t k = 0; k < 256; k++) {
		unsigned char secret[32];
		struct nostr_key key;
		struct nostr_err err;
		author_secret(k, secret);
		SHA256(secret, 32, r->msg[k]);
		if (nostr_key_from_bytes(ctx, &key, secret, &err) < 0 ||
		    !secp256k1_schnorrsig_sign32(ctx->secp, r->sig[k], r->msg[k], &key.pair, NULL) ||
		    !secp256k1_keypair_xonly_pub(ctx->secp, &r->pk[k], NULL, &key.pair))
			return 1;
	}
	unsigned t = workpool_size(pool);
	r->per_worker = n / t;
	double t0 = now();
	workpool_run(pool, t, 1, raw_worker, r);
	double dt = now() - t0;
	printf("%.0f\n", (double)(r->per_worker * t) / dt);
	workpool_free(pool);
	nostr_ctx_free(ctx);
	int bad = r->bad;
	free(r);
	return bad;
}

/* One hostile shape of about n bytes: deep nesting, ':' chains, wide arrays, long strings, object
 * members, and nesting at the limit repeated (the worst case jsmn still walks). */
static const char *const shape_name[] = { "deep [[[...]]]", "[1:1:1...]", "wide [[],[],...]", "long string",
					  "object members", "deepest, repeated" };
static void shape(struct buf *b, int sh, size_t n)
{
	buf_reset(b);
	if (sh == 0) {
		for (size_t i = 0; i < n; i++)
			buf_putc(b, i < n / 2 ? '[' : ']');
	} else if (sh == 1) {
		buf_puts(b, "[1");
		while (b->len + 3 < n)
			buf_puts(b, ":1");
		buf_putc(b, ']');
	} else if (sh == 2) {
		buf_puts(b, "[[]");
		while (b->len + 4 < n)
			buf_puts(b, ",[]");
		buf_putc(b, ']');
	} else if (sh == 3) {
		buf_puts(b, "[\"");
		while (b->len + 2 < n)
			buf_putc(b, 'x');
		buf_puts(b, "\"]");
	} else if (sh == 4) {
		buf_puts(b, "{\"a\":[1]");
		while (b->len + 9 < n)
			buf_puts(b, ",\"a\":[1]");
		buf_putc(b, '}');
	} else {
		buf_putc(b, '[');
		while (b->len + 2 * JSON_MAX_DEPTH < n) {
			if (b->len > 1)
				buf_putc(b, ',');
			for (int i = 0; i < 2 * (JSON_MAX_DEPTH - 1); i++)
				buf_putc(b, i < JSON_MAX_DEPTH - 1 ? '[' : ']');
		}
		buf_putc(b, ']');
	}
}

/* Best of 5: json_parse of each shape, and one plain pass over the same bytes (counting '['). */
static int json_shapes(size_t n)
{
	struct buf b;
	struct json_doc d;
	buf_init(&b);
	json_doc_init(&d);
	for (int sh = 0; sh < 6; sh++) {
		shape(&b, sh, n);
		double parse = 1e9, scan = 1e9;
		int rc = 0;
		volatile size_t sink = 0;
		for (int r = 0; r < 5; r++) {
			struct nostr_err err = { 0 };
			double t0 = now();
			rc = json_parse(&d, b.data, b.len, &err);
			double t1 = now();
			size_t k = 0;
			for (size_t i = 0; i < b.len; i++)
				k += b.data[i] == '[';
			sink += k;
			double t2 = now();
			parse = t1 - t0 < parse ? t1 - t0 : parse;
			scan = t2 - t1 < scan ? t2 - t1 : scan;
		}
		printf("%-18s %8zu bytes  json_parse %8.2f ms (%s)  linear scan %6.2f ms  ratio %6.1f\n", shape_name[sh],
		       b.len, parse * 1e3, rc == 0 ? "parsed" : "refused", scan * 1e3, parse / scan);
	}
	json_doc_free(&d);
	buf_free(&b);
	return 0;
}

int main(int argc, char **argv)
{
	long long n, m = 0;
	if (argc < 3 || parse_ll(argv[2], &n) < 0 || n < 1 || (argc > 3 && (parse_ll(argv[3], &m) < 0 || m < 0)))
		usage();
	if (strcmp(argv[1], "gen") == 0)
		return gen((size_t)n, (size_t)(m ? m : n));
	if (strcmp(argv[1], "raw") == 0)
		return raw((size_t)n, (unsigned)m);
	if (strcmp(argv[1], "json") == 0)
		return json_shapes((size_t)n);
	usage();
}
