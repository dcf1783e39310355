/**
 * Prometheus text exposition (format 0.0.4) of one or more services' stats, with no dependency on
 * prom-client. Names follow Prometheus conventions: `_total` counters, base units, labels for the
 * dimensions (service, transport, direction, reason).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLOSE_CAUSES, TRANSPORTS, type Stats } from './stats.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Something that has stats: a router returned by sockjs(). */
export interface HasStats {
  readonly stats: Stats;
}

type Row = [labels: string, value: number];

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The exposition text for services keyed by the `service` label (e.g. their mount paths). */
export function prometheusText(services: Readonly<Record<string, HasStats>>): string {
  const families = new Map<string, { help: string; type: 'gauge' | 'counter'; rows: Row[] }>();
  const add = (name: string, type: 'gauge' | 'counter', help: string, labels: string, value: number): void => {
    let f = families.get(name);
    if (f === undefined) {
      f = { help, type, rows: [] };
      families.set(name, f);
    }
    f.rows.push([labels, value]);
  };
  for (const [service, { stats }] of Object.entries(services)) {
    const s = 'service="' + label(service) + '"';
    for (let i = 0; i < TRANSPORTS.length; i++) {
      const t = s + ',transport="' + TRANSPORTS[i] + '"';
      add('sockjs_sessions_active', 'gauge', 'Open SockJS sessions by opening transport.', t, stats.open[i]!);
      add('sockjs_sessions_opened_total', 'counter', 'SockJS sessions opened, by opening transport.', t, stats.opened[i]!);
      for (const [dir, msgs, bytes] of [['in', stats.msgIn, stats.bytesIn], ['out', stats.msgOut, stats.bytesOut]] as const) {
        const d = t + ',direction="' + dir + '"';
        add('sockjs_messages_total', 'counter', 'SockJS messages, by direction and session transport.', d, msgs[i]!);
        add('sockjs_bytes_total', 'counter', 'Bytes of SockJS frames and payloads on the wire, by direction and session transport.', d, bytes[i]!);
      }
    }
    for (const cause of CLOSE_CAUSES) {
      add('sockjs_sessions_closed_total', 'counter', 'SockJS sessions closed, by reason.', s + ',reason="' + cause + '"', stats.closedBy[cause]);
    }
    add('sockjs_connections_active', 'gauge', 'Transport connections attached now (websockets and receiving HTTP requests).', s, stats.connections_active);
    add('sockjs_connections_total', 'counter', 'Transport connections opened.', s, stats.connectionsTotal);
    add('sockjs_buffered_bytes', 'gauge', 'Bytes written by the application and not yet sent.', s, stats.buffered_bytes);
  }
  let out = '';
  for (const [name, f] of families) {
    out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n`;
    for (const [labels, value] of f.rows) out += `${name}{${labels}} ${value}\n`;
  }
  return out;
}

/** An Express/Connect/http handler serving prometheusText() for the given services. */
export function metricsHandler(services: Readonly<Record<string, HasStats>>): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    const body = prometheusText(services);
    res.statusCode = 200;
    res.setHeader('Content-Type', PROMETHEUS_CONTENT_TYPE);
    res.setHeader('Cache-Control', 'no-store');
    res.end(body);
  };
}
