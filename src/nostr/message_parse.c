/* message_parse.c — relay-to-client messages, strictly shaped. */
#include "nostr/message.h"

#include <stdlib.h>
#include <string.h>

void nostr_msg_init(struct nostr_msg *m)
{
	memset(m, 0, sizeof(*m));
}

void nostr_msg_free(struct nostr_msg *m)
{
	free(m->mem_);
	nostr_msg_init(m);
}

int nostr_subid_valid(const char *s, size_t len)
{
	size_t chars = 0;
	for (size_t i = 0; i < len; chars++) {
		size_t k = utf8_seq((const unsigned char *)s + i, len - i);
		if (k == 0)
			return 0;
		i += k;
	}
	return chars >= 1 && chars <= NOSTR_SUBID_MAX_CHARS;
}

static const struct {
	const char *name;
	enum nostr_msg_type type;
	uint32_t arity;
} types[] = {
	{ "EVENT", NOSTR_MSG_EVENT, 3 }, { "EOSE", NOSTR_MSG_EOSE, 2 },     { "OK", NOSTR_MSG_OK, 4 },
	{ "NOTICE", NOSTR_MSG_NOTICE, 2 }, { "CLOSED", NOSTR_MSG_CLOSED, 3 }, { "AUTH", NOSTR_MSG_AUTH, 2 },
	{ "COUNT", NOSTR_MSG_COUNT, 3 }, { "NEG-MSG", NOSTR_MSG_NEG_MSG, 3 }, { "NEG-ERR", NOSTR_MSG_NEG_ERR, 3 },
};

/* Decodes string token t into the message's storage (room reserved by the caller). */
static struct nostr_str take(struct nostr_msg *m, const struct json_doc *d, size_t t, size_t *used)
{
	char *p = m->mem_ + *used;
	size_t n = json_str_decode(d, &d->tok[t], p);
	p[n] = '\0';
	*used += n + 1;
	return (struct nostr_str){ p, n };
}

/* Room for every string of the message (decoded strings never grow). */
static int reserve(struct nostr_msg *m, const struct json_doc *d, struct nostr_err *err)
{
	size_t need = 1;
	for (size_t i = 1, n = 0; n < d->tok[0].size; n++, i = d->tok[i].next)
		if (d->tok[i].type == JSON_STRING)
			need += d->tok[i].end - d->tok[i].start + 1;
	if (need <= m->cap_)
		return 0;
	char *p = realloc(m->mem_, need);
	if (!p)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "message");
	m->mem_ = p;
	m->cap_ = need;
	return 0;
}

static int bad(struct nostr_err *err, const char *type, const char *detail)
{
	return nostr_fail(err, NOSTR_E_MESSAGE, type, detail);
}

static int sub_id(struct nostr_msg *m, const struct json_doc *d, const char *type, size_t *used, struct nostr_err *err)
{
	if (d->tok[2].type != JSON_STRING)
		return bad(err, type, "subscription id is not a string");
	m->sub_id = take(m, d, 2, used);
	if (!nostr_subid_valid(m->sub_id.s, m->sub_id.len))
		return bad(err, type, "subscription id must have 1..64 characters");
	return 0;
}

static int parse_ok(struct nostr_msg *m, const struct json_doc *d, size_t *used, struct nostr_err *err)
{
	const struct json_tok *id = &d->tok[2], *flag = &d->tok[3], *msg = &d->tok[4];
	if (id->type != JSON_STRING || id->escaped || id->end - id->start != 64 ||
	    hex_decode(d->text + id->start, m->event_id, 32) < 0)
		return bad(err, "OK", "event id is not 64 lower-case hex characters");
	if (flag->type != JSON_TRUE && flag->type != JSON_FALSE)
		return bad(err, "OK", "the third element is not true or false");
	if (msg->type != JSON_STRING)
		return bad(err, "OK", "the message is not a string");
	m->accepted = flag->type == JSON_TRUE;
	m->message = take(m, d, 4, used);
	return 0;
}

static int parse_count(struct nostr_msg *m, const struct json_doc *d, size_t *used, struct nostr_err *err)
{
	if (sub_id(m, d, "COUNT", used, err) < 0)
		return -1;
	size_t obj = d->tok[2].next, n = json_member(d, obj, "count"), a = json_member(d, obj, "approximate");
	int64_t v;
	if (d->tok[obj].type != JSON_OBJECT)
		return bad(err, "COUNT", "the third element is not an object");
	if (!n || json_int(d, &d->tok[n], &v) < 0 || v < 0)
		return bad(err, "COUNT", "count is not a non-negative integer");
	if (a && d->tok[a].type != JSON_TRUE && d->tok[a].type != JSON_FALSE)
		return bad(err, "COUNT", "approximate is not true or false");
	m->count = (uint64_t)v;
	m->approximate = a && d->tok[a].type == JSON_TRUE;
	return 0;
}

static int parse_string_at(struct nostr_msg *m, const struct json_doc *d, size_t t, struct nostr_str *dst,
			   const char *type, size_t *used, struct nostr_err *err)
{
	if (d->tok[t].type != JSON_STRING)
		return bad(err, type, "expected a string");
	*dst = take(m, d, t, used);
	return 0;
}

static int parse_body(struct nostr_msg *m, const struct json_doc *d, struct nostr_event *ev, size_t *used,
		      struct nostr_err *err)
{
	switch (m->type) {
	case NOSTR_MSG_EVENT:
		if (sub_id(m, d, "EVENT", used, err) < 0)
			return -1;
		if (d->tok[3].end - d->tok[3].start > NOSTR_EVENT_MAX_JSON)
			return nostr_fail(err, NOSTR_E_TOO_LARGE, NULL, "event of more than 1048576 bytes");
		return nostr_event_from_json(ev, d, 3, err);
	case NOSTR_MSG_EOSE:
		return sub_id(m, d, "EOSE", used, err);
	case NOSTR_MSG_OK:
		return parse_ok(m, d, used, err);
	case NOSTR_MSG_NOTICE:
		return parse_string_at(m, d, 2, &m->message, "NOTICE", used, err);
	case NOSTR_MSG_CLOSED:
		if (sub_id(m, d, "CLOSED", used, err) < 0)
			return -1;
		return parse_string_at(m, d, 3, &m->message, "CLOSED", used, err);
	case NOSTR_MSG_AUTH:
		return parse_string_at(m, d, 2, &m->challenge, "AUTH", used, err);
	case NOSTR_MSG_NEG_MSG:
	case NOSTR_MSG_NEG_ERR: {
		const char *name = m->type == NOSTR_MSG_NEG_MSG ? "NEG-MSG" : "NEG-ERR";
		if (sub_id(m, d, name, used, err) < 0)
			return -1;
		return parse_string_at(m, d, 3, &m->message, name, used, err);
	}
	case NOSTR_MSG_COUNT:
		return parse_count(m, d, used, err);
	default:
		return bad(err, NULL, "unknown message type");
	}
}

int nostr_msg_parse(struct nostr_msg *m, struct json_doc *d, struct nostr_event *ev, const char *text, size_t len,
		    struct nostr_err *err)
{
	char *mem = m->mem_;
	size_t cap = m->cap_, used = 0;
	nostr_msg_init(m);
	m->mem_ = mem;
	m->cap_ = cap;
	if (len > NOSTR_MSG_MAX_JSON)
		return nostr_fail(err, NOSTR_E_TOO_LARGE, NULL, "message of more than 1049600 bytes");
	if (json_parse(d, text, len, err) < 0)
		return -1;
	if (d->tok[0].type != JSON_ARRAY || d->tok[0].size == 0 || d->tok[1].type != JSON_STRING)
		return nostr_fail(err, NOSTR_E_TYPE, NULL, "a relay message is an array starting with a string");
	if (reserve(m, d, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (!json_str_is(d, &d->tok[1], types[i].name))
			continue;
		m->type = types[i].type;
		if (d->tok[0].size != types[i].arity)
			return bad(err, types[i].name, "wrong number of elements");
		return parse_body(m, d, ev, &used, err);
	}
	m->message = take(m, d, 1, &used);
	return bad(err, NULL, "unknown message type");
}
