/**
 * Logging: the `log(severity, message, fields)` option, or, without it, the `debug` convention:
 * DEBUG=sockjs-express:* (or sockjs-express:info, …) prints to stderr. Every line carries the
 * request id, session id and transport it is about; nothing is logged per message.
 */
import type { IncomingMessage } from 'node:http';
import { registries } from './registry.js';
import type { LogFields, LogFunction, LogSeverity } from './options.js';

const NAMESPACE = 'sockjs-express';

function debugEnabled(severity: LogSeverity, env: string | undefined): boolean {
  if (env === undefined || env === '') return false;
  let on = false;
  for (const raw of env.split(/[\s,]+/)) {
    if (raw === '') continue;
    const negate = raw.startsWith('-');
    const pattern = negate ? raw.slice(1) : raw;
    const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
    if (re.test(NAMESPACE + ':' + severity)) on = !negate;
  }
  return on;
}

function format(fields: LogFields | undefined): string {
  if (fields === undefined) return '';
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    out += ' ' + k + '=' + (/^[\w.:/@-]*$/.test(s) ? s : JSON.stringify(s));
  }
  return out;
}

/**
 * The user's log function, made unable to throw into the session machinery: the log line is called
 * in the middle of opening and closing sessions. What it threw becomes a process warning.
 */
function safeLog(userLog: LogFunction): LogFunction {
  return (severity, message, fields) => {
    try {
      userLog(severity, message, fields);
    } catch (err) {
      process.emitWarning(`the log function threw (${String(err)}); sessions go on without that line`, { type: 'SockJSLogWarning', code: 'SOCKJS_LOG_THREW' });
    }
  };
}

/** The logger a service uses: the user's, or DEBUG-driven stderr output, or nothing. */
export function createLogger(userLog: LogFunction | null, env: string | undefined = process.env.DEBUG): LogFunction {
  if (userLog !== null) return safeLog(userLog);
  const enabled = new Set<LogSeverity>((['debug', 'info', 'warn', 'error'] as const).filter((s) => debugEnabled(s, env)));
  if (enabled.size === 0) return () => {};
  return (severity, message, fields) => {
    if (enabled.has(severity)) process.stderr.write(`${new Date().toISOString()} ${NAMESPACE}:${severity} ${message}${format(fields)}\n`);
  };
}


/** The request's id: its X-Request-Id when it is a sane token, else one made up here. */
export function requestId(req: IncomingMessage): string {
  const reg = registries;
  let id = reg.requestIds.get(req);
  if (id === undefined) {
    const given = req.headers['x-request-id'];
    id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : 'r' + (++reg.requestCount).toString(36);
    reg.requestIds.set(req, id);
  }
  return id;
}
