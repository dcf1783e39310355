// The demo on two processes sharing Redis: kill either one and the pages on it resume on the
// other with nothing missing (docs/recovery.md, "Across processes").
//
//   npm run demo:cluster                                   (http://localhost:3000)
//   REDIS_URL=redis://127.0.0.1:6379 PORT=4000 npm run demo:cluster
//
// It starts two demo processes (server.mjs with REDIS_URL) and, in front of them, a small sticky
// proxy that sends every request of a SockJS session to one process (hashing on the session's
// <server> path segment, as docs/deploy/haproxy.cfg does), and to the other when that one is down.
// A redis-server must be running at REDIS_URL.
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The process for a request: /sockjs/<server>/<session>/... hashes on <server>; the rest goes to the first. */
function pick(url, count) {
  const parts = url.split('?')[0].split('/');
  if (parts.length < 5) return 0;
  let h = 0;
  for (const c of parts[2]) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % count;
}

/** A sticky HTTP and websocket proxy in front of `ports` (127.0.0.1). Resolves with its server. */
export function startStickyProxy(ports, listenPort = 0) {
  const order = (url) => {
    const first = pick(url, ports.length);
    return ports.map((_, i) => ports[(first + i) % ports.length]);
  };
  const server = http.createServer((req, res) => {
    const targets = order(req.url);
    const body = [];
    req.on('data', (c) => body.push(c));
    req.on('end', () => {
      const attempt = (i) => {
        const up = http.request({ host: '127.0.0.1', port: targets[i], method: req.method, path: req.url, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode, r.headers);
          r.pipe(res);
          res.on('close', () => r.destroy());
        });
        // A process that is down: the next one (its sessions are new there, or resumed).
        up.on('error', () => (i + 1 < targets.length && !res.headersSent ? attempt(i + 1) : res.destroy()));
        up.end(Buffer.concat(body));
      };
      attempt(0);
    });
  });
  server.on('upgrade', (req, socket, head) => {
    const targets = order(req.url);
    socket.on('error', () => socket.destroy());
    const attempt = (i) => {
      const up = net.connect(targets[i], '127.0.0.1', () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let k = 0; k < req.rawHeaders.length; k += 2) lines.push(`${req.rawHeaders[k]}: ${req.rawHeaders[k + 1]}`);
        up.write(lines.join('\r\n') + '\r\n\r\n');
        if (head.length > 0) up.write(head);
        up.pipe(socket);
        socket.pipe(up);
      });
      up.on('error', () => (i + 1 < targets.length && up.bytesRead === 0 ? attempt(i + 1) : socket.destroy()));
      up.on('close', () => socket.destroy());
      socket.on('close', () => up.destroy());
    };
    attempt(0);
  });
  return new Promise((resolve) => server.listen(listenPort, '127.0.0.1', () => resolve(server)));
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts one demo process on `port`; resolves once it listens. */
export function startDemoProcess(port, redisUrl) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./server.mjs', import.meta.url))], {
    env: { ...process.env, PORT: String(port), REDIS_URL: redisUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      if (String(d).includes('demo on')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`demo process exited (${code})`)));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const ports = [await freePort(), await freePort()];
  const children = await Promise.all(ports.map((p) => startDemoProcess(p, redisUrl)));
  const proxy = await startStickyProxy(ports, Number(process.env.PORT ?? 3000));
  console.log(`sockjs-express demo on http://localhost:${proxy.address().port} (processes ${children.map((c) => c.pid).join(' and ')} on ${ports.join(', ')}, Redis ${redisUrl})`);
  console.log(`kill one (kill -9 ${children[0].pid}) and the pages on it carry on on the other`);
  const stop = () => {
    for (const c of children) c.kill();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
