/** Option validation: every bad value is a TypeError that names the option and what is allowed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sockjs, { DEFAULT_SOCKJS_URL } from '../../lib/index.js';

const bad: [string, unknown, RegExp][] = [
  ['response_limit', 0, /"response_limit" must be an integer from 1/],
  ['response_limit', 1.5, /"response_limit" must be an integer/],
  ['response_limit', '4096', /"response_limit" must be an integer.*got "4096"/],
  ['heartbeat_delay', -1, /"heartbeat_delay" must be an integer/],
  ['heartbeat_timeout', -1, /"heartbeat_timeout" must be an integer from 0 to 2147483647 \(got -1\)/],
  ['heartbeat_timeout', 0.5, /"heartbeat_timeout" must be an integer from 0/],
  ['heartbeat_timeout', '10000', /"heartbeat_timeout" must be an integer.*got "10000"/],
  ['disconnect_delay', Number.NaN, /"disconnect_delay" must be an integer/],
  ['cookie_needed', 'yes', /"cookie_needed" must be true, false or a function/],
  ['jsessionid', 1, /"jsessionid" must be true, false or a function/],
  ['disabled_transports', 'websocket', /"disabled_transports" must be an array of websocket, websocket-raw/],
  ['disabled_transports', ['xhr'], /"disabled_transports" must be an array of .*got "xhr"/],
  ['disable_cors', 'true', /"disable_cors" must be true or false/],
  ['log', console, /"log" must be a function/],
  ['sockjs_url', 'javascript:alert(1)', /"sockjs_url" must be an http\(s\):\/\/ or \/absolute URL/],
  ['sockjs_url', '/x" onload="y', /"sockjs_url" must be/],
  ['hixie76', 1, /"hixie76" must be true or false/],
];

for (const [name, value, message] of bad) {
  test(`options: ${name} = ${JSON.stringify(value) ?? String(value)} is a TypeError naming the option`, () => {
    assert.throws(() => sockjs({ [name]: value } as never), (err: unknown) => err instanceof TypeError && message.test(err.message));
  });
}

test('options: an unknown option is an error listing the known ones', () => {
  assert.throws(() => sockjs({ bogus: 1 } as never), /^TypeError: sockjs-express: unknown option "bogus" \(known options are sockjs_url, response_limit/);
  // Names of Object.prototype are unknown options too, not hints.
  assert.throws(() => sockjs(JSON.parse('{"constructor": 1}') as never), /unknown option "constructor" \(known options/);
});

test('options: a misspelt option name gets "did you mean" with the closest known name', () => {
  assert.throws(() => sockjs({ disabled_transport: ['websocket'] } as never), /unknown option "disabled_transport"; did you mean "disabled_transports"\?/);
  assert.throws(() => sockjs({ heartbeatDelay: 1000 } as never), /unknown option "heartbeatDelay"; did you mean "heartbeat_delay"\?/);
  assert.throws(() => sockjs({ 'max-sessions': 10 } as never), /did you mean "max_sessions"\?/);
  assert.throws(() => sockjs({ orgins: ['https://a.example'] } as never), /did you mean "origins"\?/);
  // Nothing close: no guess.
  assert.throws(() => sockjs({ timeout: 5 } as never), (err: Error) => !err.message.includes('did you mean') && /unknown option "timeout"/.test(err.message));
});

test('options: sockjs-node option names get a migration hint instead', () => {
  assert.throws(() => sockjs({ prefix: '/echo' } as never), /unknown option "prefix": mount the router at the path instead: app\.use\('\/echo', sockjs\(\)\)/);
  assert.throws(() => sockjs({ websocket: false } as never), /unknown option "websocket": to turn websockets off use disabled_transports: \['websocket'\]/);
  assert.throws(() => sockjs({ faye_server_options: {} } as never), /unknown option "faye_server_options": there is no faye-websocket underneath/);
  assert.throws(() => sockjs({ transports: ['websocket'] } as never), /unknown option "transports": list the transports to refuse in disabled_transports/);
});

test('options: cookie_needed and its alias jsessionid together are an error', () => {
  assert.throws(() => sockjs({ cookie_needed: true, jsessionid: true }), /either "cookie_needed" or its alias "jsessionid"/);
});

test('options: options must be an object', () => {
  assert.throws(() => sockjs('x' as never), /options must be an object \(got string\)/);
  assert.throws(() => sockjs([] as never), /options must be an object \(got an array\)/);
});

test('options: defaults are the documented ones and are exposed read-only on router.config', () => {
  const r = sockjs();
  assert.equal(r.config.sockjs_url, DEFAULT_SOCKJS_URL);
  assert.equal(r.config.response_limit, 128 * 1024);
  assert.equal(r.config.heartbeat_delay, 25_000);
  assert.equal(r.config.heartbeat_timeout, 10_000);
  assert.equal(sockjs({ heartbeat_timeout: 0 }).config.heartbeat_timeout, 0);
  assert.equal(r.config.disconnect_delay, 5_000);
  assert.equal(r.config.cookie_needed, null);
  assert.equal(r.config.disabled.size, 0);
  assert.equal(r.config.disable_cors, false);
  assert.equal(r.config.hixie76, false);
  assert.ok(Object.isFrozen(r.config));
});

test('options: jsessionid is accepted as an alias of cookie_needed', () => {
  assert.equal(typeof sockjs({ jsessionid: true }).config.cookie_needed, 'function');
});

test('attach: a non-server argument is a TypeError saying what to pass', () => {
  assert.throws(() => sockjs().attach({} as never), /attach\(server\) takes the http.Server or https.Server/);
});
