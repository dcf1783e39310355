// The sockjs-express demo: a chat with rooms, nicknames and presence, plus a live server panel.
// One SockJS connection per page, multiplexed into two channels: `chat` and `stats`.
//
//   npm start            (from the repository root: builds, then serves http://localhost:3000)
//   PORT=4000 npm start
//   REDIS_URL=redis://127.0.0.1:6379 npm start    (one of several processes sharing Redis; see cluster.mjs)
//
// Room messages go to the room of the SockJS connection (`chat:<room>`), already framed for the
// `chat` channel, so with Redis they reach the members on every process, and a page whose process
// dies resumes on another one with every message it missed. Presence and the room list are each
// process's own members.
import express from 'express';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import sockjs, { expressServer, multiplex } from 'sockjs-express';
import { redisAdapter } from 'sockjs-express/redis';

const require = createRequire(import.meta.url);
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

const LIMITS = { nick: 24, text: 500, room: 24, rooms: 20, perRoomHistory: 30 };
const DEFAULT_ROOMS = ['lobby', 'random', 'help'];

/** `redis`: a Redis URL, to run as one of several processes (room messages and recovery through Redis). */
export function createDemo({ redis } = {}) {
  const app = express();
  app.disable('x-powered-by');
  // sockjs-client from the npm package, never a CDN: the iframe transports load it from here too.
  app.get('/vendor/sockjs.min.js', (_req, res) => res.sendFile(require.resolve('sockjs-client/dist/sockjs.min.js')));
  // The companion client: reconnects, and resumes the connection with nothing missed (docs/recovery.md).
  app.get('/vendor/sockjs-express-client.js', (_req, res) => res.sendFile(require.resolve('sockjs-express/client/browser')));
  app.use(express.static(here('./public')));

  const service = sockjs({
    sockjs_url: '/vendor/sockjs.min.js',
    recovery: { window_ms: 60_000 },
    ...(redis ? { adapter: redisAdapter({ url: redis, channel: 'sockjs-demo' }) } : {}),
  });
  app.use('/sockjs', service);
  const mux = multiplex(service);

  /** room name -> { members: Map<channel, nick>, history: message[] } */
  const rooms = new Map(DEFAULT_ROOMS.map((r) => [r, { members: new Map(), history: [] }]));
  let messagesIn = 0;

  const send = (ch, payload) => ch.write(JSON.stringify(payload));
  const roomList = () => [...rooms.entries()].map(([name, r]) => ({ name, members: r.members.size }));
  const presence = (name) => {
    const room = rooms.get(name);
    if (room === undefined) return;
    const members = [...room.members.values()].sort();
    for (const ch of room.members.keys()) send(ch, { type: 'presence', room: name, members });
  };
  const broadcastRooms = () => {
    const list = roomList();
    for (const ch of mux.channel('chat').connections) send(ch, { type: 'rooms', rooms: list });
  };

  mux.channel('chat').on('connection', (ch) => {
    let nick = null;
    let room = null;
    const leave = () => {
      if (room === null) return;
      const r = rooms.get(room);
      r.members.delete(ch);
      ch.connection.leave('chat:' + room);
      const left = room;
      room = null;
      presence(left);
      broadcastRooms();
    };
    send(ch, { type: 'welcome', transport: ch.protocol, rooms: roomList(), limits: LIMITS, server: process.pid });

    ch.on('data', (raw) => {
      messagesIn++;
      let msg;
      try {
        msg = JSON.parse(raw);
      } catch {
        return send(ch, { type: 'error', message: 'Messages must be JSON.' });
      }
      if (msg === null || typeof msg !== 'object') return send(ch, { type: 'error', message: 'Messages must be JSON objects.' });
      switch (msg.type) {
        case 'ping':
          return send(ch, { type: 'pong', t: msg.t });
        case 'nick': {
          const n = typeof msg.nick === 'string' ? msg.nick.trim() : '';
          if (n.length === 0 || n.length > LIMITS.nick) return send(ch, { type: 'error', message: `A nickname has 1 to ${LIMITS.nick} characters.` });
          nick = n;
          if (room !== null) {
            rooms.get(room).members.set(ch, nick);
            presence(room);
          }
          return send(ch, { type: 'nick', nick });
        }
        case 'join': {
          const name = typeof msg.room === 'string' ? msg.room.trim().toLowerCase() : '';
          if (!/^[a-z0-9-]{1,24}$/.test(name)) return send(ch, { type: 'error', message: 'Room names are 1 to 24 of a-z, 0-9 and -.' });
          if (nick === null) return send(ch, { type: 'error', message: 'Choose a nickname first.' });
          if (!rooms.has(name)) {
            if (rooms.size >= LIMITS.rooms) return send(ch, { type: 'error', message: `There can be at most ${LIMITS.rooms} rooms.` });
            rooms.set(name, { members: new Map(), history: [] });
          }
          // After a move to this process (the page's 'recovered'), it joins again: no history, nothing cleared.
          const again = msg.again === true && room === null && ch.connection.rooms.has('chat:' + name);
          leave();
          room = name;
          const r = rooms.get(name);
          r.members.set(ch, nick);
          ch.connection.join('chat:' + name);
          send(ch, again ? { type: 'joined', room: name, again: true } : { type: 'joined', room: name, history: r.history });
          presence(name);
          return broadcastRooms();
        }
        case 'say': {
          const text = typeof msg.text === 'string' ? msg.text.trim() : '';
          if (room === null) return send(ch, { type: 'error', message: 'Join a room first.' });
          if (text.length === 0 || text.length > LIMITS.text) return send(ch, { type: 'error', message: `A message has 1 to ${LIMITS.text} characters.` });
          const r = rooms.get(room);
          const entry = { type: 'message', room, nick, text, at: Date.now(), transport: ch.protocol };
          r.history.push(entry);
          if (r.history.length > LIMITS.perRoomHistory) r.history.shift();
          // Framed for the chat channel, to the room's connections on every process.
          service.to('chat:' + room).send('msg,chat,' + JSON.stringify(entry));
          return undefined;
        }
        default:
          return send(ch, { type: 'error', message: 'Unknown message type.' });
      }
    });
    ch.on('close', leave);
  });

  // The server panel: the service's own counters, once a second, to every page watching.
  const collectStats = () => {
    const s = service.stats.dump();
    return {
      type: 'stats',
      sessions: s.sessions_active,
      perTransport: {
        websocket: s.transp_websocket,
        'xhr-streaming': s.transp_xhr_streaming,
        'xhr-polling': s.transp_xhr,
        eventsource: s.transp_eventsource,
        htmlfile: s.transp_htmlfile,
        'jsonp-polling': s.transp_jsonp,
      },
      in_ps: s.packets_recv_ps,
      out_ps: s.packets_sent_ps,
      connections: s.connections_active,
      chatMessages: messagesIn,
    };
  };
  // Channels exist from the start: a subscription to an unknown channel is refused (uns).
  const statsChannel = mux.channel('stats');
  statsChannel.on('connection', (ch) => ch.write(JSON.stringify(collectStats())));
  const statsTimer = setInterval(() => {
    if (statsChannel.connections.size > 0) statsChannel.broadcast(JSON.stringify(collectStats()));
  }, 1000);
  statsTimer.unref();

  const server = expressServer(app);
  service.attach(server);
  return {
    app,
    server,
    service,
    async close() {
      clearInterval(statsTimer);
      await service.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 3000);
  const demo = createDemo({ redis: process.env.REDIS_URL });
  demo.server.listen(port, () => {
    const { port: actual } = demo.server.address();
    console.log(`sockjs-express demo on http://localhost:${actual}`);
  });
  const stop = () => demo.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
