// Unpacks a ustar archive of directories and regular files, chunk by chunk: the
// PGlite seed, which the build writes with node-tar (portable, no PAX). Not
// node-tar itself on this path: its streams took 1.5–2x the CPU for the seed's
// ~1000 files, and a first open is meant to take under a second. Stretches of
// zeros (most of a fresh WAL segment) are left as holes, and memory
// stays at one chunk: a whole decompressed archive (40 MB) in memory left the
// process that much larger for good (glibc keeps the freed heap).
import { closeSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';

const BLOCK = 512;
/** Stretches of data that are all zeros, this long, are skipped (left as holes). */
const HOLE = 64 * 1024;

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(header: Buffer, start: number, length: number, what: string): number {
  const text = field(header, start, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error(`bad ${what} field ${JSON.stringify(text)}`);
  const value = text === '' ? 0 : Number.parseInt(text, 8);
  if (!Number.isSafeInteger(value)) throw new Error(`bad ${what} field ${JSON.stringify(text)}`);
  return value;
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum === octal(header, 148, 8, 'checksum');
}

let zeros = Buffer.alloc(0);
function isZero(data: Buffer): boolean {
  if (zeros.length < data.length) zeros = Buffer.alloc(data.length);
  return zeros.compare(data, 0, data.length, 0, data.length) === 0;
}

interface OpenFile {
  fd: number;
  name: string;
  size: number;
  /** Bytes of the file seen so far. */
  position: number;
}

/**
 * Writes an archive's entries under `dir` (created; must not exist) as its
 * bytes arrive. Throws on a damaged header, a path that leaves `dir`, an entry
 * that is neither a regular file nor a directory, or an archive that ends early.
 */
export class TarExtractor {
  readonly #dir: string;
  #pending = Buffer.alloc(0);
  #file: OpenFile | undefined;
  /** Padding still to skip after the last file's data. */
  #skip = 0;
  #ended = false;
  #offset = 0;

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir);
  }

  write(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0 && !this.#ended) {
      if (this.#file) {
        const piece = data.subarray(0, this.#file.size - this.#file.position);
        this.#writeData(piece);
        data = data.subarray(piece.length);
      } else if (this.#skip > 0) {
        const skipped = Math.min(this.#skip, data.length);
        this.#skip -= skipped;
        this.#offset += skipped;
        data = data.subarray(skipped);
      } else {
        const wanted = BLOCK - this.#pending.length;
        this.#pending = Buffer.concat([this.#pending, data.subarray(0, wanted)]);
        data = data.subarray(wanted);
        if (this.#pending.length === BLOCK) {
          const header = this.#pending;
          this.#pending = Buffer.alloc(0);
          this.#entry(header);
        }
      }
    }
  }

  /** Checks that the archive was whole; closes any file left open. */
  end(): void {
    if (this.#file) {
      const { name } = this.#file;
      this.#closeFile();
      throw new Error(`entry ${JSON.stringify(name)} runs past the end`);
    }
    if (!this.#ended) throw new Error('archive ends without its end-of-archive blocks');
  }

  /** Closes any file left open after a failure. */
  abort(): void {
    if (this.#file) this.#closeFile();
  }

  #entry(header: Buffer): void {
    const at = this.#offset;
    this.#offset += BLOCK;
    if (isZero(header)) {
      this.#ended = true;
      return;
    }
    if (!checksumOk(header)) throw new Error(`damaged header at byte ${at}`);
    const prefix = field(header, 345, 155);
    const name = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
    const relative = normalize(name);
    if (isAbsolute(relative) || relative === '..' || relative.startsWith(`..${sep}`)) {
      throw new Error(`entry ${JSON.stringify(name)} leaves the target directory`);
    }
    const size = octal(header, 124, 12, 'size');
    const mode = octal(header, 100, 8, 'mode') & 0o777;
    const type = String.fromCharCode(header[156]);
    const path = join(this.#dir, relative);
    if (type === '5') {
      mkdirSync(path, { recursive: true, mode: mode || 0o755 });
      this.#skip = Math.ceil(size / BLOCK) * BLOCK;
    } else if (type === '0' || type === '\0') {
      this.#file = { fd: openSync(path, 'wx', mode || 0o644), name, size, position: 0 };
      if (size === 0) this.#finishFile();
    } else {
      throw new Error(`entry ${JSON.stringify(name)} has type ${JSON.stringify(type)}; only files and directories are expected`);
    }
  }

  #writeData(piece: Buffer): void {
    const file = this.#file!;
    for (let start = 0; start < piece.length; start += HOLE) {
      const part = piece.subarray(start, start + HOLE);
      if (isZero(part)) continue;
      for (let done = 0; done < part.length; ) done += writeSync(file.fd, part, done, part.length - done, file.position + start + done);
    }
    file.position += piece.length;
    this.#offset += piece.length;
    if (file.position === file.size) this.#finishFile();
  }

  #finishFile(): void {
    const file = this.#file!;
    ftruncateSync(file.fd, file.size); // the length, where the last chunks were holes
    this.#closeFile();
    this.#skip = (BLOCK - (file.size % BLOCK)) % BLOCK;
  }

  #closeFile(): void {
    closeSync(this.#file!.fd);
    this.#file = undefined;
  }
}

/** Unpacks a whole in-memory archive under `dir` (see TarExtractor). */
export function extractTar(archive: Buffer, dir: string): void {
  const extractor = new TarExtractor(dir);
  try {
    extractor.write(archive);
    extractor.end();
  } catch (error) {
    extractor.abort();
    throw error;
  }
}
