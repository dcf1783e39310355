/**
 * The dashboard page: HTML and CSS. The script is served apart (script.ts) so that the page works
 * under a strict Content-Security-Policy (no inline script or style).
 */

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
}

export function pageHtml(title: string): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t} dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="dashboard.css">
<script src="dashboard.js" defer></script>
</head><body>
<header>
  <h1>${t} <span>dashboard</span></h1>
  <label>Service <select id="service"><option value="-1">All services</option></select></label>
  <p id="status" class="status">connecting…</p>
</header>
<main>
  <section class="tiles">
    <div class="tile"><b id="v-sessions">–</b><span>sessions</span></div>
    <div class="tile"><b id="v-in">–</b><span>messages in / s</span></div>
    <div class="tile"><b id="v-out">–</b><span>messages out / s</span></div>
    <div class="tile"><b id="v-buffered">–</b><span>buffered</span></div>
    <div class="tile"><b id="v-rooms">–</b><span>rooms</span></div>
    <div class="tile"><b id="v-cpu">–</b><span>CPU (this process)</span></div>
  </section>
  <section class="grid">
    <article><h2>Sessions by transport</h2><div class="chart" id="c-sessions"></div><ul class="legend" id="l-sessions"></ul></article>
    <article><h2>Messages per second</h2><div class="chart" id="c-messages"></div><ul class="legend" id="l-messages"></ul></article>
    <article><h2>Bytes buffered (written, not yet sent)</h2><div class="chart" id="c-buffered"></div><ul class="legend" id="l-buffered"></ul></article>
    <article><h2>Sessions opened and closed per second <small>legend: totals over the window</small></h2><div class="chart" id="c-churn"></div><ul class="legend" id="l-churn"></ul></article>
    <article><h2>Rooms <small id="rooms-note"></small></h2><table id="t-rooms"><thead><tr><th>Room</th><th>Service</th><th class="n">Members</th><th></th></tr></thead><tbody></tbody></table></article>
    <article><h2>Slowest consumers <small>most bytes waiting</small></h2><table id="t-slowest"><thead><tr><th>Session</th><th>Transport</th><th>Remote</th><th class="n">Buffered</th><th class="n">Rooms</th><th></th></tr></thead><tbody></tbody></table></article>
    <article class="wide"><h2>Processes <small id="proc-note"></small></h2><table id="t-processes"><thead><tr><th>Process</th><th class="n">Uptime</th><th class="n">CPU</th><th class="n">RSS</th><th class="n">Heap used</th><th class="n">Sessions</th><th>By transport</th><th class="n">In / s</th><th class="n">Out / s</th><th class="n">Buffered</th><th class="n">Rooms</th><th class="n">Answered</th></tr></thead><tbody></tbody>
      <tfoot><tr>${'<td></td>'.repeat(12)}</tr></tfoot></table></article>
  </section>
</main>
</body></html>
`;
}

export const PAGE_CSS = `
:root {
  --bg: #f6f7f9; --card: #ffffff; --fg: #1d2330; --muted: #6a7282; --line: #e3e6eb; --grid: #eceef2;
  --accent: #2f6fde; --bad: #c8382f; --ok: #2f9e5b;
  --s0: #3b7dd8; --s1: #e08a2e; --s2: #3e9e58; --s3: #d2484f; --s4: #44a6a0; --s5: #c9a227; --s6: #9a66b8;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15181e; --card: #1d2129; --fg: #e4e7ec; --muted: #949cab; --line: #2c323d; --grid: #262b34;
    --accent: #6ea2f5; --bad: #f0776f; --ok: #5cc484;
    --s0: #6ea2f5; --s1: #f0a35a; --s2: #65c27d; --s3: #f0776f; --s4: #6cc9c2; --s5: #e2c156; --s6: #bd8fd8;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px; padding: 14px 24px; border-bottom: 1px solid var(--line); background: var(--card); }
h1 { font-size: 18px; margin: 0; font-weight: 600; }
h1 span { color: var(--muted); font-weight: 400; }
header label { color: var(--muted); }
select { margin-left: 6px; font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 3px 6px; }
.status { margin: 0 0 0 auto; color: var(--muted); font-size: 13px; }
.status::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: var(--muted); margin-right: 6px; }
.status.live::before { background: var(--ok); }
.status.error { color: var(--bad); }
.status.error::before { background: var(--bad); }
main { padding: 16px 24px 32px; max-width: 1400px; margin: 0 auto; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-bottom: 16px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.tile b { display: block; font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile span { color: var(--muted); font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
article { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; min-width: 0; }
article.wide { grid-column: 1 / -1; }
h2 { font-size: 13px; font-weight: 600; margin: 0 0 8px; }
h2 small { color: var(--muted); font-weight: 400; margin-left: 6px; }
.chart { height: 170px; }
.chart svg { display: block; width: 100%; height: 100%; overflow: visible; }
.chart text { fill: var(--muted); font-size: 10px; font-variant-numeric: tabular-nums; }
.chart .gl { stroke: var(--grid); stroke-width: 1; }
.chart path { fill: none; stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }
.legend { list-style: none; margin: 8px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; color: var(--muted); }
.legend b { color: var(--fg); font-weight: 600; font-variant-numeric: tabular-nums; margin-left: 4px; }
.legend i { display: inline-block; width: 10px; height: 3px; border-radius: 2px; vertical-align: middle; margin-right: 5px; }
${[0, 1, 2, 3, 4, 5, 6].map((i) => `.s${i} { stroke: var(--s${i}); } i.s${i}, .bar.s${i} { background: var(--s${i}); }`).join('\n')}
table { width: 100%; border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th { text-align: left; font-weight: 500; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding: 4px 6px; }
td { padding: 4px 6px; border-bottom: 1px solid var(--grid); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 260px; }
.n { text-align: right; }
tr.stale td { color: var(--muted); font-style: italic; }
tfoot td { font-weight: 600; border-top: 1px solid var(--line); border-bottom: 0; }
td.empty { color: var(--muted); text-align: center; padding: 14px; }
td.barcell { width: 35%; }
.bar { height: 6px; border-radius: 3px; min-width: 2px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
button { font: inherit; font-size: 12px; color: var(--bad); background: transparent; border: 1px solid var(--line); border-radius: 6px; padding: 1px 8px; cursor: pointer; }
button:hover { border-color: var(--bad); }
`;
