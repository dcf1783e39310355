/**
 * Another process for the dashboard's multi-process tests: the dashboard fixture's services (chat
 * and echo), each with a Redis adapter (channels `chat` and `echo`) on the redis-server whose URL
 * is its argument. It reports its address over IPC and exits when its parent goes away.
 */
import { redisAdapter } from '../../lib/redis.js';
import { startDashboardServer } from '../dashboard/fixture.js';

const url = process.argv[2]!;
const s = await startDashboardServer(undefined, (service) => redisAdapter({ url, channel: service }));
process.on('disconnect', () => process.exit(0));
process.send!({ root: s.root });
