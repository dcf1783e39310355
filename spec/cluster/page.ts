/**
 * The cluster test's browser page: sockjs-client plus a small in-page registry of sessions the
 * Node side drives through page.evaluate (window.cluster.open/send/state), and the same for the
 * companion client on /recover (window.cluster.resumable/rstate).
 */
const SCRIPT = `
(function () {
  var socks = [];
  window.cluster = {
    // Resolves with the session's index once its node has said who it is.
    open: function (transport) {
      return new Promise(function (resolve, reject) {
        var entry = { sock: new SockJS('/broadcast', null, { transports: [transport], timeout: 10000 }), node: '', inbox: [], closed: null };
        var i = socks.push(entry) - 1;
        entry.sock.onmessage = function (e) {
          if (entry.node === '' && e.data.indexOf('node:') === 0) { entry.node = e.data.slice(5); resolve(i); }
          else entry.inbox.push(e.data);
        };
        entry.sock.onclose = function (e) {
          entry.closed = { code: e.code, reason: e.reason };
          if (entry.node === '') reject(new Error(transport + ' closed before its node spoke: ' + e.code + ' ' + e.reason));
        };
      });
    },
    send: function (i, m) { socks[i].sock.send(m); },
    close: function (i) { socks[i].sock.close(); },
    state: function (i) {
      var s = socks[i];
      return { transport: s.sock.transport || '', node: s.node, inbox: s.inbox.slice(), closed: s.closed };
    },
    // The companion client: resolves with its index once its node said who it is and it joined the room.
    resumable: function (transport, room) {
      return new Promise(function (resolve) {
        var entry = { sock: SockJSExpressClient.connect('/recover', { transports: [transport], stallTimeout: 4000, reconnect: { initialDelay: 100, maxDelay: 1000 } }),
          nodes: [], inbox: [], recovered: [], lost: [], closed: null, joined: false };
        var i = socks.push(entry) - 1;
        entry.sock.on('message', function (m) {
          if (m.indexOf('node:') === 0) entry.nodes.push(m.slice(5));
          else if (m === 'direct:joined') { entry.joined = true; resolve(i); }
          else entry.inbox.push(m);
        });
        entry.sock.on('recovered', function (info) { entry.recovered.push(info); });
        entry.sock.on('lost', function (info) { entry.lost.push(info); });
        entry.sock.on('close', function (e) { entry.closed = e; });
        entry.sock.send('join:' + room);
        entry.sock.send('direct:joined');
      });
    },
    rstate: function (i) {
      var s = socks[i];
      return { transport: s.sock.transport || '', nodes: s.nodes.slice(), inbox: s.inbox.slice(), recovered: s.recovered.slice(), lost: s.lost.slice(), closed: s.closed };
    },
  };
})();
`;

export const CLUSTER_PAGE = [
  '<!doctype html>',
  '<html><head><meta charset="utf-8"><title>sockjs-express cluster</title>',
  '<script src="/sockjs.js"></script>',
  '<script src="/client.js"></script>',
  `<script>${SCRIPT}</script>`,
  '</head><body><p>cluster</p></body></html>',
].join('\n');
