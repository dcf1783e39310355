/**
 * The error for an option name the library does not know: a likely misspelling gets its
 * correction, and sockjs-node's names get what to use here instead.
 */

const SOCKJS_NODE_HINTS: ReadonlyMap<string, string> = new Map(Object.entries({
  prefix: 'mount the router at the path instead: app.use(\'/echo\', sockjs()); sockjs-express/compat takes "prefix" as sockjs-node did',
  websocket: 'to turn websockets off use disabled_transports: [\'websocket\'] (both the SockJS and the raw endpoint); they are on by default',
  faye_server_options: 'there is no faye-websocket underneath; remove it (max_message_size limits a message)',
  transports: 'list the transports to refuse in disabled_transports instead; sockjs-express/compat takes "transports" as sockjs-node 0.4 did',
}));

/** Levenshtein distance, cut short once it exceeds `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(d);
      if (d < best) best = d;
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[b.length]!;
}

/** The known name closest to `key`, if it is close enough to be a typo (case and -/_ ignored). */
export function closestName(key: string, known: Iterable<string>): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/-/g, '_');
  const k = norm(key);
  // One edit per four characters, at least one, at most three.
  const max = Math.min(3, Math.max(1, Math.floor(k.length / 4)));
  let best: string | undefined;
  let bestD = max + 1;
  for (const name of known) {
    const d = distance(k, norm(name), max);
    if (d < bestD) {
      best = name;
      bestD = d;
    }
  }
  return best;
}

export function unknownOption(key: string, known: ReadonlySet<string>): TypeError {
  const hint = SOCKJS_NODE_HINTS.get(key);
  const guess = hint === undefined ? closestName(key, known) : undefined;
  const tail = hint !== undefined ? `: ${hint}` : guess !== undefined ? `; did you mean "${guess}"?` : '';
  return new TypeError(`sockjs-express: unknown option "${key}"${tail} (known options are ${[...known].join(', ')})`);
}
