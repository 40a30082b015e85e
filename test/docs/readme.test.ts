// The README and docs/ as a newcomer meets them. The library example under
// "## Library API" is taken from README.md at test time, type-checked and run
// as written, in a child process whose HOME is a temp dir (so its default data
// dirs are fresh), with only what a test must change rewritten: the package
// import (this checkout's sources), port 0, a small frame size and the frame
// source. The run it leaves is then served again and played: every media
// playlist ends, every segment decodes (ffprobe) at its rendition's height.
// The CLI table's flags must be flags of their commands, and every relative
// link in README.md and docs/ must name a file (and heading) that exists.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import ts from 'typescript';

import { buildProgram } from '../../src/cli/main.js';
import { openRegistry } from '../../src/registry/index.js';
import { startServer } from '../../src/server/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { probeBytes } from '../support/media.js';
import { parsePlaylist } from '../support/parse-playlist.js';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The first ```ts block after `heading`. */
function codeBlockAfter(markdown: string, heading: RegExp): string {
  const at = markdown.search(heading);
  assert.ok(at >= 0, `README.md has no heading matching ${heading}`);
  const block = /```ts\n([\s\S]*?)```/.exec(markdown.slice(at));
  assert.ok(block, `README.md has no \`\`\`ts block after ${heading}`);
  return block[1];
}

/** Replaces `pattern`, which must occur exactly once: a README that changed shape fails here, by name. */
function rewriteOnce(code: string, pattern: RegExp, replacement: string, what: string): string {
  const found = code.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`));
  assert.equal(found?.length ?? 0, 1, `the README example should contain ${what} once (${pattern}); update it or this test`);
  return code.replace(pattern, replacement);
}

// Small frames: 768x432 gives the default ladder two renditions (432p, 360p). 150 frames at 30 fps
// with the example's 4-s segments: one whole segment and a short last one per rendition.
const WIDTH = 768;
const HEIGHT = 432;
const FRAMES = 150;

function runnableExample(example: string): string {
  let code = rewriteOnce(example, /from 'abrcast';/, `from ${JSON.stringify(join(ROOT, 'src/index.js'))};`, "the import from 'abrcast'");
  code = rewriteOnce(code, /port: 8787/, 'port: 0', 'the server port');
  code = rewriteOnce(code, /sourceSize: \[1920, 1080\]/, `sourceSize: [${WIDTH}, ${HEIGHT}]`, 'the source size');
  assert.match(code, /for \(const frame of frames\)/, 'the README example should write `frames` in a for-of loop');
  const frameSource = [
    `import { FrameGenerator } from ${JSON.stringify(join(ROOT, 'test/support/frames.js'))};`,
    `const generator = new FrameGenerator(${WIDTH}, ${HEIGHT});`,
    `const frames = (function* () { for (let i = 0; i < ${FRAMES}; i += 1) yield generator.frame(i); })();`,
  ].join('\n');
  return `${frameSource}\n${code}`;
}

/** tsc's diagnostics for the example, with the project's compiler options. */
function typeErrors(file: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  assert.ok(config, 'tsconfig.json is readable');
  const options = { ...config.options, noEmit: true, rootDir: undefined, outDir: undefined, declaration: false, sourceMap: false };
  const program = ts.createProgram([file], options);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

describe("README's library example", () => {
  test('type-checks, runs as written and leaves a run that plays', { timeout: 300_000 }, async () => {
    const home = await mkdtemp(join(tmpdir(), 'abrcast-readme-'));
    try {
      const file = join(home, 'example.mts');
      await writeFile(file, runnableExample(codeBlockAfter(README, /^## Library API$/m)));
      assert.deepEqual(typeErrors(file), [], 'the README example should type-check against the sources');

      const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, USERPROFILE: home };
      delete env.DATABASE_URL;
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
      const watch = /^watch: (http:\/\/\S+\/runs\/(r[a-z2-7]{12})\/watch)$/m.exec(stdout);
      assert.ok(watch, `the example should print its watch URL; it printed: ${stdout.slice(0, 300)}`);
      const runId = watch[2];

      // Its defaults put everything under ~/.abrcast: open them again, as `abrcast serve` would.
      const data = join(home, '.abrcast');
      assert.equal(existsSync(join(data, 'journal', runId)), false, 'the journal of a complete run is removed');
      const registry = await openRegistry({ databaseUrl: '', dataDir: join(data, 'db') });
      const store = new HeliaStore({ dir: join(data, 'ipfs') });
      const server = await startServer({ store, registry, port: 0 });
      try {
        const record = await registry.getRun(runId);
        assert.equal(record?.status, 'ended');
        assert.ok(record?.masterCid, 'the run has a master playlist on IPFS');

        const masterUrl = `${server.url}/runs/${runId}/master.m3u8`;
        const master = parsePlaylist(await (await fetch(masterUrl)).text()).manifest;
        const variants = master.playlists ?? [];
        assert.deepEqual(variants.map((v) => v.attributes.RESOLUTION?.height).sort(), [360, HEIGHT]);
        for (const variant of variants) {
          const playlistUrl = new URL(variant.uri, masterUrl);
          const media = parsePlaylist(await (await fetch(playlistUrl)).text()).manifest;
          assert.equal(media.endList, true, `${variant.uri} ends`);
          assert.equal(media.segments.length, 2);
          const seconds = media.segments.reduce((sum, segment) => sum + segment.duration, 0);
          assert.ok(Math.abs(seconds - FRAMES / 30) < 1e-3, `${variant.uri} lasts ${seconds} s`);
          let decoded = 0;
          for (const segment of media.segments) {
            const response = await fetch(new URL(segment.uri, playlistUrl));
            assert.equal(response.status, 200, `${segment.uri} is served`);
            const probe = await probeBytes(new Uint8Array(await response.arrayBuffer()));
            const video = probe.streams.find((stream) => stream.codec_type === 'video');
            assert.equal(video?.codec_name, 'h264');
            assert.equal(video?.height, variant.attributes.RESOLUTION?.height);
            decoded += probe.frames.length;
          }
          assert.equal(decoded, FRAMES, `every frame of ${variant.uri} decodes`);
        }
      } finally {
        await server.close();
        await registry.close();
        await store.close();
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("README's CLI table", () => {
  test('every flag it names is a flag of its command', () => {
    const program = buildProgram(() => {});
    const help = new Map(program.commands.map((command) => [command.name(), command.helpInformation()]));
    const rows = [...README.matchAll(/^\| `abrcast ([\w-]+)[^|]*\|[^|]*\| (.*) \|$/gm)];
    // Every command of the CLI has its row.
    assert.deepEqual(rows.map((row) => row[1]).sort(), program.commands.map((command) => command.name()).sort());
    for (const [, name, flags] of rows) {
      for (const [flag] of flags.matchAll(/--[a-z][a-z-]*/g)) {
        assert.match(help.get(name)!, new RegExp(`${flag}\\b`), `abrcast ${name} has ${flag}`);
      }
    }
    // The shared-flag bullets: each flag on every command the bullet names.
    const bullets: Array<[RegExp, string[]]> = [
      [/^- \*\*Encoder flags\*\* .*$/m, ['demo', 'encode']],
      [/^- \*\*Store and registry flags\*\* .*$/m, ['demo', 'encode', 'serve', 'runs', 'resume', 'rewrap-keys']],
      [/^- \*\*Server flags\*\* .*$/m, ['demo', 'encode', 'serve']],
    ];
    for (const [pattern, commands] of bullets) {
      const line = README.match(pattern)?.[0];
      assert.ok(line, `README.md has the bullet ${pattern}`);
      for (const [flag] of line.matchAll(/--[a-z][a-z-]*/g)) {
        for (const name of commands) assert.match(help.get(name)!, new RegExp(`${flag}\\b`), `abrcast ${name} has ${flag}`);
      }
    }
  });
});

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchors(markdown: string): Set<string> {
  const inCode = markdown.replace(/```[\s\S]*?```/g, '');
  return new Set([...inCode.matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1])));
}

describe('README.md and docs/', () => {
  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

  test('every docs page starts with a line saying what it is for', () => {
    for (const page of pages.filter((p) => p.startsWith('docs/'))) {
      const lines = readFileSync(join(ROOT, page), 'utf8').split('\n').filter((line) => line.trim() !== '');
      const first = lines[0].startsWith('# ') ? lines[1] : lines[0];
      assert.ok(first && !/^(#|\||```|- |!\[|<)/.test(first), `${page} starts with a sentence, not ${JSON.stringify(first?.slice(0, 40))}`);
    }
  });

  test('every relative link names a file and heading that exist', () => {
    for (const page of pages) {
      const text = readFileSync(join(ROOT, page), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#');
        const file = path ? resolve(dirname(join(ROOT, page)), path) : join(ROOT, page);
        assert.ok(existsSync(file), `${page} links to ${target}, which does not exist`);
        if (anchor && file.endsWith('.md')) {
          assert.ok(anchors(readFileSync(file, 'utf8')).has(anchor), `${page} links to ${target}: no such heading`);
        }
      }
    }
  });
});
