// A small client for the websocket-multiplex wire format: several named channels over one
// SockJS connection. Frames: "sub,<channel>", "msg,<channel>,<payload>", "uns,<channel>".
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

  function Multiplexer(sock) {
    var self = this;
    this.sock = sock;
    this.channels = {};
    sock.addEventListener('open', function () {
      Object.keys(self.channels).forEach(function (name) { self.subscribe(self.channels[name]); });
    });
    sock.addEventListener('message', function (e) {
      var data = String(e.data);
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
    sock.addEventListener('close', function (e) {
      Object.keys(self.channels).forEach(function (name) { self.drop(name, e.code, e.reason); });
    });
  }
  Multiplexer.prototype.channel = function (name) {
    var ch = new Channel(this, name);
    this.channels[name] = ch;
    if (this.sock.readyState === 1) this.subscribe(ch);
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
