/**
 * Cluster end-to-end (`npm run test:cluster`): redis-server and haproxy from Debian's packages,
 * three node processes behind haproxy (docs/deploy/haproxy.cfg), sockjs-client sessions over
 * websocket and HTTP transports spread across the nodes. A broadcast from any node reaches every
 * session exactly once; polling sessions never break; killing a node makes its clients reconnect
 * to the others while the rest keep chatting.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
interface Sock {
  transport: string;
  onopen: (() => void) | null;
  onmessage: ((e: { data: string }) => void) | null;
  onclose: ((e: { code: number }) => void) | null;
  send(m: string): void;
  close(): void;
}
const SockJS = require('sockjs-client') as new (url: string, p: null, o: { transports: string[] }) => Sock;

const children: ChildProcess[] = [];
const nodes = new Map<string, ChildProcess>();
let proxyUrl = '';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}
async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((res) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), res(true)));
      c.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('nothing listens on ' + port);
}
function run(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const c = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: 'ignore', cwd: root });
  children.push(c);
  return c;
}

before(async () => {
  const missing = ['redis-server', 'haproxy'].filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
  if (missing.length > 0) {
    const r = spawnSync('sh', ['-c', `apt-get install -y -qq ${missing.join(' ')} || (apt-get update -qq && apt-get install -y -qq ${missing.join(' ')})`], { stdio: 'inherit' });
    assert.equal(r.status, 0, 'installing ' + missing.join(' '));
  }
  const redisPort = await freePort();
  run('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await waitPort(redisPort);
  const env: Record<string, string> = {};
  for (const n of ['n1', 'n2', 'n3']) {
    const port = await freePort();
    nodes.set(n, run(process.execPath, ['--import', 'tsx', 'spec/cluster/node-server.ts'], { NAME: n, PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redisPort}` }));
    env['NODE' + n.slice(1)] = '127.0.0.1:' + port;
    await waitPort(port);
  }
  const proxyPort = await freePort();
  run('haproxy', ['-f', 'docs/deploy/haproxy.cfg', '-db'], { ...env, LISTEN: '127.0.0.1:' + proxyPort });
  await waitPort(proxyPort);
  await new Promise((r) => setTimeout(r, 1500)); // health checks up, adapters subscribed
  proxyUrl = `http://127.0.0.1:${proxyPort}/broadcast`;
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
});

interface Client {
  sock: Sock;
  node: string;
  inbox: string[];
  closed: boolean;
}

function connect(transport: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const sock = new SockJS(proxyUrl, null, { transports: [transport] });
    const c: Client = { sock, node: '', inbox: [], closed: false };
    const t = setTimeout(() => reject(new Error(transport + ' did not open')), 10000);
    sock.onmessage = (e) => {
      if (e.data.startsWith('node:') && c.node === '') {
        c.node = e.data.slice(5);
        clearTimeout(t);
        resolve(c);
      } else c.inbox.push(e.data);
    };
    sock.onclose = () => {
      c.closed = true;
      clearTimeout(t);
      reject(new Error(transport + ' closed'));
    };
  });
}

async function everyoneGets(clients: Client[], message: string): Promise<void> {
  for (let i = 0; i < 200 && clients.some((c) => !c.inbox.includes(message)); i++) await new Promise((r) => setTimeout(r, 50));
  for (const c of clients) {
    assert.equal(c.inbox.filter((m) => m === message).length, 1, `${c.sock.transport} on ${c.node} got "${message}" exactly once`);
  }
}

const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource'];

test('cluster: sessions spread over the nodes; broadcasts from any node reach every session exactly once; a killed node\'s clients reconnect', async () => {
  const clients: Client[] = [];
  for (let i = 0; i < 16; i++) clients.push(await connect(TRANSPORTS[i % 4]!));
  const used = new Set(clients.map((c) => c.node));
  assert.ok(used.size >= 2, `sessions landed on ${[...used].join(', ')}`);

  // Broadcasts from sessions on different nodes, over several rounds: polling sessions keep
  // polling the same node throughout (a mis-routed poll would open a new session and miss these).
  for (let round = 0; round < 5; round++) {
    for (const sender of [clients[0]!, clients.find((c) => c.node !== clients[0]!.node)!]) {
      const m = `round ${round} from ${sender.node}`;
      sender.sock.send(m);
      await everyoneGets(clients, m);
    }
  }

  // Kill one node that has sessions; its clients see a close and reconnect elsewhere.
  const victim = clients[0]!.node;
  nodes.get(victim)!.kill('SIGKILL');
  const orphans = clients.filter((c) => c.node === victim);
  // Streams and websockets lose their TCP connection and close. A polling client's next poll is
  // redispatched by haproxy to a live node, which opens a new session there: the client carries
  // on, now on that node (its first message there says which).
  const migrated = (c: Client): boolean => c.inbox.some((m) => m.startsWith('node:') && m !== 'node:' + victim);
  for (let i = 0; i < 300 && orphans.some((c) => !c.closed && !migrated(c)); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(orphans.every((c) => c.closed || migrated(c)), 'every client of the killed node closed or moved to a live node: ' + JSON.stringify(orphans.map((c) => [c.sock.transport, c.closed, c.inbox.slice(-2)])));
  await new Promise((r) => setTimeout(r, 1500)); // haproxy marks the node down
  const survivors = clients.filter((c) => c.node !== victim);
  const reconnected: Client[] = [];
  for (const [k, o] of orphans.entries()) {
    if (o.closed) {
      reconnected.push(await connect(TRANSPORTS[k % 4]!));
    } else {
      o.node = o.inbox.find((m) => m.startsWith('node:') && m !== 'node:' + victim)!.slice(5);
      reconnected.push(o);
    }
  }
  assert.ok(reconnected.every((c) => c.node !== victim));
  const everyone = [...survivors, ...reconnected];
  const m = 'after the failure';
  survivors[0]!.sock.send(m);
  await everyoneGets(everyone, m);
  for (const c of everyone) c.sock.close();
});
