/* ctx.c — creating the secp256k1 context; getrandom. */
#include "nostr/ctx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

int nostr_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

struct nostr_ctx *nostr_ctx_new(void)
{
	unsigned char seed[32];
	struct nostr_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (!ctx->secp || nostr_random(seed, sizeof(seed)) < 0 || !secp256k1_context_randomize(ctx->secp, seed)) {
		nostr_ctx_free(ctx);
		ctx = NULL;
	}
	explicit_bzero(seed, sizeof(seed));
	return ctx;
}

void nostr_ctx_free(struct nostr_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->secp)
		secp256k1_context_destroy(ctx->secp);
	free(ctx);
}
