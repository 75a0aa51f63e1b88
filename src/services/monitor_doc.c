/* monitor_doc.c — a relay check's outcome as the stored NIP-66 document (canonical JSON + sha256), and the monitor's pure rules. */
#include "services/monitor_doc.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nostr/json.h"

void monitor_outcome_init(struct monitor_outcome *o)
{
	memset(o, 0, sizeof(*o));
	nip66_init(&o->r);
	o->nip77 = NIP66_ABSENT;
}

void monitor_text(char *out, size_t n, const char *s, size_t len)
{
	size_t o = 0;
	if (n == 0)
		return;
	for (size_t i = 0; i < len;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t k = utf8_seq(p, len - i);
		int bad = k == 0 || *p < 0x20 || *p == 0x7f; /* k == 1 for those, 0 for invalid UTF-8 */
		size_t w = bad ? 1 : k;
		if (o + w >= n)
			break;
		if (bad)
			out[o] = '?';
		else
			memcpy(out + o, p, k);
		o += w;
		i += bad ? 1 : k;
	}
	out[o] = '\0';
}

void monitor_fail_set(struct monitor_fail *f, const char *error, const char *reason)
{
	snprintf(f->error, sizeof(f->error), "%s", error);
	monitor_text(f->reason, sizeof(f->reason), reason, strlen(reason));
}

static void put_str(struct buf *b, int *first, const char *key, const char *v)
{
	buf_printf(b, "%s\"%s\":", *first ? "" : ",", key);
	json_write_str(b, v, strlen(v));
	*first = 0;
}

static void put_fail(struct buf *b, int *first, const char *step, const struct monitor_fail *f)
{
	char key[32];
	if (!f->error[0])
		return;
	snprintf(key, sizeof(key), "%s_error", step);
	put_str(b, first, key, f->error);
	snprintf(key, sizeof(key), "%s_reason", step);
	put_str(b, first, key, f->reason);
}

/* The document in any key order: nip66_json's members, then the extras. */
static int raw_doc(const struct monitor_outcome *o, struct buf *raw)
{
	if (nip66_json(&o->r, raw) < 0)
		return -1;
	raw->len--; /* reopen the object: drop its '}' */
	int first = raw->len == 1;
	put_fail(raw, &first, "open", &o->open);
	put_fail(raw, &first, "read", &o->read);
	put_fail(raw, &first, "write", &o->write);
	put_fail(raw, &first, "nip11", &o->nip11);
	if (o->auth[0])
		put_str(raw, &first, "auth", o->auth);
	if (o->auth_required) {
		buf_printf(raw, "%s\"auth_required\":true", first ? "" : ",");
		first = 0;
	}
	if (o->auth_reason[0])
		put_str(raw, &first, "auth_reason", o->auth_reason);
	if (o->nip77 != NIP66_ABSENT) {
		buf_printf(raw, "%s\"nip77\":%s", first ? "" : ",", o->nip77 ? "true" : "false");
		first = 0;
	}
	put_fail(raw, &first, "nip77", &o->nip77_fail);
	if (o->pow)
		buf_printf(raw, "%s\"pow\":%u", first ? "" : ",", o->pow);
	buf_putc(raw, '}');
	return raw->failed ? -1 : 0;
}

/* raw (any key order) made canonical, appended to json; id = its sha256. Frees raw. */
static int canonical_doc(struct buf *raw, struct buf *json, unsigned char id[32])
{
	struct json_doc d;
	struct nostr_err err;
	size_t start = json->len;
	int rc = -1;
	json_doc_init(&d);
	if (raw->failed || json_parse(&d, raw->data, raw->len, &err) < 0 || json_canonical(&d, 0, NULL, 0, json) < 0 ||
	    json->failed)
		goto out;
	SHA256((const unsigned char *)json->data + start, json->len - start, id);
	rc = 0;
out:
	json_doc_free(&d);
	buf_free(raw);
	return rc;
}

int monitor_doc_build(const struct monitor_outcome *o, struct buf *json, unsigned char id[32])
{
	struct buf raw;
	buf_init(&raw);
	if (raw_doc(o, &raw) < 0) {
		buf_free(&raw);
		return -1;
	}
	return canonical_doc(&raw, json, id);
}

int monitor_tls_doc_build(const struct net_tls_facts *f, struct buf *json, unsigned char id[32])
{
	struct buf raw;
	int first = 1;
	buf_init(&raw);
	buf_putc(&raw, '{');
	put_str(&raw, &first, "version", f->version);
	put_str(&raw, &first, "cipher", f->cipher);
	put_str(&raw, &first, "subject", f->subject);
	put_str(&raw, &first, "issuer", f->issuer);
	buf_printf(&raw, ",\"sans\":[");
	for (int i = 0; i < f->n_sans; i++) {
		buf_printf(&raw, "%s", i ? "," : "");
		json_write_str(&raw, f->sans[i], strlen(f->sans[i]));
	}
	buf_printf(&raw, "],\"not_before\":%lld,\"not_after\":%lld", (long long)f->not_before, (long long)f->not_after);
	if (f->sans_omitted)
		buf_printf(&raw, ",\"sans_omitted\":%d", f->sans_omitted);
	put_str(&raw, &first, "sha256", f->sha256);
	buf_printf(&raw, ",\"verified\":%s", f->verified ? "true" : "false");
	if (f->verify_error[0])
		put_str(&raw, &first, "verify_error", f->verify_error);
	buf_putc(&raw, '}');
	return canonical_doc(&raw, json, id);
}

int64_t monitor_tls_days_left(const struct net_tls_facts *f, int64_t now_s)
{
	int64_t s = f->not_after - now_s;
	return s >= 0 ? s / 86400 : -((86399 - s) / 86400);
}

static void req(struct pub_relay_facts *f, const char *r)
{
	if (f->n_reqs < PUB_REQS_MAX)
		f->reqs[f->n_reqs++] = r;
}

/* Whether the write test's refusal mentions payment (the relay's words: "restricted: pay first"). */
static int speaks_of_payment(const char *reason)
{
	for (const char *s = reason; *s; s++)
		if (strncasecmp(s, "pay", 3) == 0)
			return 1;
	return 0;
}

void monitor_pub_facts(const struct monitor_outcome *o, int nip45, const char *nip11_json, size_t nip11_len,
		       int64_t write_kind, struct pub_relay_facts *f)
{
	f->rtt_open = o->r.rtt_open;
	f->rtt_read = o->r.rtt_read;
	f->rtt_write = o->r.rtt_write;
	if (nip11_json)
		f->nips[f->n_nips++] = 11;
	if (strcmp(o->auth, "accepted") == 0)
		f->nips[f->n_nips++] = 42;
	if (nip45 == 1)
		f->nips[f->n_nips++] = 45;
	if (o->nip77 == 1)
		f->nips[f->n_nips++] = 77;
	if (o->auth_required)
		req(f, "auth");
	else if (o->r.readable == 1)
		req(f, "!auth");
	if (o->r.writable == 1) {
		req(f, "!payment");
		req(f, "!writes");
		if (o->pow)
			req(f, "pow");
		f->kind_accepted = write_kind;
	} else if (o->r.writable == 0) {
		if (strcmp(o->write.error, "blocked") == 0 || strcmp(o->write.error, "restricted") == 0)
			req(f, "writes");
		if (speaks_of_payment(o->write.reason))
			req(f, "payment");
		if (strcmp(o->write.error, "pow") == 0)
			req(f, "pow");
	}
	if (nip11_json) {
		pub_relay_facts_topics(f, nip11_json, nip11_len);
		f->content = nip11_json;
		f->content_len = nip11_len;
	}
}

const char *monitor_msg_prefix(const char *msg, size_t len, const char *fallback)
{
	static const char *const prefixes[] = { "auth-required", "blocked", "duplicate", "error", "invalid",
						"mute", "pow", "rate-limited", "restricted", "unsupported" };
	for (size_t i = 0; i < ARRAY_LEN(prefixes); i++) {
		size_t n = strlen(prefixes[i]);
		if (len > n && memcmp(msg, prefixes[i], n) == 0 && msg[n] == ':')
			return prefixes[i];
	}
	return fallback;
}

int64_t monitor_checked_before(int64_t start_ms, long long interval_ms)
{
	int64_t due_at_or_before = start_ms - (interval_ms - interval_ms / 10);
	int64_t secs = due_at_or_before >= 0 ? due_at_or_before / 1000 : -((999 - due_at_or_before) / 1000);
	return secs + 1;
}
