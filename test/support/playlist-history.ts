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

/**
 * Checks versions of sliding-window media playlists as a live viewer sees them
 * (RFC 8216 6.2.2): segments leave only from the front and are added only at the
 * end; a segment keeps its Media Sequence Number, URI, duration and discontinuity
 * sequence number in every version that lists it.
 */
export function assertSlidingOnly(texts: readonly string[], name = 'playlist'): void {
  let before: { first: number; last: number; byMsn: Map<number, string> } | undefined;
  texts.forEach((text, version) => {
    const { manifest, warnings } = parsePlaylist(text);
    assert.deepEqual(warnings, [], `version ${version} of ${name} parses cleanly`);
    const first = manifest.mediaSequence ?? 0;
    const byMsn = new Map<number, string>();
    manifest.segments.forEach((segment, position) => {
      byMsn.set(first + position, `${segment.uri} ${segment.duration} cc=${segment.timeline ?? 0}`);
    });
    const last = first + manifest.segments.length - 1;
    if (before) {
      assert.ok(first >= before.first, `version ${version} of ${name}: media sequence went back from ${before.first} to ${first}`);
      assert.ok(last >= before.last, `version ${version} of ${name}: the last segment went back from ${before.last} to ${last}`);
      for (let msn = first; msn <= Math.min(last, before.last); msn += 1) {
        assert.equal(byMsn.get(msn), before.byMsn.get(msn), `version ${version} of ${name}: segment ${msn} changed`);
      }
    }
    before = { first, last, byMsn };
  });
}
