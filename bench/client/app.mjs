// The application-shaped scenarios of the load generator (see bench/servers/app-logic.cjs for
// the application): RPC at a window and at a fixed rate, chat fan-out in rooms, a reconnect
// storm and open/echo/close churn with heap growth. Every reply and delivery is checked.
// Message codecs per client flavour: 'sockjs' (SockJS frames), 'plain' (the `ws` server's
// messages), 'sio' (socket.io packets: the event's JSON payload as socket.io sends it).
import { Sock, flavour, openSocks, wsUrl } from './wsock.mjs';
import { RawWs, rawPath } from './rawws.mjs';
import { fetchMem, measuredWindow, now, percentiles, pool, sleep, snapshot, windowStats } from './util.mjs';

/** One application message (JSON text) as the flavour sends it. */
function encode(kind, event, json) {
  if (kind === 'sockjs') return JSON.stringify([json]);
  if (kind === 'sio') return `42["${event}",${json}]`;
  return json;
}

/** The application messages (objects) in one received frame. */
function decode(kind, data) {
  if (kind === 'sockjs') return JSON.parse(data.toString('utf8', 1)).map((m) => JSON.parse(m));
  if (kind === 'sio') return [JSON.parse(data.toString('utf8', 2))[1]];
  return [JSON.parse(data.toString('utf8'))];
}

/** Resolves once `test()` holds (checked every 10 ms), or with false after `ms`. */
async function until(test, ms) {
  const end = now() + ms;
  while (!test()) {
    if (now() > end) return false;
    await sleep(10);
  }
  return true;
}

function failIfClosed(socks) {
  const bad = socks.find((s) => s.closeFrame !== null || s.error !== null);
  if (bad) throw new Error(`a session failed: ${bad.closeFrame ?? bad.error}`);
}

const rpcRequest = (id) => `{"id":${id},"op":"add","a":${(id * 7) % 1000},"b":${id % 13}}`;
const rpcResult = (id) => ((id * 7) % 1000) + (id % 13);

export function appScenarios({ port, pid, kind: serverKind, recovery, P, CLK }) {
  const kind = flavour(serverKind, false);

  // ---------------------------------------------------------------------------------------------
  // RPC at a window: every session keeps `window` requests outstanding; each reply is checked
  // (id known, result right) and answered by a new request.
  async function rpc() {
    const socks = await openSocks(P.sessions, 100, () => new Sock(wsUrl(port, 'rpc', kind), kind));
    let done = 0;
    let bad = null;
    let running = true;
    for (const s of socks) {
      const pending = new Set();
      let nextId = 1;
      const ask = () => {
        const id = nextId++;
        pending.add(id);
        s.send(encode(kind, 'rpc', rpcRequest(id)));
      };
      s.pending = pending;
      s.onData = (data) => {
        for (const r of decode(kind, data)) {
          if (!pending.delete(r.id) || r.result !== rpcResult(r.id)) bad ??= `wrong reply ${JSON.stringify(r)}`;
          done++;
          if (running) ask();
        }
      };
      for (let i = 0; i < P.window; i++) ask();
    }
    const { a, b } = await measuredWindow(pid, P, () => done, () => {});
    running = false;
    const w = windowStats(a, b, b.n - a.n, CLK);
    const drained = await until(() => socks.every((s) => s.pending.size === 0), 10_000);
    failIfClosed(socks);
    for (const s of socks) s.terminate();
    if (bad !== null) throw new Error(`rpc: ${bad}`);
    if (!drained) throw new Error(`rpc: ${socks.reduce((n, s) => n + s.pending.size, 0)} requests never answered`);
    return { metrics: { req_per_s: w.rate, server_cpu_us_per_req: w.server_cpu_us_per }, info: { ...w, replies_checked: done } };
  }

  // ---------------------------------------------------------------------------------------------
  // RPC at a fixed total rate, round robin over the sessions: CPU per request and latency.
  async function rpcFixed() {
    const socks = await openSocks(P.sessions, 100, () => new Sock(wsUrl(port, 'rpc', kind), kind));
    const sentAt = new Map();
    const cap = Math.ceil(P.rate * (P.measureMs / 1000) * 1.5) + 1000;
    const lat = new Float64Array(cap);
    let nLat = 0;
    let received = 0;
    let bad = null;
    let tRecordFrom = Infinity;
    for (const s of socks) {
      s.onData = (data) => {
        const t = now();
        for (const r of decode(kind, data)) {
          const t0 = sentAt.get(r.id);
          if (t0 === undefined || r.result !== rpcResult(r.id)) bad ??= `wrong reply ${JSON.stringify(r)}`;
          else {
            sentAt.delete(r.id);
            if (t0 >= tRecordFrom && nLat < cap) lat[nLat++] = t - t0;
          }
          received++;
        }
      };
    }
    const t0 = now();
    let sent = 0;
    let next = 0;
    const ticker = setInterval(() => {
      const due = Math.floor(((now() - t0) * P.rate) / 1000) - sent;
      for (let i = 0; i < due; i++) {
        const id = ++sent;
        sentAt.set(id, now());
        socks[next].send(encode(kind, 'rpc', rpcRequest(id)));
        next = (next + 1) % socks.length;
      }
    }, 1);
    const { a, b } = await measuredWindow(pid, P, () => received, (t) => (tRecordFrom = t));
    clearInterval(ticker);
    const drained = await until(() => sentAt.size === 0, 10_000);
    failIfClosed(socks);
    for (const s of socks) s.terminate();
    if (bad !== null) throw new Error(`rpc: ${bad}`);
    if (!drained) throw new Error(`rpc: ${sentAt.size} requests never answered`);
    const w = windowStats(a, b, b.n - a.n, CLK);
    const pct = percentiles(lat.subarray(0, nLat), [50, 99, 99.9, 100]);
    return {
      metrics: { server_cpu_us_per_req: w.server_cpu_us_per, latency_p50_ms: pct[50], latency_p99_ms: pct[99] },
      info: { ...w, latency_p999_ms: pct[99.9], latency_max_ms: pct[100], replies_checked: received, offered_rate: P.rate },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Chat: sessions in rooms, each message sent by one member reaches every member (the sender
  // too) wrapped in the server's envelope; at the end every session must have received exactly
  // what was sent to its room. `chat` keeps `window` messages outstanding over all rooms (the
  // server saturated); `chat-fixed` sends at a fixed `rate` (the same work for every server).

  /**
   * Opens and joins the chat sessions; `onDeliveries(i, frame)` runs after session i checked
   * and counted a frame's deliveries. `send(i, text)` sends a chat message from session i.
   */
  async function chatRoom(onDeliveries) {
    const N = P.sessions;
    // `recovery` (the ours+recovery server): the sessions speak the recovery wire (wsock.mjs).
    const socks = await openSocks(N, 100, () => new Sock(wsUrl(port, 'chat', kind, recovery), kind, null, { recovery }));
    const roomOf = (i) => `r${i % P.rooms}`;
    // Join, each session waiting for its `joined` before the traffic starts.
    await Promise.all(socks.map((s, i) => new Promise((resolve, reject) => {
      s.onData = (data) => {
        const m = decode(kind, data)[0];
        if (m.joined === roomOf(i)) resolve();
        else reject(new Error(`join answered ${JSON.stringify(m)}`));
      };
      s.send(encode(kind, 'join', JSON.stringify({ join: roomOf(i), name: `u${i}` })));
    })));
    const room = {
      size: N / P.rooms,
      got: new Uint32Array(N),
      sentTo: new Map(),
      sent: 0,
      delivered: 0,
      frames: 0,
      bad: null,
      /** Session i sends one message to its room (counted for the final check). */
      note(i) {
        const r = roomOf(i);
        room.sent++;
        room.sentTo.set(r, (room.sentTo.get(r) ?? 0) + 1);
      },
      send(i, text) {
        room.note(i);
        socks[i].send(encode(kind, 'chat', JSON.stringify({ text })));
      },
      /**
       * The measured window (`stop()` ends the traffic after it), then the checks: its figures,
       * with the deliveries per frame (how much the server batched: fewer frames, fewer writes).
       */
      async measure(name, stop) {
        let framesAtStart = 0;
        const { a, b } = await measuredWindow(pid, P, () => room.delivered, () => { framesAtStart = room.frames; });
        const framesInWindow = room.frames - framesAtStart;
        stop();
        const w = windowStats(a, b, b.n - a.n, CLK);
        await room.finish(name);
        return { ...w, messages_sent: room.sent, deliveries_checked: room.delivered, deliveries_per_frame: (b.n - a.n) / framesInWindow };
      },
      /** After the traffic stopped: waits for what is in flight and checks every session's count. */
      async finish(name) {
        await until(() => room.delivered >= room.sent * room.size, 10_000);
        await sleep(200); // anything extra would arrive now
        failIfClosed(socks);
        for (const s of socks) s.terminate();
        if (room.bad !== null) throw new Error(`${name}: ${room.bad}`);
        let wrong = 0;
        for (let i = 0; i < N; i++) if (room.got[i] !== (room.sentTo.get(roomOf(i)) ?? 0)) wrong++;
        if (wrong > 0) {
          throw new Error(`${name}: ${wrong} sessions received a different count than was sent to their room (${room.delivered} deliveries for ${room.sent} messages × ${room.size})`);
        }
      },
    };
    socks.forEach((s, i) => {
      const r = roomOf(i);
      s.onData = (data) => {
        room.frames++;
        const frame = decode(kind, data);
        for (const m of frame) {
          if (m.room !== r || typeof m.from !== 'string' || typeof m.text !== 'string' || typeof m.ts !== 'number') {
            room.bad ??= `session ${i} of ${r} received ${JSON.stringify(m)}`;
          }
        }
        room.got[i] += frame.length;
        room.delivered += frame.length;
        onDeliveries(i, frame);
      };
    });
    return { room, socks };
  }

  async function chat() {
    let running = true;
    let sender = 0;
    const pump = () => {
      while (running && (room.sent - P.window) * room.size < room.delivered) {
        room.send(sender, `m${room.sent + 1}`);
        sender = (sender + 1) % P.sessions;
      }
    };
    const { room } = await chatRoom(pump);
    pump();
    const w = await room.measure('chat', () => (running = false));
    return {
      metrics: { deliveries_per_s: w.rate, deliveries_per_cpu_s: w.per_server_cpu_s, server_cpu_us_per_delivery: w.server_cpu_us_per },
      info: w,
    };
  }

  // The same chat in bursts: each round, one member of every room sends `burst` messages in one
  // frame, and the next round starts when every member has them all. A server that batches
  // then sends each member one frame per round, whatever the machine's pace: at saturation
  // (`chat`) the deliveries per frame follow how server and load generator happen to settle
  // (from 2.5 to 8 in runs of one server), and CPU per delivery follows them.
  async function chatBurst() {
    let running = true;
    let round = 0;
    let due = 0;
    const next = () => {
      due = room.delivered + P.rooms * P.burst * room.size;
      const from = (round * 7) % room.size;
      for (let r = 0; r < P.rooms; r++) {
        const i = from * P.rooms + r;
        const texts = [];
        for (let k = 0; k < P.burst; k++) {
          room.note(i);
          texts.push(JSON.stringify({ text: `m${round}.${k}` }));
        }
        // SockJS: one frame of all of them; socket.io and ws: a frame each, written at once.
        if (kind === 'sockjs') socks[i].send(JSON.stringify(texts));
        else for (const t of texts) socks[i].send(encode(kind, 'chat', t));
      }
      round++;
    };
    const { room, socks } = await chatRoom(() => {
      if (running && room.delivered >= due) next();
    });
    next();
    const w = await room.measure('chat-burst', () => (running = false));
    return { metrics: { server_cpu_us_per_delivery: w.server_cpu_us_per, deliveries_per_s: w.rate }, info: { ...w, rounds: round } };
  }

  // ---------------------------------------------------------------------------------------------
  // One websocket session on the lean client. Calls `opened(conn)` when the session is open
  // (sockjs: `o`; socket.io: `40`; ws: the 101), `message(conn)` on the first app message.
  function rawSession(prefix, { opened, message = null, ended }) {
    let open = false;
    const onText = (t, c) => {
      if (kind === 'sockjs') {
        if (t[0] === 'o') {
          open = true;
          opened(c);
        } else if (t[0] === 'a' && message !== null) message(c);
        else if (t[0] === 'c') c.error ??= new Error(`closed by the server: ${t}`);
      } else if (kind === 'sio') {
        if (t[0] === '4') {
          if (t[1] === '0') {
            open = true;
            opened(c);
          } else if (t[1] === '2' && message !== null) message(c);
          else c.error ??= new Error(`socket.io answered ${t}`);
        } else if (t[0] === '0') c.send('40');
        else if (t[0] === '2') c.send('3');
      } else if (message !== null) message(c);
    };
    const onOpen = kind === 'plain' ? (c) => {
      open = true;
      opened(c);
    } : null;
    return new RawWs(port, rawPath(kind, prefix), { onOpen, onText, onEnd: (err, c) => ended(err ?? (open ? null : new Error('closed before open')), c) });
  }

  const ECHO = { sockjs: '["xxxxxxxxxxxxxxxx"]', sio: '42["echo","xxxxxxxxxxxxxxxx"]', plain: 'xxxxxxxxxxxxxxxx' }[kind];

  /** Open, echo one message, close (the closing handshake completed and the socket closed). */
  function churnOne() {
    return new Promise((resolve, reject) => {
      rawSession('echo', {
        opened: (c) => c.send(ECHO),
        message: (c) => c.close(),
        ended: (err) => (err ? reject(err) : resolve()),
      });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Churn: sessions opened, used once and closed, `concurrency` at a time. The first half is the
  // warm-up; rate, CPU and heap growth (after GC, settled) are the second half's.
  async function appChurn() {
    const half = P.sessions / 2;
    await pool(half, P.concurrency, churnOne);
    await sleep(P.settleMs);
    const before = await fetchMem(port);
    const a = snapshot(pid, { n: 0 });
    await pool(half, P.concurrency, churnOne);
    const b = snapshot(pid, { n: half });
    const w = windowStats(a, b, half, CLK);
    await sleep(P.settleMs);
    const after = await fetchMem(port);
    const scale = 10_000 / half;
    return {
      metrics: {
        sessions_per_s: w.rate,
        server_cpu_us_per_session: w.server_cpu_us_per,
        heap_growth_kib_per_10k: ((after.heapUsed - before.heapUsed) / 1024) * scale,
      },
      info: { ...w, rss_growth_kib_per_10k: ((after.rss - before.rss) / 1024) * scale, server_sessions_after: after.sessions, before, after },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Reconnect storm: `sessions` open, all dropped at once, all reconnecting at once. Connect time
  // is from a session's own start to its open; nothing is retried (a failure counts). The
  // server's CPU, from the drop until all are back, covers closing the old sessions too.
  async function storm() {
    const N = P.sessions;
    const first = [];
    await pool(N, P.concurrency, () => new Promise((resolve, reject) => {
      const c = rawSession('echo', { opened: resolve, ended: (err) => reject(err ?? new Error('closed')) });
      first.push(c);
    }));
    await sleep(P.settleMs);
    const times = new Float64Array(N);
    let back = 0;
    let failed = 0;
    let firstError = null;
    let last = 0;
    const t0 = now();
    const a = snapshot(pid, { n: 0 });
    for (const c of first) {
      c.onEnd = null;
      c.destroy();
    }
    const again = new Array(N);
    for (let i = 0; i < N; i++) {
      const start = now();
      let settled = false;
      again[i] = rawSession('echo', {
        opened: () => {
          if (settled) return;
          settled = true;
          last = now();
          times[back++] = last - start;
        },
        ended: (err) => {
          if (settled) return;
          settled = true;
          failed++;
          firstError ??= err;
        },
      });
    }
    await until(() => back + failed === N, P.timeoutMs);
    const b = snapshot(pid, { n: back });
    const w = windowStats(a, b, back, CLK);
    for (const c of again) c.destroy();
    const missing = N - back - failed;
    const pct = percentiles(times.subarray(0, back), [50, 99, 100]);
    return {
      metrics: { all_back_ms: back === N ? last - t0 : null, connect_p99_ms: pct[99], failed: failed + missing, server_cpu_us_per_session: w.server_cpu_us_per },
      info: { ...w, connect_p50_ms: pct[50], connect_max_ms: pct[100], reconnected: back, never_answered: missing,
        first_error: firstError === null ? null : String(firstError.message ?? firstError) },
    };
  }

  return { rpc, 'rpc-fixed': rpcFixed, chat, 'chat-burst': chatBurst, storm, 'app-churn': appChurn };
}
