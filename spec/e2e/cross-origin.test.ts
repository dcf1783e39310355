/**
 * Every sockjs-client transport in headless Chromium, from a page on another origin (same host,
 * another port) that loads sockjs-client from the SockJS server and connects to it with CORS or
 * through the iframe transports. See matrix.ts for what each transport is put through.
 */
import { runMatrix } from './matrix.js';

runMatrix('cross-origin');
