// A load generator of the fan-out benchmark, forked by bench/cluster/fanout.mjs and driven over
// IPC. It holds SockJS websocket sessions (bench/client/wsock.mjs: /broadcast/<server>/<session>/
// websocket, straight to the server processes, no proxy) and counts the messages each receives.
//
// Commands (process.send from the parent) and answers:
//   { cmd: 'open', targets: [{ port, count }], concurrency }  -> { ev: 'opened', sessions, ms }
//   { cmd: 'arm', id, expect }   reset the counts; -> { ev: 'armed', id }, later
//                                -> { ev: 'done', id, frames, messages } once every session has
//                                   received `expect` messages since the arm
//   { cmd: 'check', id }         -> { ev: 'checked', id, under, over, failed, received }
//   { cmd: 'exit' }              drops every socket and exits
// The process exits by itself when the parent goes away (IPC disconnect).
import { Sock, openSocks, wsUrl } from '../client/wsock.mjs';
import { now } from '../client/util.mjs';

let socks = [];
let counts = new Int32Array(0);
let expect = Infinity;
let armId = null;
let remaining = 0;
let frames = 0;
let messages = 0;
let exiting = false;

function send(msg) {
  if (process.connected) process.send(msg);
}

function onData(i, n) {
  frames++;
  messages += n;
  const c = (counts[i] += n);
  if (c === expect) {
    remaining--;
    if (remaining === 0) send({ ev: 'done', id: armId, frames, messages });
  }
}

async function open({ targets, concurrency }) {
  const t0 = now();
  // Round-robin over the servers, so each gets its share spread over the whole opening phase.
  const plan = [];
  const left = targets.map((t) => t.count);
  for (let k = 0, total = left.reduce((a, b) => a + b, 0); plan.length < total; k = (k + 1) % targets.length) {
    if (left[k] > 0) {
      left[k]--;
      plan.push(targets[k].port);
    }
  }
  counts = new Int32Array(plan.length);
  socks = await openSocks(plan.length, concurrency, (i) => new Sock(wsUrl(plan[i], 'broadcast', 'sockjs'), 'sockjs', (data, n) => onData(i, n)));
  // From now on a session that closes is a failed run: say so at once (the first one only).
  let reported = false;
  for (const s of socks) {
    s.closed.then(() => {
      if (reported || exiting) return;
      reported = true;
      send({ ev: 'error', error: `a session closed during the run (${s.closeFrame ?? s.error?.message ?? 'connection lost'})` });
    });
  }
  send({ ev: 'opened', sessions: socks.length, ms: now() - t0 });
}

function failedCount() {
  let failed = 0;
  for (const s of socks) if (s.closeFrame !== null || s.error !== null || s.ws.readyState !== 1) failed++;
  return failed;
}

process.on('message', (msg) => {
  switch (msg.cmd) {
    case 'open':
      open(msg).catch((err) => send({ ev: 'error', error: `opening sessions failed: ${err?.message ?? err}` }));
      break;
    case 'arm':
      counts.fill(0);
      frames = 0;
      messages = 0;
      expect = msg.expect;
      armId = msg.id;
      remaining = socks.length;
      send({ ev: 'armed', id: msg.id });
      break;
    case 'check': {
      let under = 0;
      let over = 0;
      for (const c of counts) {
        if (c < expect) under++;
        else if (c > expect) over++;
      }
      send({ ev: 'checked', id: msg.id, under, over, failed: failedCount(), received: messages, frames });
      break;
    }
    case 'exit':
      exiting = true;
      for (const s of socks) s.terminate();
      process.exit(0);
      break;
    default:
      send({ ev: 'error', error: `unknown command ${msg.cmd}` });
  }
});
process.on('disconnect', () => process.exit(0));
send({ ev: 'ready' });
