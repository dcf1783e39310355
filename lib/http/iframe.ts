/**
 * `/iframe.html` and `/iframe-<anything>.html`: the page that iframe-based transports load from
 * the server's origin to work around missing CORS. It is the same for every version suffix and
 * strongly cacheable (ETag, a year of max-age, 304 on If-None-Match).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { cacheForYear, noSniff } from './headers.js';
import { HTML, sendBody } from './respond.js';

export interface IframePage {
  readonly body: string;
  readonly etag: string;
}

// The markup is fixed by the protocol (the suite matches it line by line) except for the script URL.
export function iframePage(sockjsUrl: string): IframePage {
  const body = `<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
  <script src="${sockjsUrl}"></script>
  <script>
    document.domain = document.domain;
    SockJS.bootstrap_iframe();
  </script>
</head>
<body>
  <h2>Don't panic!</h2>
  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>
</body>
</html>`;
  return { body, etag: '"' + createHash('md5').update(body).digest('hex') + '"' };
}

export function serveIframe(req: IncomingMessage, res: ServerResponse, page: IframePage): void {
  cacheForYear(res);
  noSniff(res);
  res.setHeader('ETag', page.etag);
  const match = req.headers['if-none-match'];
  if (match !== undefined && match.split(',').some((t) => t.trim() === page.etag || t.trim() === '*')) {
    res.statusCode = 304;
    res.end();
    return;
  }
  sendBody(res, 200, HTML, page.body);
}
