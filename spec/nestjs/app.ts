/**
 * A Nest application with gateways on SockJSAdapter, for spec/nestjs/*.test.ts. Its decorators
 * are Nest's legacy ones: load it with tsImport() and tsconfig.spec.json (experimentalDecorators).
 * esbuild emits no decorator metadata, so nothing here relies on constructor injection by type.
 */
import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  Controller,
  Get,
  Injectable,
  Module,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  WsException,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  type WsResponse,
} from '@nestjs/websockets';
import { from, map, type Observable } from 'rxjs';
import type { Connection, SockJSRouter } from '../../lib/index.js';
import { SockJSAdapter } from '../../lib/nestjs.js';

/** What the gateways' lifecycle hooks saw: 'init', 'connection' and 'disconnect' events. */
export const hooks = new EventEmitter();

@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const data = context.switchToWs().getData() as { token?: unknown } | undefined;
    return data?.token === 'secret';
  }
}

@Injectable()
class UpperCasePipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string') throw new WsException('text must be a string');
    return value.toUpperCase();
  }
}

@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<WsResponse<unknown>> {
    return next.handle().pipe(map((data: unknown) => ({ event: 'wrapped', data })));
  }
}

// Gateways on one path share one service, made with the options of the first that Nest
// connects: each gateway of the path names the same ones.
const CHAT = { path: '/chat', sockjs: { disconnect_delay: 1000 } };

@WebSocketGateway(CHAT)
export class ChatGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer()
  server!: SockJSRouter;

  afterInit(server: SockJSRouter): void {
    hooks.emit('init', 'chat', server);
  }

  handleConnection(client: Connection): void {
    hooks.emit('connection', client);
  }

  handleDisconnect(client: Connection, reason?: string): void {
    hooks.emit('disconnect', client, reason);
  }

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown): WsResponse<unknown> {
    return { event: 'echo', data };
  }

  @SubscribeMessage('plain')
  plain(@MessageBody() data: unknown): unknown {
    return data;
  }

  @SubscribeMessage('later')
  async later(@MessageBody() ms: number): Promise<WsResponse<number>> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { event: 'later', data: ms };
  }

  @SubscribeMessage('count')
  count(@MessageBody() n: number): Observable<WsResponse<number>> {
    return from(Array.from({ length: n }, (_, i) => i + 1)).pipe(map((i) => ({ event: 'count', data: i })));
  }

  @SubscribeMessage('nothing')
  nothing(): void {}

  @SubscribeMessage('fail')
  fail(@MessageBody() reason: string): never {
    throw new WsException(reason);
  }

  @SubscribeMessage('failObject')
  failObject(): never {
    throw new WsException({ code: 'E42', text: 'details' });
  }

  @SubscribeMessage('crash')
  crash(): never {
    throw new Error('a bug in the handler');
  }

  @UseGuards(TokenGuard)
  @SubscribeMessage('secret')
  secret(): WsResponse<string> {
    return { event: 'secret', data: 'the secret' };
  }

  @SubscribeMessage('shout')
  shout(@MessageBody(UpperCasePipe) text: string): WsResponse<string> {
    return { event: 'shout', data: text };
  }

  @UseInterceptors(WrapInterceptor)
  @SubscribeMessage('wrap')
  wrap(@MessageBody() data: unknown): unknown {
    return data;
  }

  @SubscribeMessage('whoami')
  whoami(@ConnectedSocket() client: Connection): WsResponse<{ id: string; protocol: string }> {
    return { event: 'whoami', data: { id: client.id, protocol: client.protocol } };
  }

  @SubscribeMessage('join')
  join(@ConnectedSocket() client: Connection, @MessageBody() room: string): WsResponse<string> {
    client.join(room);
    return { event: 'joined', data: room };
  }

  @SubscribeMessage('say')
  say(@MessageBody() body: { room: string; text: string }): WsResponse<number> {
    const reached = this.server.to(body.room).send(JSON.stringify({ event: 'said', data: body.text }));
    return { event: 'sent', data: reached };
  }

  @SubscribeMessage('shoutAll')
  shoutAll(@MessageBody() text: string): void {
    this.server.broadcast(JSON.stringify({ event: 'all', data: text }));
  }
}

/** A second gateway on the same path: one service, both gateways' handlers. */
@WebSocketGateway(CHAT)
export class CounterGateway {
  @WebSocketServer()
  server!: SockJSRouter;

  @SubscribeMessage('online')
  online(): WsResponse<number> {
    return { event: 'online', data: this.server.connections.size };
  }
}

/** No path: the adapter's default. */
@WebSocketGateway()
export class DefaultGateway implements OnGatewayInit {
  afterInit(server: SockJSRouter): void {
    hooks.emit('init', 'default', server);
  }

  @SubscribeMessage('ping')
  ping(): WsResponse<string> {
    return { event: 'pong', data: 'pong' };
  }
}

@Controller()
class HelloController {
  @Get('hello')
  hello(): string {
    return 'hello from Nest';
  }
}

@Module({ controllers: [HelloController], providers: [ChatGateway, CounterGateway, DefaultGateway, TokenGuard, UpperCasePipe, WrapInterceptor] })
class AppModule {}

export interface RunningApp {
  readonly app: INestApplication;
  /** http://127.0.0.1:port */
  readonly base: string;
}

/** Files the application serves beside its gateways (a test page, sockjs-client's bundle): path → [content type, body]. */
export type Pages = Readonly<Record<string, readonly [string, string]>>;

export async function startApp(pages: Pages = {}): Promise<RunningApp> {
  const app = await NestFactory.create(AppModule, { logger: false });
  for (const [path, [type, body]] of Object.entries(pages)) {
    app.use(path, (_req: unknown, res: { setHeader(n: string, v: string): void; end(b: string): void }) => {
      res.setHeader('Content-Type', type);
      res.end(body);
    });
  }
  // Middleware in front of the gateways sees their requests, websocket handshakes included.
  app.use('/chat', (req: { headers: Record<string, unknown> }, res: { statusCode: number; end(): void }, next: () => void) => {
    if (req.headers['x-deny'] === undefined) return next();
    res.statusCode = 403;
    res.end();
  });
  app.useWebSocketAdapter(new SockJSAdapter(app, { path: '/ws', sockjs: { heartbeat_delay: 10_000, sockjs_url: '/sockjs.min.js' } }));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, base: `http://127.0.0.1:${port}` };
}

/** An application whose only gateway asks for a port of its own (`@WebSocketGateway(port, …)`). */
export async function startAppWithGatewayPort(port: number): Promise<RunningApp> {
  @WebSocketGateway(port, { path: '/side' })
  class SideGateway {
    @SubscribeMessage('where')
    where(@ConnectedSocket() client: Connection): WsResponse<string> {
      return { event: 'here', data: client.prefix };
    }
  }
  @Module({ providers: [SideGateway] })
  class SideModule {}
  const app = await NestFactory.create(SideModule, { logger: false });
  app.useWebSocketAdapter(new SockJSAdapter(app));
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as AddressInfo;
  return { app, base: `http://127.0.0.1:${address.port}` };
}
