/**
 * sockjs-express: a SockJS 0.3.3 server as an Express Router.
 *
 *   const echo = sockjs({ ... });
 *   echo.on('connection', (conn) => conn.on('data', (msg) => conn.write(msg)));
 *   app.use('/echo', echo);
 */
import { sockjs } from './router.js';

export default sockjs;
export { sockjs };
export type { SockJSRouter, SockJSRouterEvents, BroadcastOptions, RoomTarget } from './router.js';
export { LocalAdapter } from './adapter.js';
export type { Adapter, AdapterAnswer, AdapterHost, BroadcastPacket } from './adapter.js';
export { Connection } from './connection.js';
export type { ConnectionEvents, ConnectionHeaders, RequestDetails } from './connection.js';
export { TRANSPORT_NAMES, DEFAULT_SOCKJS_URL, setJsessionid } from './options.js';
export type {
  SockJSOptions,
  ResolvedOptions,
  TransportName,
  LogSeverity,
  LogFields,
  LogFunction,
  CookieHandler,
  OriginCheck,
  VerifyFunction,
  VerifyRequest,
} from './options.js';
export type { ReadyState, CloseCause } from './session/session.js';
export type { CompressionOptions, ResolvedCompression } from './compression.js';
export type { RecoveryOptions } from './recovery/options.js';
export type { ResumeInfo } from './recovery/resume-info.js';
export type { RecoveryStore, StoreHost, StoredLink, LoggedPacket, RoomsVersion } from './recovery/store.js';
export type { UpgradeableServer } from './upgrade.js';
export { expressServer, expressServerOptions } from './express-server.js';
export type { ExpressAppLike, ExpressServerOptions } from './express-server.js';
export { Stats } from './stats.js';
export { prometheusText, metricsHandler, PROMETHEUS_CONTENT_TYPE } from './metrics.js';
export type { HasStats } from './metrics.js';
export type { StatsSnapshot, PerTransport } from './stats.js';
export { multiplex, Multiplexer, Channel, ChannelConnection } from './multiplex.js';
export type { MultiplexOptions, ConnectionLike, ConnectionSource, ChannelEvents } from './multiplex.js';
export { wsAdapter, sockjsWebSocketServer, SockJSWebSocket, SockJSWebSocketServer } from './ws-adapter.js';
export type {
  WebSocketLikeEvents,
  WebSocketServerLikeEvents,
  UpgradeRequestLike,
  WebSocketData,
  SendOptions,
  SendCallback,
} from './ws-adapter.js';
