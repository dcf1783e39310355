/**
 * The page script's part for the Processes table: one row per process (this one first, then the
 * others that answered through the adapters), and the cluster totals below. It is spliced into
 * PAGE_JS's function, whose helpers (`$`, `st`, `rows`, `pickOf`, `num`, `bytes`, …) it uses.
 */
export const PROCESSES_JS = String.raw`
  function byTransport(snap, sessions) {
    if (!sessions) return '';
    return snap.transports.map(function (name, i) { return sessions[i] > 0 ? name + ' ' + sessions[i] : ''; })
      .filter(Boolean).join(' · ');
  }
  function sumOf(list) { return list.reduce(function (a, b) { return a + b; }, 0); }
  function rate(n) { return numeric(num(n)); }

  // Cells from a process's CPU onwards: its figures for the selected service (or all of them).
  function figureCells(snap, s, cpu, rss, heap) {
    var none = numeric('–');
    return [numeric(cpu === null ? '–' : cpu.toFixed(1) + ' %'), numeric(bytes(rss)), numeric(bytes(heap)),
      s ? sumOf(s.sessions) : none, byTransport(snap, s && s.sessions), s ? rate(s.in_ps) : none, s ? rate(s.out_ps) : none,
      s ? numeric(bytes(s.buffered)) : none, s && s.rooms !== null ? s.rooms : none];
  }

  function renderProcesses(snap) {
    var procs = snap.processes, fresh = procs.filter(function (p) { return !p.stale; });
    var mute = snap.asks.map(function (ok, i) { return ok ? null : snap.services[i]; }).filter(function (n) { return n !== null; });
    var note = mute.length > 0 ? 'the adapter of ' + mute.join(', ') + ' cannot ask other processes; '
      : procs.length === 1 ? 'other processes appear here when an adapter joins them; ' : '';
    note += snap.cluster.processes + (snap.cluster.processes === 1 ? ' process' : ' processes');
    if (snap.cluster.stale > 0) note += ', ' + snap.cluster.stale + ' not answering';
    $('proc-note').textContent = note;
    rows($('t-processes'), procs, function (p) {
      var id = document.createElement('span');
      id.textContent = p.id + (p.local ? ' (this one)' : '');
      id.title = p.local ? 'the process serving this page' : 'adapter ' + p.adapters.join(', ');
      var age = p.local ? '' : p.stale ? 'stale, ' + duration(Math.round(p.age_ms / 1000)) : Math.round(p.age_ms / 100) / 10 + ' s ago';
      return [id, numeric(duration(p.uptime_s))].concat(figureCells(snap, pickOf(p.services), p.cpu, p.rss, p.heap_used), [numeric(age)]);
    }, '');
    Array.prototype.forEach.call($('t-processes').tBodies[0].rows, function (tr, i) {
      tr.className = procs[i] && procs[i].stale ? 'stale' : '';
    });
    var cpus = fresh.map(function (p) { return p.cpu; }).filter(function (c) { return c !== null; });
    var foot = $('t-processes').tFoot.rows[0];
    var cells = [numeric('')].concat(figureCells(snap, pickOf(snap.cluster.services), cpus.length > 0 ? sumOf(cpus) : null,
      sumOf(fresh.map(function (p) { return p.rss; })), sumOf(fresh.map(function (p) { return p.heap_used; }))), [numeric('')]);
    cells.forEach(function (c, i) {
      var td = foot.cells[i + 1];
      td.textContent = c === null || c === undefined ? '' : String(c);
      td.className = typeof c === 'number' || (c && c.numeric) ? 'n' : '';
    });
    foot.cells[0].textContent = 'cluster: ' + snap.cluster.processes + (snap.cluster.processes === 1 ? ' process' : ' processes');
  }
`;
