#!/usr/bin/env node
// Launcher for the compiled CLI (src/cli/main.ts -> dist/cli/main.js).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('error: abrcast is not built: run npm run build\n');
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
