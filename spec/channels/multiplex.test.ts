/**
 * Channels over one connection: the websocket-multiplex wire format (`sub,<topic>`,
 * `msg,<topic>,<payload>`, `uns,<topic>`), driven as raw protocol over every transport.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sockjs, { multiplex, type ChannelConnection, type Connection, type Multiplexer, type SockJSRouter } from '../../lib/index.js';
import { GET, POST, Stream, WsClient, sessionUrl, sleep } from '../support/client.js';
import { startService } from '../support/service.js';
import { Inbox } from '../support/inbox.js';
import { waitUntil } from '../support/wait.js';

type Event = { kind: 'msg'; data: string } | { kind: 'close'; code: number; reason: string };

/** A SockJS client speaking one transport by hand; messages and the close frame land in one inbox. */
abstract class RawClient {
  protected stopped = false;
  private readonly inbox = new Inbox<Event>();
  private openSeen!: () => void;
  readonly opened = new Promise<void>((r) => (this.openSeen = r));
  closeFrame: { code: number; reason: string } | null = null;

  constructor(readonly base: string) {}

  abstract start(): void;
  abstract send(...messages: string[]): Promise<void>;
  stop(): void {
    this.stopped = true;
  }

  protected frame(f: string): void {
    if (f === 'o') this.openSeen();
    else if (f.startsWith('a[')) for (const m of JSON.parse(f.slice(1)) as string[]) this.push({ kind: 'msg', data: m });
    else if (f.startsWith('c[')) {
      const [code, reason] = JSON.parse(f.slice(1)) as [number, string];
      this.closeFrame = { code, reason };
      this.push({ kind: 'close', code, reason });
    }
    // 'h' (heartbeat, or the xhr-streaming prelude) carries nothing.
  }

  protected push(e: Event): void {
    this.inbox.push(e);
  }

  next(timeoutMs = 3000): Promise<Event> {
    return this.inbox.next(timeoutMs, () => new Error(`${this.constructor.name}: nothing arrived in ${timeoutMs} ms`));
  }

  /** The next message's text (fails on a close frame). */
  async message(timeoutMs?: number): Promise<string> {
    const e = await this.next(timeoutMs);
    if (e.kind !== 'msg') throw new Error(`expected a message, got close ${e.code} ${e.reason}`);
    return e.data;
  }

  /** Asserts that nothing arrives for `ms`: a bounded "nothing happens", the one sleep kept. */
  async quiet(ms = 150): Promise<void> {
    await sleep(ms);
    assert.deepEqual(this.inbox.unread(), [], 'nothing more should have arrived');
  }
}

class WebSocketClient extends RawClient {
  private ws!: WsClient;
  start(): void {
    this.ws = new WsClient(this.base.replace(/^http/, 'ws') + '/websocket');
    void (async () => {
      for (;;) {
        const m = await this.ws.next(60_000).catch(() => null);
        if (m === null) return;
        this.frame(m);
      }
    })();
  }
  async send(...messages: string[]): Promise<void> {
    this.ws.send(JSON.stringify(messages));
  }
  override stop(): void {
    super.stop();
    this.ws.close();
  }
}

/** The raw /websocket endpoint: no framing, one message per websocket message. */
class RawWebSocketClient extends RawClient {
  private ws!: WsClient;
  start(): void {
    this.ws = new WsClient(this.base.replace(/^http/, 'ws'));
    void this.ws.opened.then(() => this.frame('o'));
    void this.ws.closed.then(() => this.push({ kind: 'close', code: this.ws.closeCode ?? 0, reason: this.ws.closeReason }));
    void (async () => {
      for (;;) {
        const m = await this.ws.next(60_000).catch(() => null);
        if (m === null) return;
        this.push({ kind: 'msg', data: m });
      }
    })();
  }
  async send(...messages: string[]): Promise<void> {
    for (const m of messages) this.ws.send(m);
  }
  override stop(): void {
    super.stop();
    this.ws.close();
  }
}

/** xhr_send, shared by every HTTP transport but JSONP. */
async function xhrSend(base: string, messages: string[]): Promise<void> {
  const r = await POST(base + '/xhr_send', { body: JSON.stringify(messages), headers: { 'Content-Type': 'text/plain' } });
  assert.equal(r.status, 204, 'xhr_send: ' + r.body);
}

class XhrPollingClient extends RawClient {
  start(): void {
    void (async () => {
      while (!this.stopped && this.closeFrame === null) {
        const r = await POST(this.base + '/xhr', { timeoutMs: 60_000 }).catch(() => null);
        if (r === null) return;
        for (const line of r.body.split('\n')) if (line !== '') this.frame(line);
      }
    })();
  }
  send(...messages: string[]): Promise<void> {
    return xhrSend(this.base, messages);
  }
}

/** A streaming receiver, reopened whenever the server ends it (response_limit). */
abstract class StreamingClient extends RawClient {
  private stream: Stream | null = null;
  protected abstract open(): Stream;
  protected abstract split(buffer: string): [frames: string[], rest: string];
  start(): void {
    void (async () => {
      while (!this.stopped && this.closeFrame === null) {
        const s = (this.stream = this.open());
        let buf = '';
        for (;;) {
          const c = await s.read(60_000).catch(() => null);
          if (c === null) break;
          const [frames, rest] = this.split(buf + c);
          buf = rest;
          for (const f of frames) this.frame(f);
        }
      }
    })();
  }
  override stop(): void {
    super.stop();
    this.stream?.close();
  }
  send(...messages: string[]): Promise<void> {
    return xhrSend(this.base, messages);
  }
}

class XhrStreamingClient extends StreamingClient {
  protected open(): Stream {
    return new Stream('POST', this.base + '/xhr_streaming');
  }
  protected split(buffer: string): [string[], string] {
    const parts = buffer.split('\n');
    const rest = parts.pop()!;
    return [parts.filter((p) => p !== ''), rest];
  }
}

class EventSourceClient extends StreamingClient {
  protected open(): Stream {
    return new Stream('GET', this.base + '/eventsource');
  }
  protected split(buffer: string): [string[], string] {
    const events = buffer.replace(/^\r\n/, '').split('\r\n\r\n');
    const rest = events.pop()!;
    return [events.map((e) => e.replace(/^data: /, '')), rest];
  }
}

class JsonpClient extends RawClient {
  start(): void {
    void (async () => {
      while (!this.stopped && this.closeFrame === null) {
        const r = await GET(this.base + '/jsonp?c=cb', { timeoutMs: 60_000 }).catch(() => null);
        if (r === null) return;
        const m = /^\/\*\*\/cb\((.*)\);\r\n$/s.exec(r.body);
        assert.ok(m, 'a jsonp frame: ' + r.body);
        this.frame(JSON.parse(m[1]!) as string);
      }
    })();
  }
  async send(...messages: string[]): Promise<void> {
    const r = await POST(this.base + '/jsonp_send', {
      body: 'd=' + encodeURIComponent(JSON.stringify(messages)),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(r.status, 200, 'jsonp_send: ' + r.body);
  }
}

const TRANSPORTS: Record<string, (svcUrl: string) => RawClient> = {
  websocket: (u) => new WebSocketClient(sessionUrl(u)),
  'websocket-raw': (u) => new RawWebSocketClient(u + '/websocket'),
  'xhr-polling': (u) => new XhrPollingClient(sessionUrl(u)),
  'xhr-streaming': (u) => new XhrStreamingClient(sessionUrl(u)),
  eventsource: (u) => new EventSourceClient(sessionUrl(u)),
  'jsonp-polling': (u) => new JsonpClient(sessionUrl(u)),
};

async function connect(make: (u: string) => RawClient, url: string): Promise<RawClient> {
  const c = make(url);
  c.start();
  await c.opened;
  return c;
}

interface Service {
  router: SockJSRouter;
  mux: Multiplexer;
  url: string;
  /** Channel connections by channel name, in the order they opened. */
  opened: Map<string, ChannelConnection[]>;
  /** Close events of channel connections, in order. */
  closes: { channel: string; code: number; reason: string }[];
  conns: Connection[];
  close(): Promise<void>;
}

async function service(opts: { max_channels?: number; response_limit?: number } = {}): Promise<Service> {
  const opened = new Map<string, ChannelConnection[]>();
  const closes: Service['closes'] = [];
  let mux!: Multiplexer;
  const s = await startService({ response_limit: opts.response_limit ?? 4096, disconnect_delay: 1000 }, (router) => {
    mux = multiplex(router, opts.max_channels === undefined ? undefined : { max_channels: opts.max_channels });
    channels(mux, opened, closes);
  });
  return { router: s.r, mux, url: s.url, opened, closes, conns: s.conns, close: () => s.close() };
}

/** The channels every test service has, their connections and close events recorded. */
function channels(mux: Multiplexer, opened: Service['opened'], closes: Service['closes']): void {
  const track = (ch: ChannelConnection): void => {
    opened.set(ch.channel, [...(opened.get(ch.channel) ?? []), ch]);
    ch.on('close', (code, reason) => closes.push({ channel: ch.channel, code, reason }));
  };
  // echo: messages back, prefixed; greet: says hello on subscription; bye: closes itself on any message.
  mux.channel('echo').on('connection', (ch) => {
    track(ch);
    ch.on('data', (m) => ch.write('echo:' + m));
  });
  mux.channel('greet').on('connection', (ch) => {
    track(ch);
    ch.write('hello ' + ch.channel);
  });
  mux.channel('bye').on('connection', (ch) => {
    track(ch);
    ch.on('data', () => ch.close(3001, 'done'));
  });
  mux.channel('a room, with commas').on('connection', (ch) => {
    track(ch);
    ch.on('data', (m) => ch.write(m));
  });
}

describe('multiplex over every transport', () => {
  let s: Service;
  before(async () => {
    s = await service();
  });
  after(async () => {
    await s.close();
  });

  for (const [name, make] of Object.entries(TRANSPORTS)) {
    test(`${name}: sub/msg/uns round trip, payload commas kept, unknown topics and junk answered or ignored, sibling channels independent`, async () => {
      const c = await connect(make, s.url);
      try {
        await c.send('sub,echo', 'sub,greet');
        assert.equal(await c.message(), 'msg,greet,hello greet');
        await c.send('msg,echo,a,b,,c,', 'msg,echo,', 'msg,echo,\u00e9\u{1F600}"\\');
        assert.equal(await c.message(), 'msg,echo,echo:a,b,,c,');
        assert.equal(await c.message(), 'msg,echo,echo:');
        assert.equal(await c.message(), 'msg,echo,echo:\u00e9\u{1F600}"\\');

        // Unknown topic: refused with uns (the client library then closes its channel).
        await c.send('sub,nope');
        assert.equal(await c.message(), 'uns,nope');
        // Malformed or unknown frames, and messages for channels not subscribed: ignored.
        await c.send('garbage', 'msg', 'sub', 'xyz,echo,1', 'msg,echo', 'msg,nope,1', 'uns,nope', ',,,', 'su,b,echo', 'MSG,echo,1');
        await c.quiet();

        // The client unsubscribes one channel: the server side closes it, the sibling lives on.
        const echoCh = s.opened.get('echo')!.at(-1)!;
        await c.send('uns,echo', 'msg,echo,lost');
        await c.send('sub,bye', 'msg,bye,x');
        // The server closes a channel: uns on the wire, the connection and its siblings stay open.
        assert.equal(await c.message(), 'uns,bye');
        assert.equal(echoCh.readyState, 3);
        const greetCh = s.opened.get('greet')!.at(-1)!;
        assert.equal(greetCh.readyState, 1);
        assert.equal(greetCh.connection.readyState, 1);
        greetCh.write('still here');
        assert.equal(await c.message(), 'msg,greet,still here');
        await c.send('sub,echo', 'msg,echo,again');
        assert.equal(await c.message(), 'msg,echo,echo:again');

        // The underlying connection closes: every channel closes with its code and reason.
        const before = s.closes.length;
        greetCh.connection.close(3002, 'all done');
        const e = await c.next();
        assert.deepEqual(e, { kind: 'close', code: 3002, reason: 'all done' });
        const after = s.closes.slice(before);
        assert.deepEqual(after.map((x) => x.channel).sort(), ['echo', 'greet']);
        assert.ok(after.every((x) => x.code === 3002 && x.reason === 'all done'));
      } finally {
        c.stop();
      }
    });
  }

  test('channel close events: client uns gives 1000 "Unsubscribed", close(code, reason) gives those, each exactly once', async () => {
    const c = await connect(TRANSPORTS.websocket!, s.url);
    try {
      const before = s.closes.length;
      await c.send('sub,echo', 'sub,bye');
      await c.send('msg,bye,1');
      assert.equal(await c.message(), 'uns,bye');
      await c.send('uns,echo', 'uns,echo', 'uns,bye');
      await c.quiet();
      assert.deepEqual(s.closes.slice(before), [
        { channel: 'bye', code: 3001, reason: 'done' },
        { channel: 'echo', code: 1000, reason: 'Unsubscribed' },
      ]);
    } finally {
      c.stop();
    }
  });

  test('channel names are escaped as the client library escapes them, so names with commas and spaces work', async () => {
    const c = await connect(TRANSPORTS.websocket!, s.url);
    try {
      const topic = escape('a room, with commas');
      assert.equal(topic, 'a%20room%2C%20with%20commas');
      await c.send('sub,' + topic, 'msg,' + topic + ',x,y');
      assert.equal(await c.message(), 'msg,' + topic + ',x,y');
      const ch = s.opened.get('a room, with commas')!.at(-1)!;
      assert.equal(ch.channel, 'a room, with commas');
      assert.equal(ch.topic, topic);
      // The unescaped name is not a topic the client library would ever send.
      await c.send('sub,a room, with commas');
      assert.equal(await c.message(), 'uns,a room');
    } finally {
      c.stop();
    }
  });

  test('a second sub of an open topic replaces the channel (the client library keeps one per name), without sending uns', async () => {
    const c = await connect(TRANSPORTS.websocket!, s.url);
    try {
      await c.send('sub,greet');
      assert.equal(await c.message(), 'msg,greet,hello greet');
      const first = s.opened.get('greet')!.at(-1)!;
      await c.send('sub,greet');
      assert.equal(await c.message(), 'msg,greet,hello greet');
      const second = s.opened.get('greet')!.at(-1)!;
      assert.notEqual(first, second);
      assert.equal(first.readyState, 3);
      assert.equal(second.readyState, 1);
      assert.equal(first.write('x'), false, 'a closed channel writes nothing');
      await c.quiet();
    } finally {
      c.stop();
    }
  });

  test('channel connections expose the Connection API and the opening connection\'s details', async () => {
    const c = await connect(TRANSPORTS['xhr-polling']!, s.url);
    try {
      const conn = s.conns.at(-1)!;
      await c.send('sub,greet');
      assert.equal(await c.message(), 'msg,greet,hello greet');
      const ch = s.opened.get('greet')!.at(-1)!;
      assert.match(ch.id, /^[0-9a-f-]{36}$/);
      assert.notEqual(ch.id, conn.id);
      assert.equal(ch.connection, conn);
      for (const k of ['protocol', 'remoteAddress', 'remotePort', 'url', 'pathname', 'prefix', 'headers', 'cookies', 'query'] as const) {
        assert.deepEqual(ch[k], conn[k], k);
      }
      assert.equal(ch.protocol, 'xhr-polling');
      assert.equal(ch.prefix, '/svc');
      assert.equal(typeof ch.bufferedAmount, 'number');
      assert.equal(ch.readyState, 1);
      assert.equal(String(ch), `<SockJSChannel greet ${ch.id}>`);
      assert.equal(s.mux.channel('greet').connections.has(ch), true);
      // end(message) writes, then closes the channel only.
      ch.end('last');
      assert.equal(await c.message(), 'msg,greet,last');
      assert.equal(await c.message(), 'uns,greet');
      assert.equal(ch.readyState, 3);
      assert.equal(ch.close(), false, 'closing twice is a no-op');
      assert.equal(s.mux.channel('greet').connections.has(ch), false);
      assert.equal(conn.readyState, 1);
      assert.throws(() => ch.close(999), RangeError);
    } finally {
      c.stop();
    }
  });

  test('Channel.broadcast reaches every subscriber (except the given ones) on their own connections', async () => {
    const a = await connect(TRANSPORTS.websocket!, s.url);
    const b = await connect(TRANSPORTS['xhr-streaming']!, s.url);
    try {
      await a.send('sub,echo');
      await b.send('sub,echo');
      const chan = s.mux.channel('echo');
      await waitUntil(() => chan.connections.size >= 2, 'both subscriptions');
      const aCh = s.opened.get('echo')!.at(-2)!;
      assert.equal(chan.broadcast('news, today'), 2);
      assert.equal(await a.message(), 'msg,echo,news, today');
      assert.equal(await b.message(), 'msg,echo,news, today');
      assert.equal(chan.broadcast('not for a', { except: aCh }), 1);
      assert.equal(await b.message(), 'msg,echo,not for a');
      await a.quiet();
    } finally {
      a.stop();
      b.stop();
    }
  });
});

describe('multiplex limits and options', () => {
  test('max_channels bounds the open channels per connection; a refused sub gets uns; closing one makes room', async () => {
    const s = await service({ max_channels: 2 });
    const c = await connect(TRANSPORTS.websocket!, s.url);
    try {
      assert.equal(s.mux.max_channels, 2);
      await c.send('sub,echo', 'sub,greet', 'sub,bye');
      assert.equal(await c.message(), 'msg,greet,hello greet');
      assert.equal(await c.message(), 'uns,bye');
      assert.equal(s.opened.get('bye'), undefined);
      // Re-subscribing an open topic is not a new channel: allowed at the limit.
      await c.send('sub,greet');
      assert.equal(await c.message(), 'msg,greet,hello greet');
      await c.send('uns,echo', 'sub,bye', 'msg,bye,1');
      assert.equal(await c.message(), 'uns,bye');
    } finally {
      c.stop();
      await s.close();
    }
  });

  test('default max_channels is 64; bad options and sources are TypeErrors', () => {
    const r = sockjs();
    assert.equal(multiplex(r).max_channels, 64);
    assert.throws(() => multiplex(r, { max_channels: 0 }), /max_channels/);
    assert.throws(() => multiplex(r, { max_channels: 1.5 }), TypeError);
    assert.throws(() => multiplex(r, { maxChannels: 3 } as never), /unknown multiplex option "maxChannels"/);
    assert.throws(() => multiplex(null as never), TypeError);
    const mux = multiplex(r);
    assert.throws(() => mux.channel(''), TypeError);
    assert.throws(() => mux.channel(42 as never), TypeError);
    assert.equal(mux.channel('x'), mux.channel('x'), 'one Channel per name');
    assert.deepEqual([...mux.channels.keys()], ['x']);
  });

  test('many messages in one frame are dispatched in order, and a handler closing its channel mid-batch drops the rest for it only', async () => {
    const s = await service();
    const c = await connect(TRANSPORTS.websocket!, s.url);
    try {
      const batch = ['sub,echo', 'sub,bye'];
      for (let i = 0; i < 50; i++) batch.push('msg,echo,' + i);
      batch.push('msg,bye,1', 'msg,bye,2', 'msg,echo,end');
      await c.send(...batch);
      const got: string[] = [];
      for (let i = 0; i < 52; i++) got.push(await c.message());
      assert.deepEqual(got, [...Array.from({ length: 50 }, (_, i) => 'msg,echo,echo:' + i), 'uns,bye', 'msg,echo,echo:end']);
      await c.quiet();
    } finally {
      c.stop();
      await s.close();
    }
  });

  test('write() on a channel reports the connection\'s backpressure, and the channel gets \'drain\'', async () => {
    let got!: Promise<ChannelConnection>;
    const s = await startService({ high_water_mark: 1024, max_buffered_bytes: 1024 * 1024, disconnect_delay: 300 }, (router) => {
      const mux = multiplex(router);
      got = new Promise<ChannelConnection>((resolve) => mux.channel('big').on('connection', resolve));
    });
    // One poll opens the session; with no poll outstanding, messages pile up in the session.
    const base = sessionUrl(s.url);
    assert.equal((await POST(base + '/xhr')).body, 'o\n');
    try {
      await xhrSend(base, ['sub,big']);
      const ch = await got;
      let writes = 0;
      while (ch.write('x'.repeat(200))) writes++;
      assert.ok(writes < 10);
      assert.ok(ch.bufferedAmount > 1024);
      const drained = new Promise<void>((resolve) => ch.once('drain', resolve));
      const poll = await POST(base + '/xhr');
      assert.ok(poll.body.startsWith('a["msg,big,xxx'));
      await drained;
    } finally {
      await s.close();
    }
  });
});
