/**
 * Runs the embedded store on its own, so mongosh or Compass can inspect a Sightline data directory:
 *   npm run store -- --port 27017 --data-dir ./data
 */
import { parseArgs } from 'node:util';
import { startEmbeddedStore } from '../src/embedded/start.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '27017' },
    'data-dir': { type: 'string', default: './.sightline/store' },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a TCP port number, got ${values.port}`);
  process.exit(2);
}

const store = await startEmbeddedStore({
  dataDir: values['data-dir']!,
  port,
  logger: {
    info: (fields, message) => console.log(message, fields),
    warn: (fields, message) => console.warn(message, fields),
    error: (fields, message) => console.error(message, fields),
  },
});
console.log(`Sightline embedded store listening: ${store.url}`);
console.log(`Data directory: ${values['data-dir']}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void store.stop().then(() => process.exit(0));
  });
}
