/* nip66.c — relay check results as canonical JSON and back. */
#include "nostr/nip66.h"

#include <openssl/sha.h>
#include <string.h>

#include "nostr/json.h"

void nip66_init(struct nip66_result *r)
{
	r->openable = r->readable = r->writable = NIP66_ABSENT;
	r->rtt_open = r->rtt_read = r->rtt_write = NIP66_ABSENT;
}

/* The members in canonical (sorted) order. */
enum { M_OPENABLE, M_READABLE, M_RTT_OPEN, M_RTT_READ, M_RTT_WRITE, M_WRITABLE, M_COUNT };
static const char *const names[M_COUNT] = { "openable", "readable", "rtt_open", "rtt_read", "rtt_write", "writable" };

static int is_flag(int m)
{
	return m == M_OPENABLE || m == M_READABLE || m == M_WRITABLE;
}

static void pointers(struct nip66_result *r, int *flags[M_COUNT], int64_t *times[M_COUNT])
{
	memset(flags, 0, M_COUNT * sizeof(*flags));
	memset(times, 0, M_COUNT * sizeof(*times));
	flags[M_OPENABLE] = &r->openable;
	flags[M_READABLE] = &r->readable;
	flags[M_WRITABLE] = &r->writable;
	times[M_RTT_OPEN] = &r->rtt_open;
	times[M_RTT_READ] = &r->rtt_read;
	times[M_RTT_WRITE] = &r->rtt_write;
}

int nip66_json(const struct nip66_result *r, struct buf *out)
{
	int *flags[M_COUNT];
	int64_t *times[M_COUNT];
	pointers((struct nip66_result *)r, flags, times);
	for (int m = 0; m < M_COUNT; m++)
		if (is_flag(m) ? (*flags[m] < NIP66_ABSENT || *flags[m] > 1) : *times[m] < NIP66_ABSENT)
			return -1;
	int first = 1;
	buf_putc(out, '{');
	for (int m = 0; m < M_COUNT; m++) {
		if (is_flag(m) ? *flags[m] == NIP66_ABSENT : *times[m] == NIP66_ABSENT)
			continue;
		buf_printf(out, "%s\"%s\":", first ? "" : ",", names[m]);
		if (is_flag(m))
			buf_puts(out, *flags[m] ? "true" : "false");
		else
			buf_printf(out, "%lld", (long long)*times[m]);
		first = 0;
	}
	buf_putc(out, '}');
	return out->failed ? -1 : 0;
}

int nip66_hash(const struct nip66_result *r, unsigned char out[32])
{
	struct buf b;
	buf_init(&b);
	int rc = nip66_json(r, &b);
	if (rc == 0)
		SHA256((const unsigned char *)b.data, b.len, out);
	buf_free(&b);
	return rc;
}

static int member(struct nip66_result *r, const struct json_doc *d, size_t k, struct nostr_err *err)
{
	int *flags[M_COUNT];
	int64_t *times[M_COUNT];
	pointers(r, flags, times);
	const struct json_tok *v = &d->tok[k + 1];
	for (int m = 0; m < M_COUNT; m++) {
		if (!json_str_is(d, &d->tok[k], names[m]))
			continue;
		if (is_flag(m) && v->type != JSON_TRUE && v->type != JSON_FALSE)
			return nostr_fail(err, NOSTR_E_FIELD, names[m], "expected true or false");
		if (is_flag(m)) {
			*flags[m] = v->type == JSON_TRUE;
			return 0;
		}
		if (json_int(d, v, times[m]) < 0 || *times[m] < 0)
			return nostr_fail(err, NOSTR_E_FIELD, names[m], "expected a non-negative integer");
		return 0;
	}
	return nostr_fail(err, NOSTR_E_FIELD, "nip66", "unknown key");
}

int nip66_parse(struct nip66_result *r, const char *text, size_t len, struct nostr_err *err)
{
	struct json_doc d;
	int rc = -1;
	json_doc_init(&d);
	nip66_init(r);
	if (len > 4096) {
		nostr_fail(err, NOSTR_E_TOO_LARGE, NULL, "more than 4096 bytes");
		goto out;
	}
	if (json_parse(&d, text, len, err) < 0)
		goto out;
	if (d.tok[0].type != JSON_OBJECT) {
		nostr_fail(err, NOSTR_E_TYPE, NULL, "expected a JSON object");
		goto out;
	}
	size_t k = 1;
	for (uint32_t m = 0; m < d.tok[0].size; m++, k = d.tok[k + 1].next)
		if (member(r, &d, k, err) < 0)
			goto out;
	rc = 0;
out:
	json_doc_free(&d);
	return rc;
}
