// The demo page: one SockJS connection (transport chosen in the picker), multiplexed into a
// `chat` channel and a `stats` channel, through the companion client sockjs-express/client.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var state = { sock: null, chat: null, nick: localStorage.getItem('nick') || '', room: null, pingTimer: null };
  var params = new URLSearchParams(location.search);
  if (params.get('transport')) $('transport-pick').value = params.get('transport');
  if (params.get('nick')) state.nick = params.get('nick');
  $('nick').value = state.nick;

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text; // never innerHTML: everything shown is user text
    return e;
  }

  function setStatus(text, cls) {
    $('state').textContent = text;
    $('state').className = 'pill ' + cls;
  }

  // The companion client reconnects (backoff with jitter) and, as the server has `recovery` on,
  // resumes the same connection: nothing said meanwhile is missed, and what was typed while
  // offline is sent once. If the server lost the connection (restarted), we join again.
  function connect() {
    var transport = $('transport-pick').value;
    setStatus('connecting', 'wait');
    var sock = SockJSExpressClient.connect('/sockjs', transport ? { transports: [transport] } : {});
    state.sock = sock;
    var mux = new Multiplexer(sock);
    var chat = mux.channel('chat');
    var stats = mux.channel('stats');
    state.chat = chat;
    var online = function () {
      if (state.sock !== sock) return;
      $('reconnect').textContent = '';
      setStatus('online', 'on');
      $('transport').textContent = sock.transport || '–';
      document.body.dataset.transport = sock.transport || '';
    };
    var hello = function (again) {
      if (state.nick) send({ type: 'nick', nick: state.nick });
      if (state.room) send({ type: 'join', room: state.room, again: again === true });
    };
    sock.on('open', function () { online(); hello(); });
    sock.on('recovered', function (info) {
      online();
      document.body.dataset.recovered = String(Number(document.body.dataset.recovered || 0) + 1);
      if (!info.moved) return;
      // Another server process took the connection over, with its rooms and every room message
      // missed; this process does not know our nickname yet (multiplex.js subscribes again).
      document.body.dataset.moved = String(Number(document.body.dataset.moved || 0) + 1);
      notice('The server process changed; nothing said in the room was missed.');
      hello(true);
    });
    sock.on('lost', function () { online(); notice('Reconnected; messages sent meanwhile may be missing.'); hello(); });
    sock.on('reconnecting', function (e) {
      if (state.sock !== sock) return;
      setStatus('offline', 'off');
      $('transport').textContent = '–';
      $('rtt').textContent = '–';
      $('reconnect').textContent = 'Connection lost (' + e.code + (e.reason ? ' ' + e.reason : '') + '). Reconnecting in ' + (e.delay / 1000).toFixed(1) + ' s (attempt ' + e.attempt + '); what you say meanwhile is sent then.';
    });
    chat.onmessage = function (e) { onChat(JSON.parse(e.data)); };
    stats.onmessage = function (e) { onStats(JSON.parse(e.data)); };
    clearInterval(state.pingTimer);
    state.pingTimer = setInterval(ping, 2000);
  }

  function send(obj) {
    if (state.chat && state.chat.readyState === 1) state.chat.send(JSON.stringify(obj));
  }

  function ping() {
    if (state.sock && state.sock.state === 'open') send({ type: 'ping', t: performance.now() });
  }

  function onChat(msg) {
    switch (msg.type) {
      case 'welcome':
        document.body.dataset.server = String(msg.server);
        return renderRooms(msg.rooms);
      case 'rooms': return renderRooms(msg.rooms);
      case 'pong': $('rtt').textContent = Math.round(performance.now() - msg.t) + ' ms'; return undefined;
      case 'nick': state.nick = msg.nick; localStorage.setItem('nick', msg.nick); return notice('You are now ' + msg.nick + '.');
      case 'joined':
        if (msg.again) return undefined;
        state.room = msg.room;
        $('room-title').textContent = '#' + msg.room;
        $('messages').textContent = '';
        msg.history.forEach(addMessage);
        $('say').disabled = $('say-button').disabled = false;
        $('say').focus();
        return highlightRoom();
      case 'presence':
        if (msg.room !== state.room) return undefined;
        $('presence').textContent = '';
        msg.members.forEach(function (m) { $('presence').appendChild(el('li', m === state.nick ? 'me' : '', m)); });
        return undefined;
      case 'message': return addMessage(msg);
      case 'error': return notice(msg.message, 'error');
      default: return undefined;
    }
  }

  function addMessage(m) {
    var li = el('li', m.nick === state.nick ? 'mine' : '');
    li.appendChild(el('span', 'who', m.nick));
    li.appendChild(el('span', 'text', m.text));
    li.appendChild(el('span', 'meta', new Date(m.at).toLocaleTimeString() + ' · ' + m.transport));
    $('messages').appendChild(li);
    $('messages').scrollTop = $('messages').scrollHeight;
  }

  function notice(text, cls) {
    $('messages').appendChild(el('li', 'notice ' + (cls || ''), text));
    $('messages').scrollTop = $('messages').scrollHeight;
  }

  function renderRooms(rooms) {
    $('rooms').textContent = '';
    rooms.forEach(function (r) {
      var li = el('li');
      var b = el('button', 'room', '#' + r.name);
      b.dataset.room = r.name;
      b.appendChild(el('span', 'count', String(r.members)));
      b.addEventListener('click', function () { join(r.name); });
      li.appendChild(b);
      $('rooms').appendChild(li);
    });
    highlightRoom();
  }

  function highlightRoom() {
    Array.prototype.forEach.call(document.querySelectorAll('#rooms button'), function (b) {
      b.classList.toggle('active', b.dataset.room === state.room);
    });
  }

  function join(room) {
    if (!state.nick) return notice('Choose a nickname first.', 'error');
    send({ type: 'join', room: room });
    return undefined;
  }

  function onStats(s) {
    $('s-sessions').textContent = s.sessions;
    $('s-in').textContent = s.in_ps.toFixed(1);
    $('s-out').textContent = s.out_ps.toFixed(1);
    var table = $('s-transports');
    table.textContent = '';
    Object.keys(s.perTransport).forEach(function (t) {
      var tr = el('tr');
      tr.appendChild(el('th', '', t));
      var bar = el('td', 'barcell');
      var fill = el('span', 'bar');
      fill.style.width = (s.sessions ? (100 * s.perTransport[t] / s.sessions) : 0) + '%';
      bar.appendChild(fill);
      tr.appendChild(bar);
      tr.appendChild(el('td', 'num', String(s.perTransport[t])));
      table.appendChild(tr);
    });
  }

  $('nick-form').addEventListener('submit', function (e) {
    e.preventDefault();
    state.nick = $('nick').value.trim();
    send({ type: 'nick', nick: state.nick });
  });
  $('room-form').addEventListener('submit', function (e) {
    e.preventDefault();
    join($('room').value.trim().toLowerCase());
    $('room').value = '';
  });
  $('say-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var text = $('say').value.trim();
    if (text) send({ type: 'say', text: text });
    $('say').value = '';
  });
  $('transport-pick').addEventListener('change', function () {
    var old = state.sock;
    state.sock = null;
    if (old) old.close();
    connect();
  });

  connect();
})();
