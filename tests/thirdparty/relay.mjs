// relay.mjs — a third-party Nostr relay for brotr's tests: @nostr-relay/core with its validator and sqlite store, over ws.
//
// usage: node relay.mjs [--port N] [--events FILE.jsonl] [--default-limit N] [--db FILE]
//   --port N           loopback port for ws:// and the NIP-11 document (0, the default: any free port)
//   --events FILE      JSONL, one event per line, stored at start through the library's own handling
//                      (id and signature checked, replaceable and addressable events replaced,
//                      ephemeral ones not kept), as if each had been published
//   --default-limit N  the store's limit for a filter without one (default 100); it silently caps
//                      any requested limit at 10 times this (the library's rule)
//   --db FILE          sqlite file (default ":memory:": nothing outlives the process)
//   --no-caches        turn off the library's two caches (on by default, as in any deployment): REQ
//                      results per identical filter for 1 s, and the answer to an EVENT per id
//   --auth HOSTNAME    NIP-42 on (the library's `hostname` option): the library sends a challenge on
//                      connect and checks ["AUTH",<event>] (kind 22242, its challenge, a relay tag
//                      whose URL hostname is HOSTNAME, created_at within 10 minutes). The library
//                      requires AUTH only for DMs; this host refuses any REQ before AUTH with
//                      CLOSED "auth-required: ..." (the host's policy, through relay.isAuthorized)
// Prints "ready port=P loaded=N rejected=M" on stdout once listening (rejections on stderr); the
// library's own log goes to stderr. Stops on SIGTERM or SIGINT.
//
// The relay logic (messages, subscriptions, filters, limits, ordering, validation, storage) is the
// library's; this script only wires it to a loopback ws server, as the library's README shows, and
// answers NIP-11, which the library leaves to its host.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { createOutgoingNoticeMessage } from '@nostr-relay/common'
import { NostrRelay } from '@nostr-relay/core'
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite'
import { Validator } from '@nostr-relay/validator'
import { WebSocketServer } from 'ws'

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    events: { type: 'string' },
    'default-limit': { type: 'string', default: '100' },
    db: { type: 'string', default: ':memory:' },
    'no-caches': { type: 'boolean', default: false },
    auth: { type: 'string' },
  },
})
const defaultLimit = Number(opt['default-limit'])
const version = createRequire(import.meta.url)('@nostr-relay/core/package.json').version

const stderrLogger = {
  level: 1,
  setLogLevel (level) { this.level = level },
  debug (...a) { if (this.level <= 0) console.error('debug', ...a) },
  info (...a) { if (this.level <= 1) console.error('info', ...a) },
  warn (...a) { if (this.level <= 2) console.error('warn', ...a) },
  error (...a) { console.error('error', ...a) },
}

const store = new EventRepositorySqlite(opt.db, { defaultLimit })
await store.init()
const caches = opt['no-caches'] ? { filterResultCacheTtl: 0, eventHandlingResultCacheTtl: 0 } : {}
const relay = new NostrRelay(store, { logger: stderrLogger, ...caches, ...(opt.auth ? { hostname: opt.auth } : {}) })
const validator = new Validator()

// Loads the JSONL file through the library's event handling; returns [loaded, rejected].
async function load (file) {
  let loaded = 0
  let rejected = 0
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '')
  for (const [i, line] of lines.entries()) {
    let result
    try {
      result = await relay.handleEvent(await validator.validateEvent(line))
    } catch (e) {
      result = { success: false, message: e.message }
    }
    if (result.success) {
      loaded++
    } else {
      rejected++
      console.error(`${file}:${i + 1}: rejected: ${result.message}`)
    }
  }
  return [loaded, rejected]
}

const info = {
  name: 'nostr-relay (brotr tests)',
  description: 'a third-party relay for brotr tests',
  software: 'https://github.com/CodyTseng/nostr-relay',
  version,
  supported_nips: [1, 9, 11, 40],
  limitation: { max_limit: defaultLimit * 10, default_limit: defaultLimit },
}

function nip11 (req, res) {
  if ((req.headers.accept || '').includes('application/nostr+json')) {
    res.writeHead(200, { 'Content-Type': 'application/nostr+json', 'Access-Control-Allow-Origin': '*' })
    res.end(JSON.stringify(info))
  } else {
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    res.end('Please use a Nostr client to connect.\n')
  }
}

// The library's README, almost word for word: validate, hand over, report errors as NOTICE.
function serve (ws) {
  relay.handleConnection(ws)
  ws.on('message', async (data) => {
    try {
      const msg = await validator.validateIncomingMessage(data)
      if (opt.auth && msg[0] === 'REQ' && !relay.isAuthorized(ws)) {
        ws.send(JSON.stringify(['CLOSED', msg[1], 'auth-required: this relay serves authenticated clients only']))
        return
      }
      await relay.handleMessage(ws, msg)
    } catch (e) {
      ws.send(JSON.stringify(createOutgoingNoticeMessage(e.message)))
    }
  })
  ws.on('close', () => relay.handleDisconnect(ws))
  ws.on('error', (e) => console.error('error', e.message))
}

const [loaded, rejected] = opt.events ? await load(opt.events) : [0, 0]
const server = createServer(nip11)
new WebSocketServer({ server }).on('connection', serve)
server.listen(Number(opt.port), '127.0.0.1', () => {
  console.log(`ready port=${server.address().port} loaded=${loaded} rejected=${rejected}`)
})
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0))
