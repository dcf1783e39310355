/**
 * An http.Server for an Express app whose requests and responses are created with the app's
 * prototypes (`app.request`, `app.response`) instead of being switched to them on arrival.
 *
 * Why: Express's app.handle calls Object.setPrototypeOf on every req and res. V8 then gives each
 * of those objects a hidden class of its own (properties added afterwards no longer follow a
 * shared transition), so every property access in Node's http code and the app's misses its
 * inline caches and goes through the runtime. On a 2-core VM that costs 40-70 µs of CPU per
 * request, more than Node's whole handling of it (docs/performance.md). Born with the right
 * prototype, Express's switch is a no-op and all requests share hidden classes.
 */
import http from 'node:http';

type IncomingMessageClass = typeof http.IncomingMessage;
type ServerResponseClass = typeof http.ServerResponse;

/** What an Express app (4 or 5) carries that this module needs. */
export interface ExpressAppLike extends http.RequestListener {
  readonly request: object;
  readonly response: object;
}

/** The server options that make Node create each request and response with the app's prototypes. */
export interface ExpressServerOptions {
  IncomingMessage: IncomingMessageClass;
  ServerResponse: ServerResponseClass;
}

// The born ServerResponse of each app.request prototype, so that a response made by hand for a
// request (the upgrade hook's) is born like the ones Node makes.
const responseClasses = new WeakMap<object, ServerResponseClass>();

/** The ServerResponse class to create a response for `req` with: the born one if `req` was born. */
export function responseClassFor(req: http.IncomingMessage): ServerResponseClass {
  return responseClasses.get(Object.getPrototypeOf(req) as object) ?? http.ServerResponse;
}

function extendsPrototype(candidate: unknown, proto: object): boolean {
  return typeof candidate === 'object' && candidate !== null && proto.isPrototypeOf(candidate);
}

// An ES class constructor cannot be applied to an existing object; Node's are plain functions
// (Node 18–24). Should that change, the classes are left as they are: same behaviour as before.
function callable(ctor: Function): boolean {
  return !Function.prototype.toString.call(ctor).startsWith('class');
}

function bornWith<C extends Function>(base: C, proto: object): C | null {
  if (!callable(base)) return null;
  // A plain constructor function whose `prototype` is the app's object: `new Born(...)` makes
  // objects whose prototype is `proto` from the first instruction, and whose hidden classes are
  // shared from one request to the next.
  const Born = function (this: Record<string, number>, ...args: unknown[]) {
    Reflect.apply(base, this, args);
    if (args.length < 0) {
      // Never runs. V8 sizes a constructor's objects by the `this.x =` it counts in its source;
      // with none, Node's 40-60 fields (many symbol-keyed) overflow and V8 turns each request
      // and response into a dictionary: 2 KiB more per held request and slower accesses.
      // The space not used is given back after the first few objects (slack tracking).
      this.a0 = this.a1 = this.a2 = this.a3 = this.a4 = this.a5 = this.a6 = this.a7 = this.a8 =
      this.a9 = this.b0 = this.b1 = this.b2 = this.b3 = this.b4 = this.b5 = this.b6 = this.b7 =
      this.b8 = this.b9 = this.c0 = this.c1 = this.c2 = this.c3 = this.c4 = this.c5 = this.c6 =
      this.c7 = this.c8 = this.c9 = this.d0 = this.d1 = this.d2 = this.d3 = this.d4 = this.d5 =
      this.d6 = this.d7 = this.d8 = this.d9 = this.e0 = this.e1 = this.e2 = this.e3 = this.e4 =
      this.e5 = this.e6 = this.e7 = this.e8 = this.e9 = this.f0 = this.f1 = this.f2 = this.f3 =
      this.f4 = this.f5 = this.f6 = this.f7 = this.f8 = this.f9 = this.g0 = this.g1 = this.g2 =
      this.g3 = 0;
    }
  };
  Born.prototype = proto;
  return Born as unknown as C;
}

function expressApp(app: unknown, caller: string): ExpressAppLike {
  const candidate = app as { request?: unknown; response?: unknown };
  if (
    typeof app !== 'function' ||
    !extendsPrototype(candidate.request, http.IncomingMessage.prototype) ||
    !extendsPrototype(candidate.response, http.ServerResponse.prototype)
  ) {
    throw new TypeError(
      `sockjs-express: ${caller} takes an Express application (it reads app.request and app.response); ` +
        'for any other request handler use http.createServer(handler)',
    );
  }
  return app as ExpressAppLike;
}

/**
 * `IncomingMessage` and `ServerResponse` options for `http.createServer` / `https.createServer`
 * that create every request and response with `app`'s prototypes. Classes given in `base`
 * (Node's own by default) are the constructors that run.
 */
export function expressServerOptions(app: ExpressAppLike, base: Partial<ExpressServerOptions> = {}): Partial<ExpressServerOptions> {
  return bornClasses(expressApp(app, 'expressServerOptions(app)'), base);
}

function bornClasses(app: ExpressAppLike, base: Partial<ExpressServerOptions>): Partial<ExpressServerOptions> {
  const IncomingMessage = bornWith(base.IncomingMessage ?? http.IncomingMessage, app.request);
  const ServerResponse = bornWith(base.ServerResponse ?? http.ServerResponse, app.response);
  if (IncomingMessage === null || ServerResponse === null) return { ...base };
  responseClasses.set(app.request, ServerResponse);
  return { IncomingMessage, ServerResponse };
}

/**
 * `http.createServer(options, app)` with every request and response created with `app`'s
 * prototypes (see expressServerOptions). Use it where `app.listen()` or
 * `http.createServer(app)` would be: `expressServer(app).listen(3000)`.
 */
export function expressServer(app: ExpressAppLike, options: http.ServerOptions = {}): http.Server {
  const checked = expressApp(app, 'expressServer(app)');
  return http.createServer({ ...options, ...bornClasses(checked, options as Partial<ExpressServerOptions>) }, checked);
}
