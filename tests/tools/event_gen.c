/* event_gen.c — writes signed events (JSONL) with chosen created_at values, for synchronizer tests. */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "nostr/keys.h"

/*
 * usage: event_gen [--authors N] [--kind K] [--prefix TEXT] SPEC...
 *   SPEC  T*N     N events at created_at T
 *         A..B:N  N events spread evenly over [A, B]
 * Authors' keys are sha256("brotr test author <i>"), so runs are reproducible; the content names
 * the event's position ("<prefix> <i>"), so every event is distinct.
 */

static void usage(void)
{
	fprintf(stderr, "usage: event_gen [--authors N] [--kind K] [--prefix TEXT] T*N | A..B:N ...\n");
	exit(2);
}

static void author(const struct nostr_ctx *ctx, long a, struct nostr_key *key)
{
	char seed[64];
	unsigned char secret[32];
	struct nostr_err err = { 0 };
	int n = snprintf(seed, sizeof(seed), "brotr test author %ld", a);
	SHA256((const unsigned char *)seed, (size_t)n, secret);
	if (nostr_key_from_bytes(ctx, key, secret, &err) < 0)
		exit(1);
}

int main(int argc, char **argv)
{
	long authors = 3, kind = 1, count = 0;
	const char *prefix = "event";
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--authors") == 0)
			authors = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--kind") == 0)
			kind = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--prefix") == 0)
			prefix = argv[i + 1];
		else
			usage();
	}
	if (i >= argc || authors < 1)
		usage();
	struct nostr_ctx *ctx = nostr_ctx_new();
	struct nostr_key *keys = calloc((size_t)authors, sizeof(*keys));
	for (long a = 0; a < authors; a++)
		author(ctx, a, &keys[a]);
	struct nostr_event ev;
	nostr_event_init(&ev);
	struct buf out;
	buf_init(&out);
	for (; i < argc; i++) {
		long long a, b, n;
		if (sscanf(argv[i], "%lld..%lld:%lld", &a, &b, &n) == 3) {
		} else if (sscanf(argv[i], "%lld*%lld", &a, &n) == 2) {
			b = a;
		} else {
			usage();
		}
		for (long long k = 0; k < n; k++, count++) {
			long long t = n > 1 ? a + (b - a) * k / (n - 1) : a;
			char content[128];
			int len = snprintf(content, sizeof(content), "%s %ld", prefix, count);
			struct nostr_str tag_items[2] = { { "t", 1 }, { "brotr", 5 } };
			struct nostr_tag tag = { tag_items, 2 };
			struct nostr_err err = { 0 };
			if (nostr_event_create(ctx, &ev, &keys[count % authors], (uint32_t)kind, t, &tag, 1, content,
					       (size_t)len, 0, 0, &err) < 0)
				return 1;
			buf_reset(&out);
			nostr_event_to_json(&ev, &out);
			buf_putc(&out, '\n');
			fwrite(out.data, 1, out.len, stdout);
		}
	}
	nostr_event_free(&ev);
	buf_free(&out);
	for (long a = 0; a < authors; a++)
		nostr_key_wipe(&keys[a]);
	free(keys);
	nostr_ctx_free(ctx);
	return 0;
}
