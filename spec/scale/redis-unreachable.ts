/**
 * A process whose Redis never answers (argv: port, "recovery" or "pubsub"): it closes its
 * router at the first adapter_error and must then exit by itself, every Redis client ended.
 */
import sockjs from '../../lib/index.js';
import { redisAdapter } from '../../lib/redis.js';

const [port, mode] = process.argv.slice(2);
const router = sockjs({ adapter: redisAdapter({ url: `redis://127.0.0.1:${port}` }), ...(mode === 'recovery' ? { recovery: true } : {}) });
router.once('adapter_error', (err) => {
  console.log('adapter_error', err.message);
  void router.close().then(() => console.log('closed'));
});
