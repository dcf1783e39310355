/**
 * Every sockjs-client transport in headless Chromium, from a page served by the SockJS server
 * itself (same origin). See matrix.ts for what each transport is put through.
 */
import { runMatrix } from './matrix.js';

runMatrix('same-origin');
