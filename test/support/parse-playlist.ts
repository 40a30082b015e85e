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
