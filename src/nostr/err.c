/* err.c — rejection reasons as text. */
#include "nostr/err.h"

#include <stdio.h>

int nostr_fail(struct nostr_err *e, enum nostr_errc code, const char *field, const char *detail)
{
	if (e) {
		e->code = code;
		e->field = field;
		e->detail = detail;
		e->offset = 0;
		e->has_offset = 0;
	}
	return -1;
}

const char *nostr_errc_name(enum nostr_errc code)
{
	switch (code) {
	case NOSTR_OK: return "ok";
	case NOSTR_E_NOMEM: return "out of memory";
	case NOSTR_E_TOO_LARGE: return "too large";
	case NOSTR_E_NOT_JSON: return "not JSON";
	case NOSTR_E_TYPE: return "wrong type";
	case NOSTR_E_MISSING: return "missing field";
	case NOSTR_E_DUPLICATE: return "duplicate field";
	case NOSTR_E_FIELD: return "bad field";
	case NOSTR_E_ID: return "bad id";
	case NOSTR_E_PUBKEY: return "bad pubkey";
	case NOSTR_E_SIG: return "bad signature";
	case NOSTR_E_MESSAGE: return "bad message";
	case NOSTR_E_ARG: return "bad argument";
	}
	return "unknown error";
}

const char *nostr_err_str(const struct nostr_err *e, char *out, size_t n)
{
	if (n == 0)
		return out;
	const char *name = nostr_errc_name(e->code);
	const char *field = e->field ? e->field : "";
	const char *sep = e->field ? " " : "";
	const char *detail = e->detail ? e->detail : "";
	const char *colon = e->detail ? ": " : "";
	int w;
	switch (e->code) {
	case NOSTR_E_MISSING:
	case NOSTR_E_DUPLICATE:
	case NOSTR_E_FIELD:
	case NOSTR_E_MESSAGE:
	case NOSTR_E_ARG:
		w = snprintf(out, n, "%s%s%s%s%s", name, sep, field, colon, detail);
		break;
	default:
		w = snprintf(out, n, "%s%s%s", name, colon, detail);
		break;
	}
	if (e->has_offset && w >= 0 && (size_t)w < n)
		snprintf(out + w, n - (size_t)w, " at byte %zu", e->offset);
	return out;
}
