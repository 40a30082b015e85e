#!/usr/bin/env node
// Stands in for node-gyp when prebuildify runs it (`--node-gyp scripts/prebuild-node-gyp.js`):
// prebuildify calls `<node-gyp> rebuild --target=V --devdir=D --arch=A --release` in its --cwd
// and then takes the .node from <cwd>/build/Release. This builds the addon with cmake-js
// into exactly that folder, from the package root, so the developer's own build/ is untouched.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name) => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);

if (args[0] !== 'rebuild') {
  console.error(`prebuild-node-gyp: only "rebuild" is supported, got: ${args.join(' ')}`);
  process.exit(2);
}

const cmakeJs = join(dirname(createRequire(import.meta.url).resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const cmakeArgs = [
  cmakeJs,
  'rebuild',
  '--directory', packageRoot,
  '--out', join(process.cwd(), 'build'),
  '--runtime', 'node',
  '--config', args.includes('--debug') ? 'Debug' : 'Release',
];
const target = option('target');
if (target) cmakeArgs.push('--runtime-version', target);
const arch = option('arch');
if (arch) cmakeArgs.push('--arch', arch);
// Cross builds (prebuild.sh --arch arm64) name their compilers in a CMake toolchain file.
const toolchain = process.env.ABRCAST_CMAKE_TOOLCHAIN_FILE;
if (toolchain) cmakeArgs.push(`--CDCMAKE_TOOLCHAIN_FILE=${resolve(packageRoot, toolchain)}`);

// ABRCAST_FFMPEG_PREFIX (and PKG_CONFIG_LIBDIR for cross builds) pass through the environment to CMakeLists.txt.
const result = spawnSync(process.execPath, cmakeArgs, { stdio: 'inherit', env: process.env });
process.exit(result.status ?? 1);
