/*
 * The in-page half of the browser end-to-end tests. Plain ES5-style browser JavaScript, served
 * to the test pages as /harness.js next to sockjs-client's bundle; the Node side (browser.ts)
 * calls it through page.evaluate, so each check is one round trip to the page.
 *
 * window.e2e.open(url, transport, timeoutMs)       -> { key, opened, transport, close, error }
 * window.e2e.echo(key, messages, timeoutMs)        -> { received, mismatches, strays, timedOut, close }
 * window.e2e.close(key, timeoutMs)                 -> { code, reason, wasClean } | null
 * window.e2e.serverClose(url, transport, timeoutMs) -> { opened, transport, messages, close }
 */
(function () {
  'use strict';

  var sockets = {};
  var counter = 0;

  function hex(s) {
    var out = [];
    for (var i = 0; i < s.length; i++) out.push(('000' + s.charCodeAt(i).toString(16)).slice(-4));
    return out.join(' ');
  }

  // A short, readable account of how `got` differs from `expected` (code units around the first difference).
  function diff(index, expected, got) {
    if (typeof got !== 'string') return { index: index, expectedLength: expected.length, got: String(got) };
    var at = 0;
    while (at < expected.length && at < got.length && expected.charCodeAt(at) === got.charCodeAt(at)) at++;
    var from = Math.max(0, at - 4);
    return {
      index: index,
      expectedLength: expected.length,
      gotLength: got.length,
      firstDifferenceAt: at,
      expectedCodeUnits: hex(expected.slice(from, at + 8)),
      gotCodeUnits: hex(got.slice(from, at + 8)),
    };
  }

  function closeInfo(e) {
    return { code: e.code, reason: e.reason, wasClean: e.wasClean };
  }

  function open(url, transport, timeoutMs) {
    return new Promise(function (resolve) {
      var key = 'sock' + ++counter;
      var sock;
      try {
        // `timeout` raises the client's connect timeout (normally ~RTO x round trips, under a
        // second on loopback) so a loaded CI machine loading an iframe does not fail the attempt.
        sock = new SockJS(url, null, { transports: [transport], timeout: timeoutMs });
      } catch (err) {
        resolve({ key: null, opened: false, transport: null, close: null, error: String(err) });
        return;
      }
      var entry = { sock: sock, inbox: [], close: null, wake: null };
      sockets[key] = entry;
      var guard = setTimeout(function () {
        resolve({ key: key, opened: false, transport: sock.transport || null, close: null, error: 'no open or close within ' + (timeoutMs + 5000) + ' ms' });
      }, timeoutMs + 5000);
      sock.onopen = function () {
        clearTimeout(guard);
        resolve({ key: key, opened: true, transport: sock.transport, close: null, error: null });
      };
      sock.onmessage = function (e) {
        entry.inbox.push(e.data);
        if (entry.wake) entry.wake();
      };
      sock.onclose = function (e) {
        clearTimeout(guard);
        entry.close = closeInfo(e);
        resolve({ key: key, opened: false, transport: sock.transport || null, close: entry.close, error: null });
        if (entry.wake) entry.wake();
      };
    });
  }

  // Resolves when `entry.inbox` holds `count` messages, the socket closes, or the time is up.
  function waitFor(entry, count, timeoutMs) {
    return new Promise(function (resolve) {
      var timer = null;
      function check(timedOut) {
        if (timedOut || entry.inbox.length >= count || entry.close) {
          entry.wake = null;
          if (timer !== null) clearTimeout(timer);
          resolve(!!timedOut);
          return true;
        }
        return false;
      }
      if (check(false)) return;
      entry.wake = function () {
        check(false);
      };
      timer = setTimeout(function () {
        check(true);
      }, timeoutMs);
    });
  }

  function echo(key, messages, timeoutMs) {
    var entry = sockets[key];
    if (!entry) return Promise.resolve({ error: 'no socket ' + key });
    // Anything that arrived since the previous check is a stray (a duplicate, or an unasked-for message).
    var strays = entry.inbox.splice(0, entry.inbox.length);
    for (var i = 0; i < messages.length; i++) entry.sock.send(messages[i]);
    return waitFor(entry, messages.length, timeoutMs).then(function (timedOut) {
      var got = entry.inbox.splice(0, messages.length);
      var mismatches = [];
      for (var j = 0; j < messages.length && mismatches.length < 5; j++) {
        if (got[j] !== messages[j]) mismatches.push(diff(j, messages[j], got[j]));
      }
      return {
        received: got.length,
        mismatches: mismatches,
        strays: strays.map(function (s) {
          return s.length > 80 ? s.slice(0, 80) + '...(' + s.length + ')' : s;
        }),
        timedOut: timedOut,
        close: entry.close,
      };
    });
  }

  function close(key, timeoutMs) {
    var entry = sockets[key];
    if (!entry) return Promise.resolve(null);
    delete sockets[key];
    if (entry.close) return Promise.resolve(entry.close);
    var done = waitFor(entry, Infinity, timeoutMs);
    entry.sock.close();
    return done.then(function () {
      return entry.close;
    });
  }

  function serverClose(url, transport, timeoutMs) {
    return open(url, transport, timeoutMs).then(function (o) {
      var entry = o.key && sockets[o.key];
      if (!entry) return { opened: false, transport: null, messages: [], close: o.close, error: o.error };
      return waitFor(entry, Infinity, timeoutMs).then(function () {
        delete sockets[o.key];
        if (!entry.close) entry.sock.close();
        return { opened: o.opened, transport: o.transport, messages: entry.inbox.slice(), close: entry.close, error: o.error };
      });
    });
  }

  window.e2e = { open: open, echo: echo, close: close, serverClose: serverClose };
})();
