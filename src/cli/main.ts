// The abrcast command line: commander wiring only. Each command lives in
// commands/ and is loaded when used, so `abrcast runs` never loads the encoder.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Argument, Command, CommanderError, Option } from 'commander';
import { CONTAINERS, ENCODER_CHOICES, X264_PRESETS } from '../encoder/options.js';
import {
  DEFAULTS,
  ENCODE_DEFAULTS,
  LOW_LATENCY_PART_SECONDS,
  RUNS_LIMIT,
  STORE_KINDS,
  channelName,
  checkRunId,
  databaseUrl,
  defaultDataDir,
  directory,
  frameSize,
  hostName,
  pemFile,
  httpUrl,
  httpUrlList,
  multiaddrList,
  numberBetween,
  parseLadderHeights,
  resolveDemoConfig,
  resolveEncodeConfig,
  resolveServerConfig,
  resolveServiceConfig,
  resolveTokenConfig,
  adminToken,
  requireSecretFromEnvironment,
  ipAddress,
  segmentSeconds,
  TOKEN_DEFAULT_TTL,
  ttlSeconds,
  type ValueParser,
} from './config.js';
import { keepWasmOnBaselineTier } from './wasm-tiering.js';
import { CliError, EXIT_CODES, EXIT_CODES_HELP, type ExitCode } from './errors.js';
import { Reporter, type GlobalFlags } from './reporter.js';

function packageVersion(): string {
  try {
    // src/cli/main.ts and dist/cli/main.js both sit two levels below the package root.
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const ENVIRONMENT_HELP = `Environment (a flag wins over its variable; an empty variable counts as unset):
  ABRCAST_PORT               --port
  ABRCAST_HOST               --host
  ABRCAST_MAX_HELD_REQUESTS  --max-held-requests
  ABRCAST_ADMIN_TOKEN        --admin-token
  ABRCAST_ADMIN_PORT         --admin-port
  ABRCAST_ADMIN_HOST         --admin-host
  ABRCAST_TLS_CERT           --tls-cert
  ABRCAST_TLS_KEY            --tls-key
  ABRCAST_DATA_DIR           --data-dir (default ${defaultDataDir()})
  ABRCAST_STORE              --store
  DATABASE_URL               --database-url
  KUBO_URL                   --kubo-url (comma-separated)
  ABRCAST_REPLICAS           --replicas
  ABRCAST_IPFS_LISTEN        --ipfs-listen (comma-separated)
  ABRCAST_IPFS_ANNOUNCE      --ipfs-announce (comma-separated)
  ABRCAST_IPFS_PEERS         --ipfs-peer (comma-separated)
  ABRCAST_KEY_SECRET         server secret of private runs (--encrypt, token, serve): at least 32 characters, the same everywhere
  ABRCAST_KEY_SECRET_PREVIOUS  the secret being replaced while a new one is rolled out (see rewrap-keys)`;

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

/**
 * Adds `option` with `parse` as its argParser, telling `parse` where the value
 * came from: the flag, or (Option.env) the variable, so a bad value is named as
 * the user wrote it. Commander emits option:<name> or optionEnv:<name> just
 * before it calls the parser; listeners added before the option run first.
 */
function addParsedOption<T>(command: Command, option: Option, parse: ValueParser<T>): Command {
  let source = option.long!;
  command.on(`option:${option.name()}`, () => {
    source = option.long!;
  });
  if (option.envVar) {
    command.on(`optionEnv:${option.name()}`, () => {
      source = option.envVar!;
    });
  }
  option.argParser((value: string, previous: T | undefined) => parse(value, source, previous));
  return command.addOption(option);
}

function addServiceOptions(command: Command): Command {
  const name = command.name();
  addParsedOption(command, new Option('--data-dir <dir>', 'where the embedded store and database live (default: ~/.abrcast)').env('ABRCAST_DATA_DIR'), directory(name));
  command.addOption(
    new Option('--store <kind>', `where segments go: embedded (Helia, under the data dir) or kubo (default: ${DEFAULTS.store})`).env('ABRCAST_STORE').choices(STORE_KINDS),
  );
  addParsedOption(
    command,
    new Option('--kubo-url <url>', `Kubo RPC address; repeat it (or separate with commas) for several peers, nearest first (default: ${DEFAULTS.kuboUrl})`).env('KUBO_URL'),
    httpUrlList(name),
  );
  addParsedOption(
    command,
    new Option('--replicas <n>', `Kubo peers that must pin a segment before it is published, 1 to the number of --kubo-url peers (default: ${DEFAULTS.replicas})`).env('ABRCAST_REPLICAS'),
    numberBetween(1, 64, name, true),
  );
  addParsedOption(
    command,
    new Option('--database-url <url>', 'PostgreSQL URL for the run registry (default: embedded PGlite under the data dir)').env('DATABASE_URL'),
    databaseUrl(name),
  );
  const multiaddrs = multiaddrList(name);
  addParsedOption(
    command,
    new Option('--ipfs-listen <multiaddr>', 'put the embedded store online: an IPFS node (bitswap) listening here, e.g. /ip4/0.0.0.0/tcp/4002; repeatable (default: offline)').env('ABRCAST_IPFS_LISTEN'),
    multiaddrs,
  );
  addParsedOption(command, new Option('--ipfs-announce <multiaddr>', 'an address the online store tells peers instead, e.g. a public IP; repeatable').env('ABRCAST_IPFS_ANNOUNCE'), multiaddrs);
  addParsedOption(
    command,
    new Option('--ipfs-peer <multiaddr>', 'a peer the online store connects to at start, e.g. a Kubo /ip4/.../tcp/4001/p2p/12D3...; repeatable').env('ABRCAST_IPFS_PEERS'),
    multiaddrs,
  );
  return command;
}

function addServerOptions(command: Command): Command {
  const name = command.name();
  addParsedOption(command, new Option('--port <port>', `HTTP port, 0 for any free one (default: ${DEFAULTS.port})`).env('ABRCAST_PORT'), numberBetween(0, 65535, name, true));
  addParsedOption(command, new Option('--host <host>', `address to listen on (default: ${DEFAULTS.host}, this machine only)`).env('ABRCAST_HOST'), hostName(name));
  addParsedOption(
    command,
    new Option('--max-held-requests <n>', 'requests held open at most (blocking LL-HLS reloads, hinted parts); past it 503 with Retry-After (default: from the open-file limit)').env(
      'ABRCAST_MAX_HELD_REQUESTS',
    ),
    numberBetween(1, 1_000_000, name, true),
  );
  addParsedOption(
    command,
    new Option('--admin-token <token>', 'the admin routes (/runs, the run list page, /metrics) require Authorization: Bearer <token>').env('ABRCAST_ADMIN_TOKEN'),
    adminToken(name),
  );
  addParsedOption(
    command,
    new Option('--admin-port <port>', 'the admin routes (/runs, the run list page, /metrics) on a listener of their own at this port (0: any free one), not beside the playlists').env('ABRCAST_ADMIN_PORT'),
    numberBetween(0, 65535, name, true),
  );
  addParsedOption(
    command,
    new Option('--admin-host <host>', `address of the admin listener (default: ${DEFAULTS.host}); needs --admin-port`).env('ABRCAST_ADMIN_HOST'),
    hostName(name),
  );
  addParsedOption(
    command,
    new Option('--tls-cert <file>', 'PEM certificate chain: serve HTTPS, with HTTP/2 for clients that offer it (LL-HLS players on Apple devices need it); needs --tls-key').env('ABRCAST_TLS_CERT'),
    pemFile(name, 'CERTIFICATE'),
  );
  return addParsedOption(command, new Option('--tls-key <file>', 'PEM private key of --tls-cert').env('ABRCAST_TLS_KEY'), pemFile(name, 'PRIVATE KEY'));
}

/** --encoder, --preset, --container, --low-latency, --window, --channel and the private-run flags, shared by demo and encode. */
function addEncoderOptions(command: Command): Command {
  const name = command.name();
  addParsedOption(
    command,
    new Option('--window <seconds>', 'sliding window: live playlists list the newest <seconds> (at least 3 segments), older segments go to hourly archive playlists; the final playlists list everything (default: the whole run; 120 with --channel)'),
    numberBetween(1, 31_536_000, name),
  );
  addParsedOption(
    command,
    new Option('--channel <name>', 'publish on a channel: a stable URL /channels/<name>/master.m3u8 that a restarted producer continues (a slug: a-z, 0-9, -)').env('ABRCAST_CHANNEL'),
    channelName(name),
  );
  addParsedOption(command, new Option('--key-rotation <segments>', 'with --encrypt: a new key every this many segments (default: one key for the run)'), numberBetween(1, 1_000_000, name, true));
  command.option('--key-url <template>', 'with --encrypt: key URI in the playlists, with {run} and {key} (default: /runs/{run}/keys/{key}); absolute when players read the playlists on a public gateway');
  return command
    .option(
      '--encrypt',
      'a private run: every segment, part and init segment AES-128 encrypted before upload, keys in the registry under ABRCAST_KEY_SECRET, playback only with a token (`abrcast token`)',
    )
    .addOption(new Option('--encoder <kind>', `video encoder (default: ${DEFAULTS.encoder})`).choices(ENCODER_CHOICES))
    .addOption(new Option('--preset <name>', `x264 preset (default: ${DEFAULTS.preset})`).choices(X264_PRESETS))
    .addOption(new Option('--container <kind>', 'segment container: ts (MPEG-TS) or fmp4 (CMAF: init segment + fragments) (default: ts)').choices(CONTAINERS))
    .option(
      '--low-latency',
      `LL-HLS: ${LOW_LATENCY_PART_SECONDS} s parts (whole frames) served with blocking reload, and the encoder without added delay (latency 'low': no B-frames or lookahead)`,
    );
}

/** Commander's own parse errors ("unknown option ...") as usage errors that point at the command's help. */
function commanderFailure(error: CommanderError, commandPath: string): CliError | undefined {
  if (error.exitCode === 0 || error.code === 'commander.help' || error.code === 'commander.helpDisplayed') return undefined;
  const message = error.message.replace(/^error:\s*/, '');
  return new CliError(message, { fix: `See \`${commandPath} --help\``, exitCode: EXIT_CODES.usage });
}

export function buildProgram(setExitCode: (code: ExitCode) => void): Command {
  const program = new Command('abrcast');
  program
    .description('Live adaptive-bitrate HLS on IPFS from frames rendered in Node.')
    .version(packageVersion(), '-V, --version')
    .option('--json', 'machine-readable output: one JSON object per line')
    .option('-q, --quiet', 'only essential output (URLs, results) and errors')
    .option('--verbose', 'more detail, and stack traces on errors')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({ outputError: () => {} })
    .addHelpText('after', `\n${EXIT_CODES_HELP}\n\n${ENVIRONMENT_HELP}\n${examples(
      'abrcast demo',
      'abrcast demo --size 640x360 --duration 10 --port 0',
      'abrcast encode input.mp4 --ladder 720,360 --serve',
      'abrcast serve',
      'abrcast runs --json',
    )}`);

  const reporterFor = (command: Command) => new Reporter(command.optsWithGlobals<GlobalFlags>());

  const demo = program
    .command('demo')
    .description('render a live animation (clock, frame number, moving shapes), encode every rendition in real time, publish and serve it');
  addParsedOption(demo, new Option('--size <WxH>', `frame size (default: ${DEFAULTS.size})`), frameSize('demo'));
  addParsedOption(demo, new Option('--fps <n>', `frames per second (default: ${DEFAULTS.fps})`), numberBetween(1, 120, 'demo'));
  addParsedOption(demo, new Option('--duration <seconds>', 'seconds of video, then finish; 0 runs until Ctrl-C (default: 0)'), numberBetween(0, 31_536_000, 'demo'));
  addParsedOption(demo, new Option('--segment <seconds>', `segment duration (default: ${DEFAULTS.segmentSeconds})`), segmentSeconds('demo'));
  addServerOptions(addServiceOptions(addEncoderOptions(demo)))
    .addHelpText('after', `
Ctrl-C finishes the run (last segments, playlists with EXT-X-ENDLIST, run marked ended)
and exits 0; a second Ctrl-C aborts with exit code 130.
${examples(
  'abrcast demo',
  'abrcast demo --size 1920x1080 --fps 30 --segment 4',
  'abrcast demo --duration 30 --port 0 --json > events.jsonl',
  'abrcast demo --low-latency --container fmp4',
  'abrcast demo --store kubo --kubo-url http://127.0.0.1:5001',
)}`)
    .action(async (_options, command: Command) => {
      // Flags are checked before the command's module (encoder, stores) is loaded: bad input fails fast.
      const config = resolveDemoConfig(command.opts());
      const { runDemo } = await import('./commands/demo.js');
      setExitCode(await runDemo(config, reporterFor(command)));
    });

  const encode = program
    .command('encode')
    .description('decode a video file or stream in-process, encode every rendition, publish and record it')
    .argument('<input>', 'file or URL to encode (anything ffmpeg reads)')
    .option('--live', 'pace the input at real time, to stream a file as live (default: as fast as possible)')
    .option('--audio <file>', "audio file or URL to use instead of the input's own audio track")
    .option('--captions <file.vtt>', "a WebVTT file whose cues (on the input's clock) become the run's subtitle rendition")
    .option('--captions-language <tag>', 'language of --captions (RFC 5646, default en)')
    .addOption(new Option('--ladder <heights>', 'rendition heights, e.g. 1080,720,360 (default: source, 720p and 360p as fit)').argParser((value: string) => parseLadderHeights(value)))
    .option('--renditions <json>', 'the whole ladder as a JSON array (inline or a file): [{"name","width","height","bitrate"}]')
    .option('--out <dir>', 'also write every segment under this directory')
    .option('--serve', 'serve the run (watch page, playlists, local gateway) while encoding and after, until Ctrl-C');
  addParsedOption(encode, new Option('--segment <seconds>', `segment duration, rounded to whole frames (default: ${ENCODE_DEFAULTS.segmentSeconds})`), segmentSeconds('encode'));
  addParsedOption(
    encode,
    new Option('--gateway <url>', 'absolute playlist URLs and printed gateway URL on this gateway (default: root-relative /ipfs/<cid>, printed on https://ipfs.io)'),
    httpUrl('encode'),
  );
  addServerOptions(addServiceOptions(addEncoderOptions(encode)))
    .addHelpText('after', `
Prints the master playlist CID, its gateway URL and, with --serve, the run's watch URL.
A progress bar shows on a terminal; --json prints one JSON object per event instead.
Ctrl-C stops reading the input and finishes the run (exit 0); a second Ctrl-C aborts (130).
${examples(
  'abrcast encode input.mp4',
  'abrcast encode input.mp4 --ladder 1080,720,360 --segment 4 --serve',
  'abrcast encode talk.mkv --live --audio music.m4a --port 0 --serve',
  'abrcast encode talk.mkv --captions talk.vtt --captions-language en --serve',
  'abrcast encode https://example.com/stream.m3u8 --ladder 720,360 --json > events.jsonl',
  'abrcast encode input.mp4 --out ./segments --store kubo',
)}`)
    .action(async (input: string, _options, command: Command) => {
      const config = resolveEncodeConfig(input, command.opts(), (path) => readFileSync(path, 'utf8'));
      const { runEncode } = await import('./commands/encode.js');
      setExitCode(await runEncode(config, reporterFor(command)));
    });

  const serve = program.command('serve').description('serve the watch page, playlists and local gateway for every run');
  addServerOptions(addServiceOptions(serve))
    .addHelpText('after', examples('abrcast serve', 'abrcast serve --port 9000 --data-dir ./abrcast-data', 'DATABASE_URL=postgres://me@db/abrcast abrcast serve --host 10.0.0.5 --admin-port 9787'))
    .action(async (_options, command: Command) => {
      const service = resolveServiceConfig(command.opts());
      const listen = resolveServerConfig(command.opts());
      const { runServe } = await import('./commands/serve.js');
      setExitCode(await runServe(service, listen, reporterFor(command)));
    });

  const token = program
    .command('token')
    .description('sign a playback token for a private run, or for every run of a channel (needs ABRCAST_KEY_SECRET, the servers\' secret)')
    .addArgument(new Argument('<kind>', 'what the token opens').choices(['run', 'channel']))
    .argument('<name>', 'the run id or the channel name');
  addParsedOption(token, new Option('--ttl <duration>', `how long it is valid: seconds, or 90s, 30m, 1h, 7d (at most 366d) (default: ${TOKEN_DEFAULT_TTL})`), ttlSeconds('token'));
  addParsedOption(token, new Option('--ip <address>', 'valid only from this client address (as the server sees it)'), ipAddress('token'));
  addParsedOption(token, new Option('--server <url>', 'also print the watch and master URLs on this server'), httpUrl('token'));
  token
    .addHelpText('after', `
The token goes in a URL as ?token=… (the server carries it into every URI it
writes), in an Authorization: Bearer header, or in the abrcast_token cookie that
the watch page sets. Anyone holding it can watch until it expires.
${examples('abrcast token run rabc234def567 --ttl 1h', 'abrcast token channel news --ttl 7d --server https://play.example.com', 'abrcast token run rabc234def567 --ttl 30m --ip 203.0.113.7 --json')}`)
    .action(async (kind: 'run' | 'channel', name: string, _options, command: Command) => {
      const config = resolveTokenConfig(kind, name, command.opts());
      const { runToken } = await import('./commands/token.js');
      setExitCode(runToken(config, reporterFor(command)));
    });

  const rewrap = program
    .command('rewrap-keys')
    .description('wrap every private run\'s keys in the registry under the current ABRCAST_KEY_SECRET (the last step of a secret rotation)');
  addServiceOptions(rewrap)
    .addHelpText('after', `
Rotating the server secret: give every server and producer the new secret as
ABRCAST_KEY_SECRET and the old one as ABRCAST_KEY_SECRET_PREVIOUS, run this once,
then drop ABRCAST_KEY_SECRET_PREVIOUS once the tokens signed with the old secret
have expired.
${examples('ABRCAST_KEY_SECRET=$NEW ABRCAST_KEY_SECRET_PREVIOUS=$OLD abrcast rewrap-keys --database-url postgres://me@db/abrcast')}`)
    .action(async (_options, command: Command) => {
      const config = resolveServiceConfig(command.opts());
      requireSecretFromEnvironment('rewrap-keys');
      const { runRewrapKeys } = await import('./commands/rewrap-keys.js');
      setExitCode(await runRewrapKeys(config, reporterFor(command)));
    });

  const runs = program.command('runs').description('list the newest runs in the registry');
  addParsedOption(runs, new Option('--limit <n>', `at most this many runs (default: ${RUNS_LIMIT.default})`), RUNS_LIMIT.parse);
  addServiceOptions(runs)
    .addHelpText('after', examples('abrcast runs', 'abrcast runs --json | jq -r \'.[] | select(.status == "live") | .id\''))
    .action(async (_options, command: Command) => {
      const config = resolveServiceConfig(command.opts());
      const limit = command.opts<{ limit?: number }>().limit ?? RUNS_LIMIT.default;
      const { runRuns } = await import('./commands/runs.js');
      setExitCode(await runRuns(config, limit, reporterFor(command)));
    });

  const finalize = program
    .command('resume')
    .alias('finalize')
    .description('complete a run whose publisher crashed or failed: upload what its journal holds, final playlists with EXT-X-ENDLIST, run marked ended')
    .argument('<id>', 'run id (see `abrcast runs`)');
  addParsedOption(finalize, new Option('--gateway <url>', "write https://gateway/ipfs/<cid> URLs instead of the run's own form"), httpUrl('resume'));
  addServiceOptions(finalize)
    .addHelpText('after', `
The run's journal (<data dir>/journal/<id>) holds every segment finished before the
crash; they are uploaded and listed in order, then the journal is removed.
${examples('abrcast resume rabc234def567', 'abrcast finalize rabc234def567 --gateway https://ipfs.io')}`)
    .action(async (id: string, _options, command: Command) => {
      const runId = checkRunId(id);
      const config = resolveServiceConfig(command.opts());
      const gateway = command.opts<{ gateway?: string }>().gateway;
      const { runFinalize } = await import('./commands/finalize.js');
      setExitCode(await runFinalize(runId, config, gateway, reporterFor(command)));
    });

  // An empty variable counts as unset, as VAR= in a shell usually means; commander
  // would take '' as the value. Its env lookup runs after this hook.
  program.hook('preSubcommand', (_program, subcommand) => {
    for (const option of subcommand.options) {
      if (option.envVar && process.env[option.envVar] === '') delete process.env[option.envVar];
    }
  });

  // Set per command (not inherited) so a parse error can name the help to read.
  program.exitOverride((error) => {
    throw commanderFailure(error, 'abrcast') ?? error;
  });
  for (const command of program.commands) {
    command.exitOverride((error) => {
      throw commanderFailure(error, `abrcast ${command.name()}`) ?? error;
    });
  }
  return program;
}

/** Runs the CLI on `argv` (process.argv form) and resolves with the exit code. */
export async function run(argv: string[] = process.argv): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT_CODES.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help, version, or help shown because no command was given (already printed).
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    const commandName = program.args[0];
    const known = program.commands.some((command) => command.name() === commandName);
    return new Reporter(program.opts<GlobalFlags>()).error(error, known ? `abrcast ${commandName}` : 'abrcast');
  }
}

/** Entry point for bin/abrcast.js: runs, then exits with the code even if a handle stays open. */
export async function main(argv: string[] = process.argv): Promise<never> {
  keepWasmOnBaselineTier(); // before PGlite compiles
  const code = await run(argv);
  process.exit(code);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) void main();
