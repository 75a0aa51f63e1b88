// client.mjs — a minimal Nostr client for tests against any relay: publish a JSONL file of events, or dump a REQ.
//
// usage: node client.mjs publish URL FILE.jsonl
//          sends every line as ["EVENT", <event>] and waits for each OK; prints one line per event
//          that was refused (REFUSED <id> <message>) and then "published=N accepted=A refused=R"
//          (a duplicate counts as accepted). Exit status 0 when every event was accepted.
//        node client.mjs req URL FILTER_JSON
//          sends ["REQ", "dump", FILTER] and prints every event received before EOSE, one JSON
//          object per line, in the relay's order. Exit status 0 on EOSE, 1 on CLOSED.
// Any other answer (NOTICE) goes to stderr. Gives up after 60 s without a message from the relay.
import { readFileSync } from 'node:fs'
import WebSocket from 'ws'

const [cmd, url, arg] = process.argv.slice(2)
if (!['publish', 'req'].includes(cmd) || !url || !arg) {
  console.error('usage: node client.mjs publish URL FILE.jsonl | req URL FILTER_JSON')
  process.exit(2)
}

const ws = new WebSocket(url)
let watchdog
function alive () {
  clearTimeout(watchdog)
  watchdog = setTimeout(() => { console.error('client: no answer from the relay within 60 s'); process.exit(1) }, 60000)
}
alive()
ws.on('error', (e) => { console.error(`client: ${e.message}`); process.exit(1) })

function publish () {
  const events = readFileSync(arg, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l))
  let next = 0
  let accepted = 0
  let refused = 0
  const send = () => {
    if (next === events.length) {
      console.log(`published=${events.length} accepted=${accepted} refused=${refused}`)
      process.exit(refused ? 1 : 0)
    }
    ws.send(JSON.stringify(['EVENT', events[next]]))
  }
  ws.on('message', (data) => {
    alive()
    const m = JSON.parse(data.toString())
    if (m[0] !== 'OK' || m[1] !== events[next].id) return console.error(data.toString())
    if (m[2]) accepted++
    else refused++, console.log(`REFUSED ${m[1]} ${m[3]}`)
    next++
    send()
  })
  ws.on('open', send)
}

function req () {
  ws.on('message', (data) => {
    alive()
    const m = JSON.parse(data.toString())
    if (m[0] === 'EVENT' && m[1] === 'dump') console.log(JSON.stringify(m[2]))
    else if (m[0] === 'EOSE' && m[1] === 'dump') process.exit(0)
    else if (m[0] === 'CLOSED' && m[1] === 'dump') console.error(`CLOSED ${m[2]}`), process.exit(1)
    else console.error(data.toString())
  })
  ws.on('open', () => ws.send(JSON.stringify(['REQ', 'dump', JSON.parse(arg)])))
}

if (cmd === 'publish') publish()
else req()
