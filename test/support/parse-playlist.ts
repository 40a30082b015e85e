// Reads a playlist back with m3u8-parser, an implementation independent of ours.
import { Parser, type Manifest } from 'm3u8-parser';

export function parsePlaylist(text: string): { manifest: Manifest; warnings: string[] } {
  const parser = new Parser();
  const warnings: string[] = [];
  parser.on('warn', (event) => warnings.push(event.message));
  parser.push(text);
  parser.end();
  return { manifest: parser.manifest, warnings };
}

/** Positions (in the playlist) of the segments under EXT-X-GAP: m3u8-parser does not read the tag. */
export function gapPositions(text: string): Set<number> {
  const gaps = new Set<number>();
  let position = 0;
  let gap = false;
  for (const line of text.split('\n')) {
    if (line === '#EXT-X-GAP') gap = true;
    else if (line !== '' && !line.startsWith('#')) {
      if (gap) gaps.add(position);
      position += 1;
      gap = false;
    }
  }
  return gaps;
}
