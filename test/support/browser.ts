// Debian's Chromium driven by playwright-core, headless and offline-quiet, with
// a throwaway profile. Autoplay needs no gesture, so a muted live stream starts by itself.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.ABRCAST_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export interface BrowserHandle {
  context: BrowserContext;
  close(): Promise<void>;
}

export interface BrowserOptions {
  /**
   * base64 SHA-256 hashes of certificates' public keys (test/support/tls-certificate.ts
   * spkiSha256) that Chromium accepts although no CA it knows signed them: HTTPS to a
   * throwaway certificate, without turning every certificate check off.
   */
  trustedSpki?: string[];
}

/** A persistent context on a fresh temp profile (removed by close()). */
export async function launchBrowser(viewport = { width: 1280, height: 800 }, options: BrowserOptions = {}): Promise<BrowserHandle> {
  const profile = await mkdtemp(join(tmpdir(), 'abrcast-chromium-'));
  const args = options.trustedSpki?.length ? [...ARGS, `--ignore-certificate-errors-spki-list=${options.trustedSpki.join(',')}`] : ARGS;
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH, args, headless: true, viewport, timeout: 30_000,
    });
    return {
      context,
      async close() {
        await context.close().catch(() => undefined);
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}
