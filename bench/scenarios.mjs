// The scenario matrix of `npm run bench`: what the load generator runs, against which servers,
// which figures go into the table, and the project's target for each.
//
// Target kinds (a metric has one `target`, or `targets`, all of which must hold):
//   { vs: 'ws' | 'sockjs' | 'sio', op: '>=' | '<=', value }  ratio ours/<other> measured in the same run
//   { abs: '<=' | '>=' | '±', value, unit, of? }              ours' own figure (or <of>'s)
//   { of, vs, op, value }                                     ratio <of>/<vs> (e.g. of: 'ours+recovery', vs: 'ours')
//   { of, vs, diff: '<=', value, unit }                       difference <of> − <vs>, in the metric's unit
// Scenarios with `app: true` run on the application servers (bench/servers/app-*): for ours and
// sockjs-node the standard test server's services plus /rpc and /chat (app-logic.cjs).

export const SERVER_NAMES = {
  ours: 'ours',
  sockjs: 'sockjs-node',
  ws: 'ws',
  sio: 'socket.io',
  floor: 'bare http',
  'ours+recovery': 'ours+recovery',
  'ours+deflate': 'ours+deflate',
};

/**
 * Variants of ours: the same server scripts with one option on (`env`, read by
 * bench/servers/common.mjs variantOptions()), and what the load generator must know (`client`,
 * merged into its server config). They run only in the scenarios that name them.
 */
export const VARIANTS = {
  // Recovery on (docs/recovery.md); the client's websocket sessions speak the recovery wire.
  'ours+recovery': { env: { BENCH_RECOVERY: '1' }, client: { recovery: true } },
  // Compression on, with its defaults (threshold 1 KiB, level 6, 32 KiB window).
  'ours+deflate': { env: { BENCH_COMPRESSION: '1' }, client: {} },
};

const SIZE_LABEL = { 32: '32B', 4096: '4KB' };

export function buildScenarios({ quick }) {
  // Throughput windows: warm-up (not counted) then measurement.
  const win = quick ? { warmupMs: 250, measureMs: 500 } : { warmupMs: 1000, measureMs: 3000 };
  const idleSessions = quick ? 2000 : 10_000;
  const list = [];
  const APP_SERVERS = ['ours', 'sockjs', 'ws', 'sio'];

  // --- application-shaped (issues #19 and #16) ----------------------------------------------------
  const appWin = quick ? { warmupMs: 300, measureMs: 700 } : { warmupMs: 1000, measureMs: 2500 };
  const rpcSessions = quick ? 200 : 1000;
  list.push({
    id: `rpc ${rpcSessions}x4`,
    group: 'rpc',
    title: `RPC: ${rpcSessions.toLocaleString('en-US')} sessions, 4 requests outstanding each; the server parses {"id","op","a","b"} and replies {"id","result"}, every reply checked`,
    client: 'rpc',
    app: true,
    servers: APP_SERVERS,
    params: { sessions: rpcSessions, window: 4, ...appWin },
    maxFds: rpcSessions,
    metrics: [
      { key: 'req_per_s', label: 'requests/s', better: 'higher', fmt: 'int', throughput: true },
      { key: 'server_cpu_us_per_req', label: 'server CPU µs/request (saturated)', better: 'lower', fmt: 'us' },
    ],
  });
  list.push({
    id: 'rpc-fixed 5k/s',
    group: 'rpc-fixed',
    title: `RPC at a fixed 5,000 requests/s over ${rpcSessions.toLocaleString('en-US')} sessions: server CPU per request and latency`,
    client: 'rpc-fixed',
    app: true,
    servers: APP_SERVERS,
    params: { sessions: rpcSessions, rate: 5000, warmupMs: appWin.warmupMs, measureMs: quick ? 1000 : 3000 },
    maxFds: rpcSessions,
    metrics: [
      { key: 'server_cpu_us_per_req', label: 'server CPU µs/request', better: 'lower', fmt: 'us',
        targets: [{ vs: 'sio', op: '<=', value: 0.6 }, { vs: 'ws', op: '<=', value: 0.9 }] },
      { key: 'latency_p50_ms', label: 'latency p50 ms', better: 'lower', fmt: 'ms' },
      { key: 'latency_p99_ms', label: 'latency p99 ms', better: 'lower', fmt: 'ms', target: { vs: 'ws', op: '<=', value: 1.0 } },
    ],
  });
  const chatSessions = quick ? 200 : 1000;
  list.push({
    id: `chat 20x${chatSessions / 20}`,
    group: 'chat',
    title: `chat fan-out: ${chatSessions.toLocaleString('en-US')} sessions in 20 rooms; each message parsed, wrapped as {"from","room","text","ts"} and sent to its room (200 outstanding); every delivery counted per receiver`,
    client: 'chat',
    app: true,
    // ours+recovery: the same chat with `recovery` on and clients that ask for it (issue #21).
    servers: [...APP_SERVERS, 'ours+recovery'],
    params: { sessions: chatSessions, rooms: 20, window: 200, ...appWin },
    maxFds: chatSessions,
    metrics: [
      { key: 'deliveries_per_cpu_s', label: 'deliveries per server CPU-s', better: 'higher', fmt: 'int',
        targets: [{ vs: 'sio', op: '>=', value: 2.0 }, { vs: 'ws', op: '>=', value: 1.3 }] },
      // Recovery's cost (issue #21: at most 1.1×) is judged in the recovery-cost rows: runs of one
      // server minutes apart differ by more than that margin.
      { key: 'server_cpu_us_per_delivery', label: 'server CPU µs/delivery', better: 'lower', fmt: 'us' },
      { key: 'deliveries_per_s', label: 'deliveries/s', better: 'higher', fmt: 'int', throughput: true },
    ],
  });
  list.push({
    id: `chat-burst 20x${chatSessions / 20}`,
    group: 'chat-burst',
    title: `chat fan-out in bursts: the same rooms and checks as chat; each round one member of every room sends 5 messages in one frame, the next round when all are delivered (each member's frame then holds the whole burst, on any machine)`,
    client: 'chat-burst',
    app: true,
    servers: [...APP_SERVERS, 'ours+recovery'],
    params: { sessions: chatSessions, rooms: 20, burst: 5, ...appWin },
    maxFds: chatSessions,
    metrics: [
      { key: 'server_cpu_us_per_delivery', label: 'server CPU µs/delivery', better: 'lower', fmt: 'us' },
      { key: 'deliveries_per_s', label: 'deliveries/s', better: 'higher', fmt: 'int', throughput: true },
    ],
  });
  // Recovery's CPU cost on the chat fan-out (issue #21: at most 1.1× plain), measured with both
  // servers running at once in alternating blocks (bench/side-by-side.mjs, both orders); each
  // repeat is a fresh pair of processes. 1,000 sessions in 20 rooms, as chat and chat-burst.
  for (const [shape, like] of [['chat', 'chat: 200 in flight, consecutive messages for different rooms'], ['rounds', 'chat-burst: a room\'s 5 messages to its members one after another']]) {
    list.push({
      id: `recovery-cost ${shape}`,
      group: 'recovery-cost',
      title: `recovery's cost in the shape of ${like}; ours and ours+recovery side by side, server CPU per delivery of ours+recovery over ours, corrected for the order`,
      client: 'side-by-side',
      servers: ['ours+recovery'],
      // side-by-side.mjs always opens 1,000 sessions on each server (quick or not).
      params: { shape, blocks: quick ? 4 : 20 },
      maxFds: 2000,
      metrics: [
        { key: 'cpu_ratio', label: 'server CPU/delivery, ×ours', better: 'lower', fmt: 'ratio',
          target: { abs: '<=', value: 1.1, unit: '×ours', of: 'ours+recovery' } },
      ],
    });
  }
  const stormSessions = quick ? 1000 : 5000;
  list.push({
    id: `storm ${stormSessions / 1000}k`,
    group: 'storm',
    title: `reconnect storm: ${stormSessions.toLocaleString('en-US')} websocket sessions on /echo dropped at once, all reconnecting at once (no retries)`,
    client: 'storm',
    app: true,
    servers: APP_SERVERS,
    params: { sessions: stormSessions, concurrency: 200, settleMs: quick ? 300 : 1000, timeoutMs: 60_000 },
    // The server holds the dropped sockets and the new ones for a while.
    maxFds: 2 * stormSessions,
    metrics: [
      { key: 'all_back_ms', label: 'ms until all are back', better: 'lower', fmt: 'ms', target: { vs: 'sockjs', op: '<=', value: 1.0 } },
      { key: 'connect_p99_ms', label: 'connect p99 ms', better: 'lower', fmt: 'ms', target: { vs: 'sockjs', op: '<=', value: 1.0 } },
      { key: 'failed', label: 'failed', better: 'lower', fmt: 'int', target: { abs: '<=', value: 0, unit: '' } },
      { key: 'server_cpu_us_per_session', label: 'server CPU µs/session (old closed, new opened)', better: 'lower', fmt: 'us' },
    ],
  });
  const churnSessions = quick ? 4000 : 16_000;
  list.push({
    id: `app-churn ${churnSessions / 1000}k`,
    group: 'app-churn',
    title: `websocket churn on the test server: open, one echo, close (${churnSessions.toLocaleString('en-US')} sessions, 50 at a time; the second half measured, the first is the warm-up)`,
    client: 'app-churn',
    app: true,
    servers: APP_SERVERS,
    params: { sessions: churnSessions, concurrency: 50, settleMs: quick ? 500 : 1500 },
    maxFds: 100,
    metrics: [
      { key: 'sessions_per_s', label: 'sessions/s', better: 'higher', fmt: 'int', throughput: true,
        targets: [{ vs: 'sockjs', op: '>=', value: 1.0 }, { vs: 'ws', op: '>=', value: 0.85 }] },
      { key: 'server_cpu_us_per_session', label: 'server CPU µs/session', better: 'lower', fmt: 'us' },
      { key: 'heap_growth_kib_per_10k', label: 'heap growth KiB/10k sessions', better: 'lower', fmt: 'kib',
        targets: [{ vs: 'sockjs', op: '<=', value: 2.0 }, { vs: 'ws', op: '<=', value: 2.0 }] },
    ],
  });

  // --- websocket echo throughput ------------------------------------------------------------
  for (const sessions of quick ? [100] : [1, 100, 1000]) {
    for (const size of [32, 4096]) {
      list.push({
        id: `ws-echo ${sessions}x${SIZE_LABEL[size]}`,
        group: 'ws-echo',
        title: `websocket echo, ${sessions} session${sessions > 1 ? 's' : ''}, ${SIZE_LABEL[size]}, 8 in flight each`,
        client: 'ws-echo',
        servers: ['ours', 'sockjs', 'ws'],
        params: { sessions, size, inflight: 8, raw: false, ...win },
        maxFds: sessions,
        metrics: [
          { key: 'msgs_per_s', label: 'msg/s', better: 'higher', fmt: 'int', throughput: true,
            target: size === 32 ? { vs: 'ws', op: '>=', value: 1.0 } : { vs: 'ws', op: '>=', value: 0.8 } },
          { key: 'server_cpu_us_per_msg', label: 'server CPU µs/msg (saturated)', better: 'lower', fmt: 'us' },
        ],
      });
    }
  }

  // --- raw websocket endpoint throughput ----------------------------------------------------
  list.push({
    id: 'raw-echo 100x32B',
    group: 'raw-echo',
    title: 'raw websocket (/echo/websocket) echo, 100 sessions, 32B, 8 in flight each',
    client: 'ws-echo',
    servers: ['ours', 'sockjs', 'ws'],
    params: { sessions: 100, size: 32, inflight: 8, raw: true, ...win },
    maxFds: 100,
    metrics: [
      { key: 'msgs_per_s', label: 'msg/s', better: 'higher', fmt: 'int', throughput: true },
      { key: 'server_cpu_us_per_msg', label: 'server CPU µs/msg (saturated)', better: 'lower', fmt: 'us' },
    ],
  });

  // --- fixed rate: CPU per message and latency ----------------------------------------------
  const fixed = { sessions: 100, size: 32, rate: 10_000, warmupMs: quick ? 300 : 1000, measureMs: quick ? 600 : 4000 };
  list.push({
    id: 'ws-fixed 10k/s',
    group: 'ws-fixed',
    title: 'websocket echo at a fixed 10,000 msg/s (100 sessions, 32B)',
    client: 'ws-fixed',
    servers: ['ours', 'sockjs', 'ws'],
    params: { ...fixed, raw: false },
    maxFds: 100,
    metrics: [
      { key: 'server_cpu_us_per_msg', label: 'server CPU µs/msg', better: 'lower', fmt: 'us', target: { vs: 'ws', op: '<=', value: 1.1 } },
      { key: 'latency_p50_ms', label: 'latency p50 ms', better: 'lower', fmt: 'ms' },
      { key: 'latency_p99_ms', label: 'latency p99 ms', better: 'lower', fmt: 'ms', target: { vs: 'ws', op: '<=', value: 1.5 } },
    ],
  });
  list.push({
    id: 'raw-fixed 10k/s',
    group: 'raw-fixed',
    title: 'raw websocket echo at a fixed 10,000 msg/s (100 sessions, 32B)',
    client: 'ws-fixed',
    servers: ['ours', 'sockjs', 'ws'],
    params: { ...fixed, raw: true },
    maxFds: 100,
    metrics: [
      { key: 'server_cpu_us_per_msg', label: 'server CPU µs/msg', better: 'lower', fmt: 'us', target: { vs: 'ws', op: '<=', value: 1.05 } },
      { key: 'latency_p50_ms', label: 'latency p50 ms', better: 'lower', fmt: 'ms' },
      { key: 'latency_p99_ms', label: 'latency p99 ms', better: 'lower', fmt: 'ms', target: { vs: 'ws', op: '<=', value: 1.5 } },
    ],
  });

  // --- HTTP streaming and polling -------------------------------------------------------------
  for (const transport of ['xhr_streaming', 'eventsource']) {
    const name = transport === 'xhr_streaming' ? 'xhr-streaming' : 'eventsource';
    list.push({
      id: `${name} 100x32B`,
      group: name,
      title: `${name} echo (send with xhr_send, one in flight per session like sockjs-client), 100 sessions, 32B, 8 in flight each`,
      client: 'stream',
      servers: ['ours', 'sockjs'],
      params: { transport, sessions: 100, size: 32, inflight: 8, maxBatch: 64, ...win },
      maxFds: 200,
      metrics: [
        { key: 'msgs_per_s', label: 'msg/s', better: 'higher', fmt: 'int', throughput: true, target: { vs: 'sockjs', op: '>=', value: 1.5 } },
        { key: 'server_cpu_us_per_msg', label: 'server CPU µs/msg (saturated)', better: 'lower', fmt: 'us' },
      ],
    });
  }
  list.push({
    id: 'xhr-polling 100',
    group: 'xhr-polling',
    title: 'xhr-polling round trips (poll + xhr_send in parallel, back to back), 100 sessions, 32B',
    client: 'polling',
    servers: ['ours', 'sockjs'],
    params: { sessions: 100, size: 32, ...win },
    maxFds: 200,
    metrics: [
      { key: 'round_trips_per_s', label: 'round trips/s', better: 'higher', fmt: 'int', throughput: true, target: { vs: 'sockjs', op: '>=', value: 1.2 } },
      { key: 'server_cpu_us_per_trip', label: 'server CPU µs/round trip', better: 'lower', fmt: 'us' },
    ],
  });

  // --- broadcast --------------------------------------------------------------------------------
  list.push({
    id: 'broadcast 1000',
    group: 'broadcast',
    title: 'broadcast to 1,000 websocket sessions (one sender, 8 broadcasts outstanding), 32B',
    client: 'broadcast',
    servers: ['ours', 'sockjs', 'ws'],
    params: { sessions: 1000, size: 32, window: 8, ...win },
    maxFds: 1000,
    metrics: [
      { key: 'deliveries_per_cpu_s', label: 'deliveries per server CPU-s', better: 'higher', fmt: 'int', target: { vs: 'sockjs', op: '>=', value: 2.0 } },
      { key: 'deliveries_per_s', label: 'deliveries/s', better: 'higher', fmt: 'int', throughput: true },
    ],
  });

  // --- idle memory ----------------------------------------------------------------------------
  const idleParams = { sessions: idleSessions, concurrency: 200, warmSessions: 50, settleMs: quick ? 300 : 1000 };
  list.push({
    id: `idle-ws ${idleSessions / 1000}k`,
    group: 'idle-ws',
    title: `${idleSessions.toLocaleString('en-US')} idle websocket sessions: server memory per session`,
    client: 'idle',
    // ours+recovery: sessions that asked for recovery (hello and welcome done, replay buffer
    // empty): what recovery adds to an idle session beyond its buffer (issue #21: ≤ 1 KiB), in
    // the heap and in RSS less the heap V8 holds free. Plain RSS also counts the heap's free pages
    // (the unused old space of the last row, and young pages), which follow the opening burst's
    // allocations, not what sessions hold (docs/performance.md): no target of its own.
    servers: ['ours', 'ours+recovery', 'sockjs', 'ws'],
    // Then each session echoes one message (recovery clients acknowledge it): like for like, since
    // a recovery session has always sent messages (its hello and ack) and an application's have too.
    params: { ...idleParams, transport: 'websocket', echoAfter: true },
    maxFds: idleSessions,
    metrics: [
      { key: 'rss_kib_per_session', label: 'RSS KiB/session', better: 'lower', fmt: 'kib',
        targets: [{ abs: '<=', value: 10, unit: 'KiB' }] },
      { key: 'rss_kib_per_session_held', label: 'RSS KiB/session, less V8 free heap', better: 'lower', fmt: 'kib',
        targets: [{ of: 'ours+recovery', vs: 'ours', diff: '<=', value: 1, unit: 'KiB' }] },
      { key: 'heap_kib_per_session', label: 'heap KiB/session', better: 'lower', fmt: 'kib',
        targets: [{ abs: '<=', value: 5, unit: 'KiB' }, { of: 'ours+recovery', vs: 'ours', diff: '<=', value: 1, unit: 'KiB' }] },
      { key: 'rss_kib_per_session_used', label: 'RSS KiB/session, after one echo', better: 'lower', fmt: 'kib' },
      { key: 'rss_kib_per_session_used_held', label: 'RSS KiB/session, after one echo, less V8 free heap', better: 'lower', fmt: 'kib',
        targets: [{ of: 'ours+recovery', vs: 'ours', diff: '<=', value: 1, unit: 'KiB' }] },
      { key: 'heap_kib_per_session_used', label: 'heap KiB/session, after one echo', better: 'lower', fmt: 'kib',
        targets: [{ of: 'ours+recovery', vs: 'ours', diff: '<=', value: 1, unit: 'KiB' }] },
      { key: 'old_space_unused_kib_per_session', label: 'unused old space KiB/session (part of RSS)', better: 'lower', fmt: 'kib' },
    ],
  });
  list.push({
    id: `idle-xhr ${idleSessions / 1000}k`,
    group: 'idle-xhr',
    title: `${idleSessions.toLocaleString('en-US')} idle xhr-streaming sessions: server memory per session`,
    client: 'idle',
    servers: ['ours', 'sockjs', 'floor'],
    params: { ...idleParams, transport: 'xhr_streaming' },
    maxFds: idleSessions,
    metrics: [
      { key: 'rss_kib_per_session', label: 'RSS KiB/session', better: 'lower', fmt: 'kib', target: { vs: 'sockjs', op: '<=', value: 0.7 } },
      { key: 'heap_kib_per_session', label: 'heap KiB/session', better: 'lower', fmt: 'kib' },
    ],
  });

  // --- compression (issue #20): ours with and without `compression`, the same client offering
  // permessage-deflate to both ----------------------------------------------------------------
  for (const [size, label] of [[8192, '8KB'], [256, '256B']]) {
    list.push({
      id: `deflate-echo 100x${label}`,
      group: 'deflate-echo',
      title: `websocket echo of JSON documents of about ${label} (pages of user records, each different), 100 sessions, 8 in flight each; the client offers permessage-deflate`,
      client: 'ws-echo',
      servers: ['ours', 'ours+deflate'],
      params: { sessions: 100, size, json: true, deflate: true, inflight: 8, raw: false, ...win },
      maxFds: 100,
      metrics: [
        { key: 'msgs_per_s', label: 'msg/s', better: 'higher', fmt: 'int', throughput: true },
        { key: 'server_cpu_us_per_msg', label: 'server CPU µs/msg (saturated)', better: 'lower', fmt: 'us' },
        { key: 'wire_bytes_per_msg', label: 'bytes on the wire/msg (server to client)', better: 'lower', fmt: 'int' },
      ],
    });
  }
  const deflateSessions = quick ? 200 : 1000;
  list.push({
    id: `deflate-idle ${deflateSessions}`,
    group: 'deflate-idle',
    title: `${deflateSessions.toLocaleString('en-US')} websocket sessions offering permessage-deflate: server memory per session idle, then after each echoed one 8KB JSON document`,
    client: 'deflate-idle',
    servers: ['ours', 'ours+deflate'],
    params: { sessions: deflateSessions, size: 8192, deflate: true, concurrency: 100, warmSessions: 50, settleMs: quick ? 300 : 1000 },
    maxFds: deflateSessions,
    // Idle RSS is in --json only (rss_kib_per_session_idle): at 1,000 sessions it is within the
    // noise of the young generation's growth; the heap figure is the idle one to read.
    metrics: [
      { key: 'heap_kib_per_session_idle', label: 'heap KiB/session, idle', better: 'lower', fmt: 'kib' },
      { key: 'rss_kib_per_session_used', label: 'RSS KiB/session, after one 8KB message', better: 'lower', fmt: 'kib' },
      { key: 'heap_kib_per_session_used', label: 'heap KiB/session, after one 8KB message', better: 'lower', fmt: 'kib' },
    ],
  });

  // --- session churn ----------------------------------------------------------------------------
  const hs = quick ? 500 : 5000;
  list.push({
    id: `handshake ${hs / 1000}k`,
    group: 'handshake',
    title: `websocket handshake rate: open, wait for the open frame, close (${hs.toLocaleString('en-US')} sessions, 50 at a time)`,
    client: 'handshake',
    // ours+recovery: the session is open at the welcome, one round trip later (ready, hello), and
    // closes as the companion client does (a close message first): what recovery adds to each.
    servers: ['ours', 'ours+recovery', 'sockjs', 'ws'],
    params: { sessions: hs, warmSessions: quick ? 100 : 500, concurrency: 50, settleMs: 0 },
    maxFds: 100,
    metrics: [
      { key: 'sessions_per_s', label: 'sessions/s', better: 'higher', fmt: 'int', throughput: true },
      { key: 'server_cpu_us_per_session', label: 'server CPU µs/session', better: 'lower', fmt: 'us' },
    ],
  });
  const ch = quick ? 1500 : 10_000;
  list.push({
    id: `churn ${ch / 1000}k`,
    group: 'churn',
    title: `open/echo/close churn (${ch.toLocaleString('en-US')} sessions, 50 at a time): server heap growth`,
    client: 'churn',
    servers: ['ours', 'sockjs', 'ws'],
    // The warm-up round brings lazily grown pools and compiled code to steady state before the
    // baseline; after each round the server gets settleMs for sockets and timers to wind down.
    params: { sessions: ch, warmSessions: quick ? 1000 : 3000, concurrency: 50, settleMs: quick ? 800 : 2000 },
    maxFds: 100,
    metrics: [
      { key: 'heap_growth_kib_per_10k', label: 'heap growth KiB/10k sessions', better: 'lower', fmt: 'kib', target: { abs: '±', value: 300, unit: 'KiB' } },
      { key: 'sessions_per_s', label: 'sessions/s', better: 'higher', fmt: 'int', throughput: true },
    ],
  });

  return list;
}
