// nip66-check.mjs — reads a monitor's NIP-66 events back from a relay, verifies each with nostr-tools and checks its tags against NIP-66.
//
// usage: node nip66-check.mjs URL PUBKEY
//   sends ["REQ","nip66",{"authors":[PUBKEY],"kinds":[30166,10166,0,10002],"limit":1000}] and prints, in the
//   relay's order, one line per event:
//     30166 <d> n=<network> N=<nips> R=<requirements> t=<topics> k=<kinds> rtt=<open,read,write>
//           expires_in=<s> content=<the NIP-11 document's name, or ->
//     10166 frequency=<s> timeout=<check:ms,...> c=<checks> n=<networks>
//     0 <content>   |   10002 r=<urls>
//   then "events=N invalid=M". An event that nostr-tools does not verify, or whose tags break
//   NIP-66, prints "INVALID <kind> <id> <why>" instead of its line. Exit status 0 when none is invalid.
import WebSocket from 'ws'
import { verifyEvent } from 'nostr-tools/pure'

const [url, pubkey] = process.argv.slice(2)
if (!url || !/^[0-9a-f]{64}$/.test(pubkey || '')) {
  console.error('usage: node nip66-check.mjs URL PUBKEY')
  process.exit(2)
}

const REQS = new Set(['auth', 'payment', 'writes', 'pow'])
const NETWORKS = new Set(['clearnet', 'tor', 'i2p', 'loki'])
const all = (ev, name) => ev.tags.filter((t) => t[0] === name)
const values = (ev, name) => all(ev, name).map((t) => t[1])
const isInt = (s) => typeof s === 'string' && /^(0|[1-9][0-9]*)$/.test(s)

// Returns the problem with a 30166 event, or ''.
function check30166 (ev) {
  const d = all(ev, 'd')
  if (d.length !== 1 || !/^wss?:\/\/[^/\s]+(\/[^\s]*[^/])?$/.test(d[0][1] || '')) return 'd must be one normalised ws(s) URL'
  if (ev.tags.some((t) => t.length !== 2)) return 'every 30166 tag has one value'
  if (!values(ev, 'n').every((n) => NETWORKS.has(n))) return 'n must be a NIP-66 network'
  for (const r of ['rtt-open', 'rtt-read', 'rtt-write']) if (!values(ev, r).every(isInt)) return `${r} must be milliseconds`
  if (!values(ev, 'N').every(isInt)) return 'N must be NIP numbers'
  if (!values(ev, 'R').every((r) => REQS.has(r.replace(/^!/, '')))) return 'R must be auth, payment, writes or pow'
  if (!values(ev, 'k').every((k) => isInt(k.replace(/^!/, '')))) return 'k must be kinds'
  const exp = values(ev, 'expiration')
  if (exp.length !== 1 || !isInt(exp[0]) || Number(exp[0]) <= ev.created_at) return 'one NIP-40 expiration after created_at'
  if (ev.content !== '') {
    let doc
    try { doc = JSON.parse(ev.content) } catch { return 'content must be the NIP-11 document (JSON)' }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'content must be a JSON object'
  }
  return ''
}

function check10166 (ev) {
  if (all(ev, 'frequency').length !== 1 || !isInt(values(ev, 'frequency')[0])) return 'one frequency in seconds'
  if (!all(ev, 'timeout').every((t) => t.length === 3 && /^[a-z0-9]+$/.test(t[1]) && isInt(t[2]))) {
    return 'timeout tags are ["timeout", <check>, <ms>]'
  }
  if (!values(ev, 'c').every((c) => /^[a-z0-9]+$/.test(c))) return 'c must be lowercase checks'
  if (!values(ev, 'n').every((n) => NETWORKS.has(n))) return 'n must be a NIP-66 network'
  return ''
}

function line (ev) {
  const now = Math.floor(Date.now() / 1000)
  if (ev.kind === 30166) {
    const rtt = ['rtt-open', 'rtt-read', 'rtt-write'].map((r) => values(ev, r)[0] ? r.slice(4) : '').filter(Boolean)
    let name = '-'
    if (ev.content) name = JSON.parse(ev.content).name || '-'
    return `30166 ${values(ev, 'd')[0]} n=${values(ev, 'n').join(',')} N=${values(ev, 'N').join(',')} ` +
      `R=${values(ev, 'R').join(',')} t=${values(ev, 't').join(',')} k=${values(ev, 'k').join(',')} ` +
      `rtt=${rtt.join(',')} expires_in=${Number(values(ev, 'expiration')[0]) - now} content=${name}`
  }
  if (ev.kind === 10166) {
    return `10166 frequency=${values(ev, 'frequency')[0]} ` +
      `timeout=${all(ev, 'timeout').map((t) => `${t[1]}:${t[2]}`).join(',')} c=${values(ev, 'c').join(',')} ` +
      `n=${values(ev, 'n').join(',')}`
  }
  if (ev.kind === 0) return `0 ${ev.content}`
  return `10002 r=${values(ev, 'r').join(',')}`
}

const ws = new WebSocket(url)
const watchdog = setTimeout(() => { console.error('nip66-check: no EOSE within 60 s'); process.exit(1) }, 60000)
let events = 0
let invalid = 0
ws.on('error', (e) => { console.error(`nip66-check: ${e.message}`); process.exit(1) })
ws.on('open', () => ws.send(JSON.stringify(['REQ', 'nip66', { authors: [pubkey], kinds: [30166, 10166, 0, 10002], limit: 1000 }])))
ws.on('message', (data) => {
  const m = JSON.parse(data.toString())
  if (m[0] === 'EOSE') {
    clearTimeout(watchdog)
    console.log(`events=${events} invalid=${invalid}`)
    process.exit(invalid ? 1 : 0)
  }
  if (m[0] !== 'EVENT') return console.error(data.toString())
  const ev = m[2]
  events++
  const why = !verifyEvent(ev) ? 'nostr-tools does not verify it'
    : ev.kind === 30166 ? check30166(ev) : ev.kind === 10166 ? check10166(ev) : ''
  if (why) {
    invalid++
    console.log(`INVALID ${ev.kind} ${ev.id} ${why}`)
  } else {
    console.log(line(ev))
  }
})
