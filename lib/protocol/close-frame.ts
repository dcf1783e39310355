/** What a server may put in a websocket close frame (RFC 6455 §5.5, §7.4). */

/** Codes a server may send; others (reserved, or for the client only) become 1000. */
export function closeCode(code: number | undefined): number {
  if (code === undefined) return 1000;
  if (code >= 3000 && code <= 4999) return code;
  if (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) return code;
  return 1000;
}

/** A close reason must fit a control frame: 123 bytes of UTF-8. */
export function closeReason(reason: string | undefined): string {
  if (reason === undefined) return '';
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}
