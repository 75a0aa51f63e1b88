/* event_json.c — an event as JSON: the NIP-01 canonical array, the tags array, the full object; the id. */
#include "nostr/event.h"

#include <openssl/sha.h>
#include <string.h>

/* Appends the decimal form of v (no sign, no leading zeros). */
static void put_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_append(b, tmp + i, sizeof(tmp) - i);
}

static void put_hex(struct buf *b, const unsigned char *p, size_t n)
{
	char hex[129];
	hex_encode(p, n, hex);
	buf_putc(b, '"');
	buf_append(b, hex, 2 * n);
	buf_putc(b, '"');
}

void nostr_event_tags_json(const struct nostr_event *ev, struct buf *out)
{
	buf_putc(out, '[');
	for (size_t i = 0; i < ev->n_tags; i++) {
		if (i)
			buf_putc(out, ',');
		buf_putc(out, '[');
		for (size_t j = 0; j < ev->tags[i].n; j++) {
			if (j)
				buf_putc(out, ',');
			json_write_str(out, ev->tags[i].items[j].s, ev->tags[i].items[j].len);
		}
		buf_putc(out, ']');
	}
	buf_putc(out, ']');
}

void nostr_event_serialize(const struct nostr_event *ev, struct buf *out)
{
	buf_reserve(out, 160 + ev->content.len);
	buf_append(out, "[0,", 3);
	put_hex(out, ev->pubkey, 32);
	buf_putc(out, ',');
	put_u64(out, (uint64_t)ev->created_at);
	buf_putc(out, ',');
	put_u64(out, ev->kind);
	buf_putc(out, ',');
	nostr_event_tags_json(ev, out);
	buf_putc(out, ',');
	json_write_str(out, ev->content.s, ev->content.len);
	buf_putc(out, ']');
}

void nostr_event_to_json(const struct nostr_event *ev, struct buf *out)
{
	buf_puts(out, "{\"id\":");
	put_hex(out, ev->id, 32);
	buf_puts(out, ",\"pubkey\":");
	put_hex(out, ev->pubkey, 32);
	buf_puts(out, ",\"created_at\":");
	put_u64(out, (uint64_t)ev->created_at);
	buf_puts(out, ",\"kind\":");
	put_u64(out, ev->kind);
	buf_puts(out, ",\"tags\":");
	nostr_event_tags_json(ev, out);
	buf_puts(out, ",\"content\":");
	json_write_str(out, ev->content.s, ev->content.len);
	buf_puts(out, ",\"sig\":");
	put_hex(out, ev->sig, 64);
	buf_putc(out, '}');
}

int nostr_event_compute_id(const struct nostr_event *ev, struct buf *scratch, unsigned char out[32])
{
	struct buf local;
	buf_init(&local);
	struct buf *b = scratch ? scratch : &local;
	buf_reset(b);
	nostr_event_serialize(ev, b);
	int rc = b->failed ? -1 : 0;
	if (rc == 0)
		SHA256((const unsigned char *)b->data, b->len, out);
	buf_free(&local);
	return rc;
}

int nostr_event_check_id(const struct nostr_event *ev, struct buf *scratch, struct nostr_err *err)
{
	unsigned char id[32];
	if (nostr_event_compute_id(ev, scratch, id) < 0)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "serialisation");
	if (memcmp(id, ev->id, 32) != 0)
		return nostr_fail(err, NOSTR_E_ID, NULL, "not the hash of the event");
	return 0;
}
