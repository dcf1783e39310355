/**
 * Node-side support for the browser end-to-end tests: headless Chromium (Debian's package, driven
 * by playwright-core), the test pages, a second origin, and typed wrappers around the in-page
 * harness (harness.js).
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const HARNESS_JS = readFileSync(new URL('./harness.js', import.meta.url), 'utf8');

/** The test page: sockjs-client's bundle from the SockJS server, then the harness. */
export function pageHtml(sockjsUrl: string): string {
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><title>sockjs-express e2e</title>',
    `<script src="${sockjsUrl}"></script>`,
    '<script src="/harness.js"></script>',
    '</head><body><p>sockjs-express e2e</p></body></html>',
  ].join('\n');
}

/** The static files the same-origin page needs from the SockJS test server (startTestServer's `pages`). */
export const SAME_ORIGIN_PAGES: Readonly<Record<string, string>> = {
  '/e2e.html': pageHtml('/sockjs.js'),
  '/harness.js': HARNESS_JS,
};

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run scripts/install-chromium.sh (Debian's chromium package) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      // Without these Chromium's own background connections are refused by a closed network.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface OtherOrigin {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A second origin (same host, another port) serving the test page, which loads sockjs-client
 * from the SockJS server and connects to it across origins.
 */
export async function startOtherOrigin(sockjsServerUrl: string): Promise<OtherOrigin> {
  const html = pageHtml(sockjsServerUrl + '/sockjs.js');
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/e2e.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(html);
    } else if (path === '/harness.js') {
      res.writeHead(200, { 'Content-Type': 'application/javascript; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(HARNESS_JS);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- what the harness returns ----

export interface CloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
}
export interface OpenResult {
  key: string | null;
  opened: boolean;
  transport: string | null;
  close: CloseInfo | null;
  error: string | null;
}
export interface Mismatch {
  index: number;
  expectedLength: number;
  gotLength?: number;
  firstDifferenceAt?: number;
  expectedCodeUnits?: string;
  gotCodeUnits?: string;
  got?: string;
}
export interface EchoResult {
  received: number;
  mismatches: Mismatch[];
  strays: string[];
  timedOut: boolean;
  close: CloseInfo | null;
  error?: string;
}
export interface ServerCloseResult {
  opened: boolean;
  transport: string | null;
  messages: string[];
  close: CloseInfo | null;
  error: string | null;
}

interface Harness {
  open(url: string, transport: string, timeoutMs: number): Promise<OpenResult>;
  echo(key: string, messages: string[], timeoutMs: number): Promise<EchoResult>;
  close(key: string, timeoutMs: number): Promise<CloseInfo | null>;
  serverClose(url: string, transport: string, timeoutMs: number): Promise<ServerCloseResult>;
}

declare global {
  interface Window {
    e2e: Harness;
  }
}

/**
 * One browser context and page, with everything the page reported (console errors, page errors,
 * failed and non-2xx requests) kept for failure messages.
 */
export class TestPage {
  readonly events: string[] = [];
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') this.note(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => this.note(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => this.note(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) this.note(`response ${r.status()}: ${r.request().method()} ${r.url()}`);
    });
    page.on('websocket', (ws) => {
      ws.on('socketerror', (e) => this.note(`websocket error ${ws.url()}: ${e}`));
    });
  }

  static async open(browser: Browser, url: string): Promise<TestPage> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const tp = new TestPage(context, page);
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => typeof window.e2e === 'object' && typeof SockJS === 'function');
    return tp;
  }

  private note(s: string): void {
    if (this.events.length < 50) this.events.push(s.length > 300 ? s.slice(0, 300) + '...' : s);
  }

  /** The page's own record, for assertion messages. */
  diagnostics(): string {
    return this.events.length === 0 ? '(page reported nothing)' : this.events.join('\n');
  }

  openSocket(url: string, transport: string, timeoutMs = 10_000): Promise<OpenResult> {
    return this.page.evaluate(([u, t, ms]) => window.e2e.open(u, t, ms), [url, transport, timeoutMs] as const);
  }

  echo(key: string, messages: string[], timeoutMs = 8_000): Promise<EchoResult> {
    return this.page.evaluate(([k, m, ms]) => window.e2e.echo(k, m, ms), [key, messages, timeoutMs] as const);
  }

  closeSocket(key: string, timeoutMs = 5_000): Promise<CloseInfo | null> {
    return this.page.evaluate(([k, ms]) => window.e2e.close(k, ms), [key, timeoutMs] as const);
  }

  serverClose(url: string, transport: string, timeoutMs = 10_000): Promise<ServerCloseResult> {
    return this.page.evaluate(([u, t, ms]) => window.e2e.serverClose(u, t, ms), [url, transport, timeoutMs] as const);
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

declare const SockJS: unknown;
