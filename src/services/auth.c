/* auth.c — NIP-42 on the client side: the [auth] key, and one connection's AUTH exchange (challenge, signed answer, its OK). */
#include "services/auth.h"

#include <stdio.h>
#include <string.h>

int auth_check_config(const struct config *cfg, char *err, size_t errlen)
{
	if (!*cfg->auth.private_key || nostr_key_check_str(cfg->auth.private_key) == 0)
		return 0;
	snprintf(err, errlen, "[auth] private_key (BROTR_AUTH_PRIVATE_KEY) is not a usable secret key: "
			      "expected 64 hex characters or an nsec1... string");
	return -1;
}

int auth_identity_load(struct auth_identity *id, const struct nostr_ctx *ctx, const struct config *cfg)
{
	struct nostr_err e = { 0 };
	memset(id, 0, sizeof(*id));
	id->ctx = ctx;
	if (!*cfg->auth.private_key || !cfg->auth.enabled)
		return 0;
	if (nostr_key_from_str(ctx, &id->key, cfg->auth.private_key, &e) < 0)
		return -1;
	id->usable = 1;
	return 0;
}

void auth_identity_wipe(struct auth_identity *id)
{
	nostr_key_wipe(&id->key);
	id->usable = 0;
}

void auth_session_init(struct auth_session *s, const struct auth_identity *id)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
}

int auth_session_can_answer(const struct auth_session *s)
{
	return s->id && s->id->usable;
}

static void set_reason(struct auth_session *s, const char *text, size_t len)
{
	size_t n = len < AUTH_REASON_MAX ? len : AUTH_REASON_MAX;
	memcpy(s->reason, text, n);
	s->reason[n] = '\0';
}

int auth_session_challenge(struct auth_session *s, const char *relay_url, const struct nostr_msg *m,
			   int64_t now_s, struct buf *out)
{
	struct nostr_event ev;
	struct nostr_err e = { 0 };
	char why[160];
	int rc = 1;
	if (!auth_session_can_answer(s)) {
		if (s->state == AUTH_NOT_ASKED)
			s->state = AUTH_NO_KEY;
		return 0;
	}
	nostr_event_init(&ev);
	if (nostr_auth_event(s->id->ctx, &ev, &s->id->key, relay_url, m->challenge.s, m->challenge.len, now_s, &e) < 0 ||
	    nostr_build_auth(out, &ev, &e) < 0) {
		nostr_err_str(&e, why, sizeof(why));
		s->state = AUTH_REFUSED;
		set_reason(s, why, strlen(why));
		rc = -1;
	} else {
		memcpy(s->event_id, ev.id, 32);
		s->state = AUTH_SENT;
		s->reason[0] = '\0';
	}
	nostr_event_free(&ev);
	return rc;
}

int auth_session_ok(struct auth_session *s, const struct nostr_msg *m)
{
	if (s->state != AUTH_SENT || memcmp(m->event_id, s->event_id, 32) != 0)
		return 0;
	s->state = m->accepted ? AUTH_ACCEPTED : AUTH_REFUSED;
	if (m->accepted)
		s->reason[0] = '\0';
	else if (m->message.len)
		set_reason(s, m->message.s, m->message.len);
	else
		set_reason(s, "OK false without a message", 26);
	return 1;
}

int auth_session_required(struct auth_session *s, const char *msg, size_t len)
{
	static const char prefix[] = "auth-required:";
	if (len < sizeof(prefix) - 1 || memcmp(msg, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	s->required = 1;
	return 1;
}

const char *auth_state_name(enum auth_state st)
{
	static const char *const names[] = { "not-asked", "no-key", "sent", "accepted", "refused" };
	return (unsigned)st < ARRAY_LEN(names) ? names[st] : "?";
}
