/**
 * The dashboard page's script, plain ES2017 for the browser: polls `api/snapshot?since=` once a
 * second while the tab is visible, keeps the samples of the history window, and draws the charts
 * as small SVG line charts. Everything from the server is written with textContent (room and
 * service names are user data).
 */
import { PROCESSES_JS } from './script-processes.js';

export const PAGE_JS = String.raw`(function () {
  'use strict';
  var st = { snap: null, samples: [], since: 0, service: -1, timer: null, failures: 0, inflight: false };
  var $ = function (id) { return document.getElementById(id); };

  function num(n) {
    if (n === null || n === undefined) return '–';
    var a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(1) + 'G';
    if (a >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return (n / 1e3).toFixed(1) + 'k';
    if (a >= 100 || n === Math.round(n)) return String(Math.round(n));
    return n.toFixed(1);
  }
  function bytes(n) {
    if (n === null || n === undefined) return '–';
    if (n < 1024) return Math.round(n) + ' B';
    var u = ['KiB', 'MiB', 'GiB', 'TiB'], i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
    return (n >= 100 ? Math.round(n) : n.toFixed(1)) + ' ' + u[i];
  }
  function duration(s) {
    if (s < 120) return s + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    if (s < 172800) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' d';
  }

  // One service's figures (of a sample or a process), or the sum over all services: a null field
  // stays null, a service with no figures at all (null) is left out.
  function pickOf(list) {
    if (st.service >= 0) return list[st.service];
    var out = null;
    list.forEach(function (s) {
      if (s === null) return;
      if (out === null) { out = JSON.parse(JSON.stringify(s)); return; }
      Object.keys(s).forEach(function (k) {
        var v = s[k];
        if (Array.isArray(v)) out[k] = out[k] === null || v === null ? null : out[k].map(function (x, i) { return x + v[i]; });
        else out[k] = out[k] === null || v === null ? null : out[k] + v;
      });
    });
    return out;
  }
  function pick(sample) { return pickOf(sample.services); }

  // A round top for four grid lines (a quarter of it is round too).
  function nice(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 4, 6, 8, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
    return 10 * p;
  }

  // series: [{ cls, values }] aligned with times; null values and gap samples break the line.
  // The same in powers of 1024, for byte axes.
  function niceBytes(v) {
    var u = v >= 1024 ? Math.pow(1024, Math.floor(Math.log(v) / Math.log(1024))) : 1;
    return nice(v / u) * u;
  }

  function chart(el, times, gaps, series, fmt, floor) {
    var W = Math.max(el.clientWidth, 200), H = el.clientHeight || 170, L = 46, R = 8, T = 6, B = 18;
    var now = st.snap.now, span = st.snap.history_s * 1000, t0 = now - span;
    var max = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && v > max) max = v; }); });
    max = (fmt === bytes ? niceBytes : nice)(Math.max(max, floor || 0));
    var x = function (t) { return L + (W - L - R) * (t - t0) / span; };
    var y = function (v) { return T + (H - T - B) * (1 - v / max); };
    var svg = '<svg viewBox="0 0 ' + W + ' ' + H + '" role="img">';
    for (var g = 0; g <= 4; g++) {
      var gv = max * g / 4, gy = y(gv).toFixed(1);
      svg += '<line class="gl" x1="' + L + '" x2="' + (W - R) + '" y1="' + gy + '" y2="' + gy + '"/>';
      svg += '<text x="' + (L - 6) + '" y="' + (+gy + 3) + '" text-anchor="end">' + fmt(gv) + '</text>';
    }
    var stepS = [10, 30, 60, 120, 300, 600, 900].filter(function (s) { return span / 1000 / s <= 6; })[0] || 900;
    for (var k = 0; k * stepS * 1000 <= span; k++) {
      var tx = x(now - k * stepS * 1000).toFixed(1);
      var lab = k === 0 ? 'now' : '-' + (stepS >= 60 ? (k * stepS / 60) + 'm' : (k * stepS) + 's');
      svg += '<text x="' + tx + '" y="' + (H - 4) + '" text-anchor="' + (k === 0 ? 'end' : 'middle') + '">' + lab + '</text>';
    }
    series.forEach(function (s) {
      var d = '', pen = false;
      for (var i = 0; i < times.length; i++) {
        var v = s.values[i];
        if (v === null || gaps[i]) pen = false;
        if (v === null || times[i] < t0) continue;
        d += (pen ? 'L' : 'M') + x(times[i]).toFixed(1) + ' ' + y(v).toFixed(1);
        pen = true;
      }
      if (d !== '') svg += '<path class="' + s.cls + '" d="' + d + '"/>';
    });
    el.innerHTML = svg + '</svg>';
  }

  function legend(el, items) {
    el.textContent = '';
    items.forEach(function (it) {
      var li = document.createElement('li'), i = document.createElement('i'), b = document.createElement('b');
      i.className = it.cls;
      b.textContent = it.value;
      li.appendChild(i);
      li.appendChild(document.createTextNode(it.label));
      li.appendChild(b);
      el.appendChild(li);
    });
  }

  // Rebuilt only when its data changed, so a button stays put under the pointer between polls.
  function rows(table, list, cells, empty) {
    var tbody = table.tBodies[0], cols = table.tHead.rows[0].cells.length, key = JSON.stringify([list, st.snap.services, st.service]);
    if (table.dataKey === key) return;
    table.dataKey = key;
    tbody.textContent = '';
    if (list.length === 0) {
      var tr0 = tbody.insertRow(), td0 = tr0.insertCell();
      td0.colSpan = cols;
      td0.className = 'empty';
      td0.textContent = empty;
      return;
    }
    list.forEach(function (item) {
      var tr = tbody.insertRow();
      cells(item).forEach(function (c) {
        var td = tr.insertCell();
        if (c instanceof Node) td.appendChild(c);
        else td.textContent = c === null || c === undefined ? '' : String(c);
        if (typeof c === 'number' || (c && c.numeric)) td.className = 'n';
      });
    });
  }
  function numeric(text) { var s = new String(text); s.numeric = true; return s; }

  function render() {
    var snap = st.snap, samples = st.samples;
    if (snap === null || samples.length === 0) return;
    var picked = samples.map(pick), last = picked[picked.length - 1], lastSample = samples[samples.length - 1];
    var times = samples.map(function (s) { return s.t; }), gaps = samples.map(function (s) { return s.gap; });
    var inService = function (row) { return st.service < 0 || row.service === st.service; };
    var total = last.sessions.reduce(function (a, b) { return a + b; }, 0);
    $('v-sessions').textContent = total.toLocaleString('en-US');
    $('v-in').textContent = num(last.in_ps);
    $('v-out').textContent = num(last.out_ps);
    $('v-buffered').textContent = bytes(last.buffered);
    var rooms = snap.rooms.top.filter(inService);
    $('v-rooms').textContent = st.service < 0 ? num(snap.rooms.total) : num(rooms.length);
    $('v-cpu').textContent = lastSample.cpu === null ? '–' : lastSample.cpu.toFixed(1) + ' %';

    var shown = snap.transports.map(function (name, i) { return { name: name, i: i }; }).filter(function (tr) {
      return picked.some(function (p) { return p.sessions[tr.i] > 0; });
    });
    if (shown.length === 0) shown = [{ name: 'websocket', i: 0 }];
    chart($('c-sessions'), times, gaps, shown.map(function (tr) {
      return { cls: 's' + tr.i, values: picked.map(function (p) { return p.sessions[tr.i]; }) };
    }), num);
    legend($('l-sessions'), shown.map(function (tr) { return { cls: 's' + tr.i, label: tr.name, value: num(last.sessions[tr.i]) }; }));

    chart($('c-messages'), times, gaps, [
      { cls: 's0', values: picked.map(function (p) { return p.in_ps; }) },
      { cls: 's1', values: picked.map(function (p) { return p.out_ps; }) },
    ], num);
    legend($('l-messages'), [
      { cls: 's0', label: 'in', value: num(last.in_ps) + ' /s · ' + bytes(last.bytes_in_ps) + '/s' },
      { cls: 's1', label: 'out', value: num(last.out_ps) + ' /s · ' + bytes(last.bytes_out_ps) + '/s' },
    ]);

    chart($('c-buffered'), times, gaps, [{ cls: 's6', values: picked.map(function (p) { return p.buffered; }) }], bytes, 1024);
    legend($('l-buffered'), [{ cls: 's6', label: 'now', value: bytes(last.buffered) }]);

    // Counts per sample, as rates: samples are about a second apart while a page polls.
    var perS = function (i, n) { return n === null || i === 0 || gaps[i] ? null : n * 1000 / Math.max(times[i] - times[i - 1], 1); };
    var churn = [{ cls: 's2', label: 'opened', values: picked.map(function (p, i) { return perS(i, p.opened); }), sum: 0 }];
    snap.causes.forEach(function (cause, c) {
      churn.push({ cls: 's' + [3, 1, 5, 6, 4, 0][c], label: 'closed: ' + cause, values: picked.map(function (p, i) { return perS(i, p.closed === null ? null : p.closed[c]); }), sum: 0 });
    });
    picked.forEach(function (p) {
      if (p.opened !== null) churn[0].sum += p.opened;
      if (p.closed !== null) p.closed.forEach(function (n, c) { churn[c + 1].sum += n; });
    });
    var active = churn.filter(function (s, i) { return i === 0 || s.sum > 0; });
    chart($('c-churn'), times, gaps, active, num);
    legend($('l-churn'), active.map(function (s) { return { cls: s.cls, label: s.label, value: num(s.sum) }; }));

    var names = snap.services;
    $('rooms-note').textContent = snap.rooms.total === 0 ? '' : 'largest ' + rooms.length + ' of ' + snap.rooms.total;
    var biggest = rooms.length > 0 ? rooms[0].size : 1;
    rows($('t-rooms'), rooms, function (r) {
      var bar = document.createElement('div');
      bar.className = 'bar s0';
      bar.style.width = (100 * r.size / biggest).toFixed(1) + '%';
      return [r.name, names[r.service], r.size, bar];
    }, 'No rooms');
    Array.prototype.forEach.call($('t-rooms').tBodies[0].rows, function (tr) { if (tr.cells[3]) tr.cells[3].className = 'barcell'; });

    rows($('t-slowest'), snap.slowest.filter(inService), function (c) {
      var id = document.createElement('code');
      id.textContent = c.id.slice(0, 8) + (c.id.length > 8 ? '…' : '');
      id.title = c.id;
      var cells = [id, c.transport, c.remote, numeric(bytes(c.buffered)), c.rooms];
      if (snap.actions) {
        var btn = document.createElement('button');
        btn.textContent = 'Close';
        btn.title = 'Close this session';
        btn.onclick = function () { closeSession(c.id, btn); };
        cells.push(btn);
      } else cells.push('');
      return cells;
    }, 'No session has bytes waiting');

    renderProcesses(snap);
  }
${PROCESSES_JS}
  function fillServices(names) {
    var sel = $('service');
    if (sel.options.length === names.length + 1 && names.every(function (n, i) { return sel.options[i + 1].textContent === n; })) return;
    while (sel.options.length > 1) sel.remove(1);
    names.forEach(function (n, i) {
      var o = document.createElement('option');
      o.value = String(i);
      o.textContent = n;
      sel.appendChild(o);
    });
    sel.value = String(st.service);
    sel.parentNode.style.display = names.length > 1 ? '' : 'none';
  }

  function status(text, cls) {
    var el = $('status');
    el.textContent = text;
    el.className = 'status ' + cls;
  }

  function apply(snap) {
    var lastT = st.samples.length > 0 ? st.samples[st.samples.length - 1].t : 0;
    snap.samples.forEach(function (s) { if (s.t > lastT) st.samples.push(s); });
    var oldest = snap.now - snap.history_s * 1000;
    while (st.samples.length > 0 && st.samples[0].t < oldest) st.samples.shift();
    st.since = st.samples.length > 0 ? st.samples[st.samples.length - 1].t : 0;
    st.snap = snap;
    st.failures = 0;
    fillServices(snap.services);
    render();
    status('live · ' + new Date(snap.now).toLocaleTimeString() + ' · snapshot ' + (snap.cost_us / 1000).toFixed(2) + ' ms CPU', 'live');
  }

  function schedule() {
    clearTimeout(st.timer);
    st.timer = null;
    if (document.hidden) { status('paused while the tab is hidden', ''); return; }
    var delay = st.failures === 0 ? st.snap ? st.snap.interval_ms : 1000 : Math.min(1000 * Math.pow(2, st.failures), 10000);
    st.timer = setTimeout(poll, delay);
  }

  function poll() {
    if (st.inflight) return;
    st.inflight = true;
    fetch('api/snapshot?since=' + st.since, { cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(apply, function (err) { st.failures++; status('cannot reach the server (' + err.message + '); retrying', 'error'); })
      .then(function () { st.inflight = false; schedule(); });
  }

  function closeSession(id, btn) {
    btn.disabled = true;
    fetch('api/sessions/' + encodeURIComponent(id) + '/close', { method: 'POST', credentials: 'same-origin', headers: { 'X-SockJS-Dashboard': '1' } })
      .then(function (r) { return r.json().then(function (body) { if (!r.ok) throw new Error(body.error || 'HTTP ' + r.status); }); })
      .then(function () { clearTimeout(st.timer); poll(); }, function (err) { btn.disabled = false; status('close failed: ' + err.message, 'error'); });
  }

  document.addEventListener('visibilitychange', function () { if (!document.hidden && st.timer === null) poll(); });
  window.addEventListener('resize', render);
  document.addEventListener('DOMContentLoaded', function () {
    $('service').addEventListener('change', function (e) { st.service = Number(e.target.value); render(); });
    poll();
  });
})();
`;
