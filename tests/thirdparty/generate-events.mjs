// generate-events.mjs — writes tests/fixtures/thirdparty/events.{jsonl,tsv}: events signed by nostr-tools for the third-party relay.
//
// Run once; the outputs are committed (signatures use fresh randomness, so a re-run changes the
// signature bytes but nothing else):
//
//   mkdir -p build/gen && cp tests/thirdparty/package*.json tests/thirdparty/generate-events.mjs build/gen/ &&
//   (cd build/gen && npm ci) && node build/gen/generate-events.mjs tests/fixtures/thirdparty
//
// events.jsonl  one signed event per line, in the order they are published
// events.tsv    per line of events.jsonl: id TAB created_at TAB kind TAB fate TAB case, where fate is what
//               the relay keeps: served; replaced (a newer replaceable/addressable event, or one with the
//               same created_at and a lower id, wins: NIP-01); ephemeral (never stored); expired (NIP-40,
//               refused); future (served, but created after any sync window that ends now); deletion (a
//               kind-5 request: @nostr-relay 0.0.40 acts on it but does not keep it, where NIP-09 says a
//               relay SHOULD keep serving it). Every id is distinct.
import { finalizeEvent, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const out = process.argv[2] || '.'
const hex = (h) => Uint8Array.from(h.match(/../g).map((b) => parseInt(b, 16)))
const KEYS = [
  hex('a1f0000000000000000000000000000000000000000000000000000000000001'),
  hex('b2f0000000000000000000000000000000000000000000000000000000000002'),
  hex('c3f0000000000000000000000000000000000000000000000000000000000003'),
]
const PK = KEYS.map((k) => getPublicKey(k))
const BURST = 1700000000 // the second many events share
const rows = []

function add (name, fate, template, key = 0) {
  const ev = finalizeEvent({ tags: [], content: '', ...template }, KEYS[key])
  if (!verifyEvent(ev)) throw new Error(`${name}: nostr-tools rejects its own event`)
  const plain = { id: ev.id, pubkey: ev.pubkey, created_at: ev.created_at, kind: ev.kind, tags: ev.tags, content: ev.content, sig: ev.sig }
  rows.push({ ev: plain, fate, name })
  return plain
}

// Regular notes spread over five years, by three authors.
for (let i = 0; i < 30; i++)
  add(`note-${i}`, 'served', { kind: 1, created_at: 1577836800 + i * 5259487, content: `note ${i}` }, i % 3)
// One second that holds many events (notes and reactions): paging by created_at must not lose any.
for (let i = 0; i < 12; i++) {
  const liked = rows[i].ev
  add(`burst-${i}`, 'served', i % 3 === 2
    ? { kind: 7, created_at: BURST, content: '+', tags: [['e', liked.id], ['p', liked.pubkey]] }
    : { kind: 1, created_at: BURST, content: `burst ${i}` }, i % 3)
}
// A range of regular kinds.
const kinds = [[4, 'dm'], [5, 'deletion-of-nothing'], [6, 'repost'], [16, 'generic-repost'], [40, 'channel'],
  [42, 'channel-message'], [1063, 'file-metadata'], [1984, 'report'], [9735, 'zap-receipt'], [1111, 'comment']]
for (const [i, [kind, name]] of kinds.entries()) {
  const tags = kind === 5 ? [['e', '0'.repeat(64)]] : [['p', PK[(i + 1) % 3]]]
  add(name, kind === 5 ? 'deletion' : 'served', { kind, created_at: 1690000000 + i * 3600, content: `${name} content`, tags }, i % 3)
}
// Tags and content that stress serialisers.
add('many-tags', 'served', { kind: 1, created_at: 1695000000, content: 'tags', tags: Array.from({ length: 40 }, (_, i) => ['t', `tag${i}`]) })
add('unicode', 'served', { kind: 1, created_at: 1695000001, content: 'héllo 世界 🌍 \u2028 "quoted" \\ back\nnew\tline' }, 1)
add('very-old', 'served', { kind: 1, created_at: 1, content: 'created at 1' }, 2)
// Replaceable (0, 3, 10000-19999) and addressable (30000-39999) events: one survives per key.
add('metadata-old', 'replaced', { kind: 0, created_at: 1680000000, content: '{"name":"old"}' })
add('metadata-new', 'served', { kind: 0, created_at: 1680000100, content: '{"name":"new"}' })
add('contacts-new', 'served', { kind: 3, created_at: 1681000100, tags: [['p', PK[0]]] }, 1)
add('contacts-old-after-new', 'replaced', { kind: 3, created_at: 1681000000, tags: [['p', PK[2]]] }, 1)
const tieA = add('relays-tie-a', 'tbd', { kind: 10002, created_at: 1682000000, tags: [['r', 'wss://a.example']] }, 2)
const tieB = add('relays-tie-b', 'tbd', { kind: 10002, created_at: 1682000000, tags: [['r', 'wss://b.example']] }, 2)
for (const r of rows.slice(-2)) r.fate = r.ev.id === (tieA.id < tieB.id ? tieA.id : tieB.id) ? 'served' : 'replaced'
add('article-v1', 'replaced', { kind: 30023, created_at: 1683000000, content: 'v1', tags: [['d', 'post']] })
add('article-v2', 'served', { kind: 30023, created_at: 1683000500, content: 'v2', tags: [['d', 'post']] })
add('article-other', 'served', { kind: 30023, created_at: 1683000200, content: 'other', tags: [['d', 'other']] })
add('article-same-d-other-author', 'served', { kind: 30023, created_at: 1683000000, content: 'v1', tags: [['d', 'post']] }, 1)
// Never stored: ephemeral kinds, and an event whose NIP-40 expiration has passed.
add('ephemeral', 'ephemeral', { kind: 20001, created_at: 1684000000, content: 'gone' })
add('expired', 'expired', { kind: 1, created_at: 1684000001, content: 'expired', tags: [['expiration', '1684000002']] }, 1)
// Served, but dated 2100: outside any sync window that ends now.
add('future', 'future', { kind: 1, created_at: 4102444800, content: 'from the future' }, 2)

if (new Set(rows.map((r) => r.ev.id)).size !== rows.length) throw new Error('two events have the same id')
writeFileSync(join(out, 'events.jsonl'), rows.map((r) => JSON.stringify(r.ev) + '\n').join(''))
writeFileSync(join(out, 'events.tsv'), rows.map((r) => [r.ev.id, r.ev.created_at, r.ev.kind, r.fate, r.name].join('\t') + '\n').join(''))
console.log(`${rows.length} events`)
