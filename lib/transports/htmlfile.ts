/**
 * htmlfile: a never-ending HTML page of <script> tags, loaded into a hidden iframe (the streaming
 * transport of old IE). Each frame calls the parent page's callback.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Service } from '../service.js';
import { HTML } from '../http/respond.js';
import { encodeFrame, envelope } from '../protocol/encoded.js';
import type { SharedFrame } from '../protocol/shared-frame.js';
import { ResponseReceiver } from './receiver.js';
import { callbackReceiver } from './callback.js';

// '<' is escaped so that a message containing "</script>" cannot end the script element.
const HTML_FRAME = envelope(
  3,
  (frame) => '<script>\np(' + JSON.stringify(frame).replace(/</g, '\\u003c') + ');\n</script>\r\n',
);

class HtmlFileReceiver extends ResponseReceiver {
  protected encode(frame: string, shared: SharedFrame | null | undefined): Buffer {
    return encodeFrame(HTML_FRAME, frame, shared);
  }
}

function prelude(callback: string): string {
  const head = `<!doctype html>
<html><head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
</head><body><h2>Don't panic!</h2>
  <script>
    document.domain = document.domain;
    var c = parent.${callback};
    c.start();
    function p(d) {c.message(d);};
    window.onload = function() {c.stop();};
  </script>`;
  // IE renders nothing of a streamed page before 1 KiB has arrived: pad past it.
  return head + ' '.repeat(Math.max(0, 1024 - head.length) + 14) + '\r\n\r\n';
}

export function htmlFile(svc: Service, req: IncomingMessage, res: ServerResponse, sessionId: string): void {
  callbackReceiver(svc, req, res, sessionId, 'htmlfile', HTML, (session, callback) => {
    res.writeHead(200);
    res.write(prelude(callback));
    session.attach(new HtmlFileReceiver(session, res, svc.options.response_limit));
  });
}
