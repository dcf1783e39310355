/**
 * Decoding what clients send: a JSON array of strings (xhr_send, jsonp_send, framed websocket).
 * The error messages are the ones the protocol suite expects in 500 bodies.
 */

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

export const PAYLOAD_EXPECTED = 'Payload expected.';
export const BROKEN_JSON = 'Broken JSON encoding.';
export const NOT_STRINGS = 'Payload must be a JSON array of strings.';

/**
 * Parses `["m1","m2"]` into messages. `bare`: a bare JSON string is accepted as one message
 * (sockjs-node and older clients send that over websockets; xhr_send and jsonp_send refuse it, as
 * sockjs-node does). Throws PayloadError on anything else.
 */
export function decodeMessages(text: string, bare = true): string[] {
  if (text.length === 0) throw new PayloadError(PAYLOAD_EXPECTED);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PayloadError(BROKEN_JSON);
  }
  if (typeof value === 'string' && bare) return [value];
  if (!Array.isArray(value)) throw new PayloadError(NOT_STRINGS);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'string') throw new PayloadError(NOT_STRINGS);
  }
  return value as string[];
}
