// Checks a sequence of published playlist versions the way a live viewer sees
// them: each media playlist only ever appends entries (RFC 8216 6.2.1).
import assert from 'node:assert/strict';

import type { PublishedVersion } from '../../src/index.js';
import { parsePlaylist } from './parse-playlist.js';

export function assertAppendOnly(versions: readonly PublishedVersion[]): void {
  const previous = new Map<string, string[]>();
  for (const version of versions) {
    for (const [name, media] of Object.entries(version.media)) {
      const { manifest, warnings } = parsePlaylist(media.text);
      assert.deepEqual(warnings, [], `version ${version.sequence} of ${name} parses cleanly`);
      const uris = manifest.segments.map((s) => s.uri);
      const before = previous.get(name) ?? [];
      assert.ok(uris.length >= before.length, `version ${version.sequence} of ${name} removed entries`);
      assert.deepEqual(uris.slice(0, before.length), before, `version ${version.sequence} of ${name} reordered or changed entries`);
      previous.set(name, uris);
    }
  }
}
