// negentropy.mjs — NIP-77 cross tests: @nostr-dev-kit/sync's Negentropy behind the reference harness protocol,
// item sets with known differences, and a runner that reconciles two harness processes and checks have/need.
//
//   node negentropy.mjs harness                        FRAMESIZELIMIT from the environment
//   node negentropy.mjs gen N DIFF LAYOUT SEED A B     N items, a fraction DIFF of them on one side only
//                                                      (LAYOUT clustered: runs of 50 neighbours; scattered)
//   node negentropy.mjs pair 'CMD_A' 'CMD_B' A B [FRAME_A [FRAME_B]]
//        CMD_A initiates over set A, CMD_B responds over set B; prints one JSON line: rounds, bytes each
//        way, have/need counts, and ok (have == A\B and need == B\A, as sets). Exits 1 when not ok.
//   node negentropy.mjs bench N                        CPU time of storage building and one in-process
//        reconciliation with 1% missing, on the same items as `neg_tool bench N`
//
// Sets are text files of "timestamp,idhex" lines. Timestamps stay below 2^31: this library's varints
// use 32-bit shifts (`n >>>= 7`, `res << 7`) and break above that.
import { spawn } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Negentropy, NegentropyStorage } from '@nostr-dev-kit/sync';

// The library calls the global Web Crypto, which Node 18 (Debian 12's) has only behind a flag.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

const toHex = (u8) => Buffer.from(u8).toString('hex');
const fromHex = (s) => new Uint8Array(Buffer.from(s, 'hex'));

async function harness() {
	const frame = parseInt(process.env.FRAMESIZELIMIT || '0', 10);
	const storage = new NegentropyStorage();
	let ne;
	const rl = createInterface({ input: process.stdin, terminal: false });
	for await (const line of rl) {
		if (!line) continue;
		const f = line.split(',');
		if (f[0] === 'item') storage.insert(parseInt(f[1], 10), f[2]);
		else if (f[0] === 'seal') { storage.seal(); ne = new Negentropy(storage, frame); }
		else if (f[0] === 'initiate') console.log(`msg,${toHex(await ne.initiate())}`);
		else if (f[0] === 'msg') {
			const r = await ne.reconcile(fromHex(f[1] || ''));
			for (const id of r.have) console.log(`have,${toHex(id)}`);
			for (const id of r.need) console.log(`need,${toHex(id)}`);
			console.log(r.nextMessage === undefined ? 'done' : `msg,${toHex(r.nextMessage)}`);
		} else throw new Error(`unknown command ${f[0]}`);
	}
}

// A small deterministic generator (mulberry32), so every run builds the same sets.
function rng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function gen(n, diff, layout, seed, fileA, fileB) {
	const rand = rng(seed);
	const side = new Uint8Array(n); // 0 both, 1 only A, 2 only B
	const want = Math.round(n * diff);
	for (let done = 0; done < want;) {
		const run = layout === 'clustered' ? Math.min(50, want - done) : 1;
		const start = Math.floor(rand() * Math.max(1, n - run + 1));
		const which = rand() < 0.5 ? 1 : 2;
		for (let i = start; i < start + run && done < want; i++) if (!side[i]) { side[i] = which; done++; }
	}
	const a = [], b = [];
	for (let i = 0; i < n; i++) {
		const ts = 1700000000 + Math.floor(i / 3); // several items per second, as on a busy relay
		const id = createHash('sha256').update(`brotr neg ${seed} ${i}`).digest('hex');
		if (side[i] !== 2) a.push(`${ts},${id}`);
		if (side[i] !== 1) b.push(`${ts},${id}`);
	}
	writeFileSync(fileA, a.length ? a.join('\n') + '\n' : '');
	writeFileSync(fileB, b.length ? b.join('\n') + '\n' : '');
}

function start(cmd, frame) {
	const env = { ...process.env };
	if (frame) env.FRAMESIZELIMIT = String(frame); else delete env.FRAMESIZELIMIT;
	const child = spawn('sh', ['-c', cmd], { env, stdio: ['pipe', 'pipe', 'inherit'] });
	// A side that dies fails the run at once: nothing is left waiting for its answer.
	child.on('exit', (code, signal) => {
		if (!child.finished) {
			console.error(`negentropy.mjs: ${cmd}: exited (${signal || code}) before the reconciliation ended`);
			process.exit(1);
		}
	});
	const lines = createInterface({ input: child.stdout, terminal: false })[Symbol.asyncIterator]();
	const next = async () => {
		const r = await lines.next();
		if (r.done) throw new Error(`${cmd}: ended early`);
		if (r.value.startsWith('err,')) throw new Error(`${cmd}: ${r.value}`);
		return r.value;
	};
	return { child, next, send: (s) => child.stdin.write(s) };
}

const readSet = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

async function pair(cmdA, cmdB, fileA, fileB, frameA, frameB) {
	const setA = readSet(fileA), setB = readSet(fileB);
	const a = start(cmdA, frameA), b = start(cmdB, frameB);
	a.send(setA.map((l) => `item,${l}\n`).join('') + 'seal\ninitiate\n');
	b.send(setB.map((l) => `item,${l}\n`).join('') + 'seal\n');
	const have = new Set(), need = new Set();
	let msg = await a.next(), rounds = 0, up = 0, down = 0, maxMsg = 0;
	while (msg !== 'done') {
		if (!msg.startsWith('msg,')) throw new Error(`initiator said ${msg}`);
		up += (msg.length - 4) / 2;
		maxMsg = Math.max(maxMsg, (msg.length - 4) / 2);
		b.send(`${msg}\n`);
		const reply = await b.next();
		down += (reply.length - 4) / 2;
		maxMsg = Math.max(maxMsg, (reply.length - 4) / 2);
		rounds++;
		a.send(`${reply}\n`);
		for (msg = await a.next(); msg.startsWith('have,') || msg.startsWith('need,'); msg = await a.next())
			(msg[0] === 'h' ? have : need).add(msg.slice(5));
	}
	a.child.finished = b.child.finished = true;
	a.child.stdin.end();
	b.child.stdin.end();
	const idsA = new Set(setA.map((l) => l.split(',')[1])), idsB = new Set(setB.map((l) => l.split(',')[1]));
	const trueHave = [...idsA].filter((x) => !idsB.has(x)), trueNeed = [...idsB].filter((x) => !idsA.has(x));
	const same = (got, want) => got.size === want.length && want.every((x) => got.has(x));
	const ok = same(have, trueHave) && same(need, trueNeed);
	console.log(JSON.stringify({ ok, rounds, bytes_up: up, bytes_down: down, max_message: maxMsg,
		have: have.size, need: need.size, true_have: trueHave.length, true_need: trueNeed.length }));
	return ok;
}

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

// The items of neg_tool's bench: id sha256("neg bench <i>"), timestamp 1700000000 + i/3; drop leaves out i % 100 == 50.
function benchStorage(n, drop) {
	const items = [];
	for (let i = 0; i < n; i++)
		if (!drop || i % 100 !== 50) items.push([1700000000 + Math.floor(i / 3), createHash('sha256').update(`neg bench ${i}`).digest()]);
	const t0 = cpuMs(), st = new NegentropyStorage();
	for (const [ts, id] of items) st.insert(ts, new Uint8Array(id));
	st.seal();
	return [st, cpuMs() - t0];
}

async function bench(n) {
	const [full, build] = benchStorage(n, false), [part] = benchStorage(n, true);
	const t0 = cpuMs(), c = new Negentropy(part, 0), s = new Negentropy(full, 0);
	let q = await c.initiate(), rounds = 0, bytes = q.length, need = 0;
	while (q !== undefined) {
		const r = (await s.reconcile(q)).nextMessage;
		const res = await c.reconcile(r);
		rounds++, bytes += r.length + (res.nextMessage ? res.nextMessage.length : 0), need += res.need.length;
		q = res.nextMessage;
	}
	console.log(`negentropy (JavaScript, @nostr-dev-kit/sync), ${n} items: storage build ${build.toFixed(1)} ms CPU; ` +
		`reconciliation with 1% missing ${(cpuMs() - t0).toFixed(1)} ms CPU (${rounds} round trips, ${bytes} bytes, ${need} ids needed)`);
}

const [mode, ...args] = process.argv.slice(2);
try {
	if (mode === 'harness') await harness();
	else if (mode === 'bench') await bench(+args[0]);
	else if (mode === 'gen') gen(+args[0], +args[1], args[2], +args[3], args[4], args[5]);
	else if (mode === 'pair') process.exitCode = (await pair(args[0], args[1], args[2], args[3], +(args[4] || 0), +(args[5] || 0))) ? 0 : 1;
	else { console.error('usage: negentropy.mjs harness | bench N | gen N DIFF LAYOUT SEED A B | pair CMD_A CMD_B A B [FRAME_A [FRAME_B]]'); process.exitCode = 2; }
} catch (e) {
	console.error(`negentropy.mjs: ${e.message}`);
	process.exitCode = 1;
}
