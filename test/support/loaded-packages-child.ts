// Child of loaded-packages.ts: registers the load hooks, runs the given body,
// prints every module loaded (ESM by the hooks, CJS from require.cache) as JSON.
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';

const urls = new Set<string>();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url: string) => urls.add(url));
port1.unref();
register('./module-log-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });

const src = new URL('../../src/', import.meta.url).href;
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (src: string) => Promise<void>;
await new AsyncFunction('src', process.argv[2])(src);
// The hooks run on their own thread: let their last messages arrive.
await new Promise((resolve) => setTimeout(resolve, 300));
for (const path of Object.keys(createRequire(import.meta.url).cache)) urls.add(pathToFileURL(path).href);
process.stdout.write(JSON.stringify([...urls]), () => process.exit(0));
