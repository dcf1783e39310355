// The application every app-shaped bench server runs (bench/servers/app-*.{mjs,cjs}): the same
// functions on every server, so that only the library around them differs.
'use strict';

/** RPC: `{"id":n,"op":"add","a":x,"b":y}` in, `{"id":n,"result":x+y}` out; null for anything else. */
function rpcReply(req) {
  if (req === null || typeof req !== 'object' || req.op !== 'add') return null;
  return { id: req.id, result: req.a + req.b };
}

/** Chat: the room and name a `{"join":room,"name":name}` message asks for; null if it is not one. */
function joinOf(msg) {
  if (msg === null || typeof msg !== 'object' || typeof msg.join !== 'string' || typeof msg.name !== 'string') return null;
  return { room: msg.join, name: msg.name };
}

/** Chat: what a room receives for `{"text":...}` from `name`; null if the message has no text. */
function envelope(name, room, msg) {
  if (msg === null || typeof msg !== 'object' || typeof msg.text !== 'string') return null;
  return { from: name, room, text: msg.text, ts: Date.now() };
}

/**
 * Rooms as an app keeps them when its library has none (sockjs-node, `ws`): a Map of Sets.
 * `join` answers the room's members (the sender sends to them); `leave` drops empty rooms.
 */
class Rooms {
  constructor() {
    this.map = new Map();
  }

  join(room, member) {
    let members = this.map.get(room);
    if (members === undefined) this.map.set(room, (members = new Set()));
    members.add(member);
    return members;
  }

  leave(room, member) {
    const members = this.map.get(room);
    if (members === undefined) return;
    members.delete(member);
    if (members.size === 0) this.map.delete(room);
  }
}

/**
 * One chat member on a library without rooms: its first message joins (answered `{"joined"}`),
 * every later one goes to the room, wrapped. `send(member, text)` writes to one member.
 */
function chatMember(rooms, member, send) {
  let me = null;
  let members = null;
  return {
    data(text) {
      const msg = parse(text);
      if (me === null) {
        me = joinOf(msg);
        if (me === null) return;
        members = rooms.join(me.room, member);
        send(member, JSON.stringify({ joined: me.room }));
        return;
      }
      const env = envelope(me.name, me.room, msg);
      if (env === null) return;
      const out = JSON.stringify(env);
      for (const m of members) send(m, out);
    },
    close() {
      if (me !== null) rooms.leave(me.room, member);
    },
  };
}

/** JSON.parse that answers null for bad input instead of throwing. */
function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

module.exports = { rpcReply, joinOf, envelope, parse, Rooms, chatMember };
