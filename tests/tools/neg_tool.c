/* neg_tool.c — brotr's negentropy module behind the reference test harness's stdin/stdout protocol, and its bench. */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "nostr/negentropy.h"

/*
 * usage: neg_tool harness        (FRAMESIZELIMIT in the environment, as the reference harnesses)
 *   in:  item,<timestamp>,<id hex> ... seal, then initiate (initiator) or msg,<hex> (either role)
 *   out: msg,<hex> | have,<id hex> ... need,<id hex> ... then msg,<hex> or done
 *   A rejected message prints err,<reason> and exits 1.
 * usage: neg_tool bench N
 *   CPU time for N items: building the storage, one reconciliation of two copies with 1% missing
 *   on one side, and sha256 over the same ids as the limit (each id hashed once, same run).
 */

struct tool {
	struct neg_storage st;
	struct neg_session s;
	int started;
	struct buf bin, out, hex;
	struct neg_ids have, need;
};

static void fail(const char *what, const struct nostr_err *err)
{
	char why[256];
	printf("err,%s: %s\n", what, err ? nostr_err_str(err, why, sizeof(why)) : "bad line");
	fflush(stdout);
	exit(1);
}

static void print_ids(const char *tag, const struct neg_ids *l)
{
	char hex[2 * NEG_ID_SIZE + 1];
	for (size_t i = 0; i < l->n; i++) {
		hex_encode(l->id[i], NEG_ID_SIZE, hex);
		printf("%s,%s\n", tag, hex);
	}
}

static void print_msg(struct tool *t)
{
	buf_reset(&t->hex);
	neg_hex_put(&t->hex, (const unsigned char *)t->out.data, t->out.len);
	if (t->hex.failed)
		fail("msg", NULL);
	printf("msg,%s\n", t->hex.len ? t->hex.data : "");
}

static void on_item(struct tool *t, char *rest)
{
	struct nostr_err err = {0};
	unsigned char id[NEG_ID_SIZE];
	char *comma = strchr(rest, ',');
	char *end;
	if (!comma || strlen(comma + 1) != 2 * NEG_ID_SIZE || hex_decode(comma + 1, id, NEG_ID_SIZE) < 0)
		fail("item", NULL);
	*comma = '\0';
	unsigned long long ts = strtoull(rest, &end, 10);
	if (end == rest || *end)
		fail("item", NULL);
	if (neg_storage_add(&t->st, ts, id, &err) < 0)
		fail("item", &err);
}

static void on_msg(struct tool *t, const char *hex)
{
	struct nostr_err err = {0};
	int done = 0;
	if (neg_hex_get(&t->bin, hex, strlen(hex), &err) < 0)
		fail("msg", &err);
	if (t->s.role == NEG_ROLE_INITIATOR) {
		t->have.n = t->need.n = 0;
		if (neg_reconcile(&t->s, (const unsigned char *)t->bin.data, t->bin.len, &t->out, &t->have, &t->need,
				  &done, &err) < 0)
			fail("msg", &err);
		print_ids("have", &t->have);
		print_ids("need", &t->need);
	} else if (neg_respond(&t->s, (const unsigned char *)t->bin.data, t->bin.len, &t->out, &err) < 0) {
		fail("msg", &err);
	}
	if (done)
		printf("done\n");
	else
		print_msg(t);
}

static void on_line(struct tool *t, char *line, size_t frame)
{
	struct nostr_err err = {0};
	if (strncmp(line, "item,", 5) == 0) {
		on_item(t, line + 5);
	} else if (strcmp(line, "seal") == 0) {
		if (neg_storage_seal(&t->st, &err) < 0 || neg_session_init(&t->s, &t->st, frame, &err) < 0)
			fail("seal", &err);
		t->started = 1;
	} else if (strcmp(line, "initiate") == 0 && t->started) {
		if (neg_initiate(&t->s, &t->out, &err) < 0)
			fail("initiate", &err);
		print_msg(t);
	} else if (strncmp(line, "msg,", 4) == 0 && t->started) {
		on_msg(t, line + 4);
	} else if (strcmp(line, "msg") == 0 && t->started) {
		on_msg(t, "");
	} else {
		fail(line, NULL);
	}
	fflush(stdout);
}

static int harness(void)
{
	struct tool t;
	memset(&t, 0, sizeof(t));
	const char *env = getenv("FRAMESIZELIMIT");
	size_t frame = env ? (size_t)strtoull(env, NULL, 10) : 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n)
			on_line(&t, line, frame);
	}
	free(line);
	neg_session_free(&t.s);
	neg_storage_free(&t.st);
	buf_free(&t.bin);
	buf_free(&t.out);
	buf_free(&t.hex);
	neg_ids_free(&t.have);
	neg_ids_free(&t.need);
	return 0;
}

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Item i of the bench set: timestamps spread like a relay's second-resolution created_at. */
static void bench_item(size_t i, uint64_t *ts, unsigned char id[NEG_ID_SIZE])
{
	char seed[32];
	int n = snprintf(seed, sizeof(seed), "neg bench %zu", i);
	SHA256((const unsigned char *)seed, (size_t)n, id);
	*ts = 1700000000 + i / 3;
}

/* Builds a storage of n items, leaving out every 100th when drop is set. Returns build CPU ms. */
static double bench_build(struct neg_storage *st, size_t n, int drop)
{
	struct nostr_err err = {0};
	unsigned char id[NEG_ID_SIZE];
	uint64_t ts;
	unsigned char (*ids)[NEG_ID_SIZE] = malloc(n * NEG_ID_SIZE);
	uint64_t *tss = malloc(n * sizeof(*tss));
	if (!ids || !tss)
		exit(1);
	for (size_t i = 0; i < n; i++)
		bench_item(i, &tss[i], ids[i]);
	double t0 = cpu_ms();
	neg_storage_init(st);
	for (size_t i = 0; i < n; i++) {
		memcpy(id, ids[i], NEG_ID_SIZE);
		ts = tss[i];
		if ((!drop || i % 100 != 50) && neg_storage_add(st, ts, id, &err) < 0)
			exit(1);
	}
	if (neg_storage_seal(st, &err) < 0)
		exit(1);
	double t = cpu_ms() - t0;
	free(ids);
	free(tss);
	return t;
}

/* One full reconciliation between a and b in this process: rounds, bytes, need count, CPU ms. */
static double bench_sync(const struct neg_storage *a, const struct neg_storage *b, int *rounds, size_t *bytes,
			 size_t *need)
{
	struct nostr_err err = {0};
	struct neg_session c, s;
	struct buf m1, m2;
	struct neg_ids have, needs;
	int done = 0;
	buf_init(&m1);
	buf_init(&m2);
	neg_ids_init(&have);
	neg_ids_init(&needs);
	double t0 = cpu_ms();
	if (neg_session_init(&c, a, 0, &err) < 0 || neg_session_init(&s, b, 0, &err) < 0 || neg_initiate(&c, &m1, &err) < 0)
		exit(1);
	for (*rounds = 0, *bytes = m1.len; !done; (*rounds)++) {
		if (neg_respond(&s, (const unsigned char *)m1.data, m1.len, &m2, &err) < 0 ||
		    neg_reconcile(&c, (const unsigned char *)m2.data, m2.len, &m1, &have, &needs, &done, &err) < 0)
			exit(1);
		*bytes += m2.len + m1.len;
	}
	double t = cpu_ms() - t0;
	*need = needs.n;
	neg_session_free(&c);
	neg_session_free(&s);
	buf_free(&m1);
	buf_free(&m2);
	neg_ids_free(&have);
	neg_ids_free(&needs);
	return t;
}

static int bench(size_t n)
{
	struct neg_storage full, part;
	double build = bench_build(&full, n, 0);
	bench_build(&part, n, 1);
	int rounds;
	size_t bytes, need;
	double sync = bench_sync(&part, &full, &rounds, &bytes, &need);
	unsigned char d[SHA256_DIGEST_LENGTH];
	double t0 = cpu_ms();
	for (size_t i = 0; i < full.n; i++)
		SHA256(full.items[i].id, NEG_ID_SIZE, d);
	double sha = cpu_ms() - t0;
	printf("negentropy, %zu items: storage build %.1f ms CPU; reconciliation with 1%% missing %.1f ms CPU "
	       "(%d round trips, %zu bytes, %zu ids needed); yardstick, same run: sha256 of each id once %.1f ms CPU\n",
	       n, build, sync, rounds, bytes, need, sha);
	neg_storage_free(&full);
	neg_storage_free(&part);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "harness") == 0)
		return harness();
	if (argc == 3 && strcmp(argv[1], "bench") == 0)
		return bench((size_t)strtoull(argv[2], NULL, 10));
	fprintf(stderr, "usage: neg_tool harness | neg_tool bench N\n");
	return 2;
}
