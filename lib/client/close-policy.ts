/** Which closes end the companion client for good, and the close code it gives sockjs-client. */

/** By default: an application close code (3000–4999) other than 3100 ("Send buffer full"), which a reconnect may cure. */
export function defaultFinal(code: number): boolean {
  return code >= 3000 && code <= 4999 && code !== 3100;
}

/** The code the client closes its SockJS session with: browsers only let an application send 1000 or 3000–4999. */
export function sockCloseCode(code: number): number {
  return code >= 3000 && code <= 4999 ? code : 1000;
}
