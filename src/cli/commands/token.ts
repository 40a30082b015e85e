// `abrcast token <run|channel> <name>`: a signed playback token for a private run
// (or every run of a channel), from ABRCAST_KEY_SECRET alone: nothing is looked up
// and nothing stored, so it works on any machine with the servers' secret.
import { signPlaybackToken, type PlaybackScope } from '../../crypto/playback-token.js';
import { EXIT_CODES, type ExitCode } from '../errors.js';
import type { Reporter } from '../reporter.js';

export interface TokenConfig {
  scope: PlaybackScope;
  /** Seconds. */
  ttlSeconds: number;
  ip?: string;
  /** A server URL to print the run's watch and master URLs on. */
  server?: string;
}

export function runToken(config: TokenConfig, reporter: Reporter): ExitCode {
  const token = signPlaybackToken({ scope: config.scope, ttl: config.ttlSeconds, ...(config.ip ? { ip: config.ip } : {}) });
  const expiresAt = new Date(Number(token.split('.')[1]) * 1000);
  const base = 'run' in config.scope ? `/runs/${config.scope.run}` : `/channels/${config.scope.channel}`;
  const urls = config.server ? { watchUrl: `${config.server}${base}/watch?token=${token}`, masterUrl: `${config.server}${base}/master.m3u8?token=${token}` } : {};
  if (reporter.json) {
    reporter.event('token', { token, scope: config.scope, expiresAt: expiresAt.toISOString(), ...(config.ip ? { ip: config.ip } : {}), ...urls });
    return EXIT_CODES.ok;
  }
  reporter.essential(token);
  reporter.info(`Valid until ${expiresAt.toISOString()}${config.ip ? `, from ${config.ip} only` : ''}; add it to a URL as ?token=…`);
  if (urls.watchUrl) {
    reporter.info(`Watch: ${urls.watchUrl}`);
    reporter.info(`Master: ${urls.masterUrl}`);
  }
  return EXIT_CODES.ok;
}
