// A small client for the websocket-multiplex wire format: several named channels over one
// SockJS connection (through the companion client). Frames: "sub,<channel>", "msg,<channel>,<payload>", "uns,<channel>".
(function () {
  'use strict';
  function Channel(mux, name) {
    this.mux = mux;
    this.name = name;
    this.readyState = 0;
    this.onopen = this.onmessage = this.onclose = null;
  }
  Channel.prototype.send = function (data) {
    this.mux.sock.send('msg,' + this.name + ',' + data);
  };
  Channel.prototype.close = function () {
    this.mux.sock.send('uns,' + this.name);
    this.mux.drop(this.name, 1000, 'Unsubscribed');
  };

  // `sock` is the companion client (sockjs-express/client): it queues while offline, and a
  // resumed connection keeps its subscriptions on the server; a lost one needs them again.
  function Multiplexer(sock) {
    var self = this;
    this.sock = sock;
    this.channels = {};
    var again = function () {
      Object.keys(self.channels).forEach(function (name) { self.subscribe(self.channels[name]); });
    };
    sock.on('lost', again);
    // Moved to another server process: the connection is the same, but its subscriptions were the old process's.
    sock.on('recovered', function (info) { if (info.moved) again(); });
    sock.on('message', function (data) {
      var i = data.indexOf(',');
      var type = data.slice(0, i);
      var rest = data.slice(i + 1);
      var j = rest.indexOf(',');
      var name = j === -1 ? rest : rest.slice(0, j);
      var ch = self.channels[name];
      if (!ch) return;
      if (type === 'msg' && ch.onmessage) ch.onmessage({ data: rest.slice(j + 1) });
      else if (type === 'uns') self.drop(name, 1000, 'Unsubscribed by the server');
    });
    sock.on('close', function (e) {
      Object.keys(self.channels).forEach(function (name) { self.drop(name, e.code, e.reason); });
    });
  }
  Multiplexer.prototype.channel = function (name) {
    var ch = new Channel(this, name);
    this.channels[name] = ch;
    this.subscribe(ch);
    return ch;
  };
  Multiplexer.prototype.subscribe = function (ch) {
    this.sock.send('sub,' + ch.name);
    ch.readyState = 1;
    if (ch.onopen) ch.onopen();
  };
  Multiplexer.prototype.drop = function (name, code, reason) {
    var ch = this.channels[name];
    if (!ch) return;
    delete this.channels[name];
    ch.readyState = 3;
    if (ch.onclose) ch.onclose({ code: code, reason: reason });
  };
  window.Multiplexer = Multiplexer;
})();
