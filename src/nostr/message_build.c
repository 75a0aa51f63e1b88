/* message_build.c — client-to-relay messages: REQ, COUNT, CLOSE, EVENT, AUTH (and its event), NEG-OPEN, NEG-CLOSE. */
#include "nostr/message.h"

#include <string.h>

#include "nostr/keys.h"

static int finish(struct buf *out, struct nostr_err *err)
{
	return out->failed ? nostr_fail(err, NOSTR_E_NOMEM, NULL, "message") : 0;
}

static int check_sub(const char *sub_id, struct nostr_err *err)
{
	if (!nostr_subid_valid(sub_id, strlen(sub_id)))
		return nostr_fail(err, NOSTR_E_ARG, "subscription id", "must be valid UTF-8 of 1..64 characters");
	return 0;
}

static int with_filters(struct buf *out, const char *type, const char *sub_id, const struct nostr_filter *fs,
			size_t n, struct nostr_err *err)
{
	if (check_sub(sub_id, err) < 0)
		return -1;
	if (n == 0)
		return nostr_fail(err, NOSTR_E_ARG, "filters", "at least one filter is needed");
	buf_printf(out, "[\"%s\",", type);
	json_write_str(out, sub_id, strlen(sub_id));
	for (size_t i = 0; i < n; i++) {
		buf_putc(out, ',');
		nostr_filter_json(&fs[i], out);
	}
	buf_putc(out, ']');
	return finish(out, err);
}

int nostr_build_req(struct buf *out, const char *sub_id, const struct nostr_filter *filters, size_t n,
		    struct nostr_err *err)
{
	return with_filters(out, "REQ", sub_id, filters, n, err);
}

int nostr_build_count(struct buf *out, const char *sub_id, const struct nostr_filter *filters, size_t n,
		      struct nostr_err *err)
{
	return with_filters(out, "COUNT", sub_id, filters, n, err);
}

int nostr_build_close(struct buf *out, const char *sub_id, struct nostr_err *err)
{
	if (check_sub(sub_id, err) < 0)
		return -1;
	buf_puts(out, "[\"CLOSE\",");
	json_write_str(out, sub_id, strlen(sub_id));
	buf_putc(out, ']');
	return finish(out, err);
}

int nostr_build_event(struct buf *out, const struct nostr_event *ev, struct nostr_err *err)
{
	buf_puts(out, "[\"EVENT\",");
	nostr_event_to_json(ev, out);
	buf_putc(out, ']');
	return finish(out, err);
}

int nostr_build_auth(struct buf *out, const struct nostr_event *ev, struct nostr_err *err)
{
	buf_puts(out, "[\"AUTH\",");
	nostr_event_to_json(ev, out);
	buf_putc(out, ']');
	return finish(out, err);
}

int nostr_build_neg_open(struct buf *out, const char *sub_id, const struct nostr_filter *filter, const char *hex,
			 struct nostr_err *err)
{
	if (check_sub(sub_id, err) < 0)
		return -1;
	buf_puts(out, "[\"NEG-OPEN\",");
	json_write_str(out, sub_id, strlen(sub_id));
	buf_putc(out, ',');
	nostr_filter_json(filter, out);
	buf_putc(out, ',');
	json_write_str(out, hex, strlen(hex));
	buf_putc(out, ']');
	return finish(out, err);
}

int nostr_build_neg_close(struct buf *out, const char *sub_id, struct nostr_err *err)
{
	if (check_sub(sub_id, err) < 0)
		return -1;
	buf_puts(out, "[\"NEG-CLOSE\",");
	json_write_str(out, sub_id, strlen(sub_id));
	buf_putc(out, ']');
	return finish(out, err);
}

#define AUTH_CHALLENGE_MAX 1024

int nostr_auth_event(const struct nostr_ctx *ctx, struct nostr_event *ev, const struct nostr_key *key,
		     const char *relay_url, const char *c, size_t clen, int64_t created_at, struct nostr_err *err)
{
	if (clen > AUTH_CHALLENGE_MAX || !utf8_valid(c, clen))
		return nostr_fail(err, NOSTR_E_ARG, "challenge", "must be valid UTF-8 of at most 1024 bytes");
	struct nostr_str relay[2] = { { "relay", 5 }, { relay_url, strlen(relay_url) } };
	struct nostr_str chal[2] = { { "challenge", 9 }, { c, clen } };
	struct nostr_tag tags[2] = { { relay, 2 }, { chal, 2 } };
	return nostr_event_create(ctx, ev, key, NOSTR_KIND_AUTH, created_at, tags, 2, "", 0, 0, 0, err);
}
