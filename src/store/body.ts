/**
 * Body helpers shared by the stores: chunk accumulation, range slicing without copies, digests.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ByteRange } from './types.js';

/** Bodies at or below this size are kept (and returned) as one contiguous Buffer. */
export const CONTIGUOUS_LIMIT = 1024 * 1024;

/** Size of the values a large body is split into on disk. */
export const CHUNK_SIZE = 256 * 1024;

export function newDigest(): Hash {
  return createHash('sha256');
}

export function digestOf(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

/** Slice a contiguous body to an inclusive byte range (a view, no copy). */
export function sliceRange(body: Buffer, range?: ByteRange): Buffer {
  if (!range) return body;
  return body.subarray(range.start, range.end + 1);
}

/** Clamp a requested range to a body of `size` bytes; undefined when it selects nothing. */
export function clampRange(range: ByteRange | undefined, size: number): ByteRange | undefined {
  if (!range) return { start: 0, end: size - 1 };
  const start = Math.max(0, range.start);
  const end = Math.min(size - 1, range.end);
  return start <= end ? { start, end } : undefined;
}

/** Yield views of `chunks` (equal-size except the last) covering the inclusive range. No copies. */
export function* chunkViews(chunks: readonly Buffer[], chunkSize: number, range: ByteRange): Generator<Buffer> {
  let index = Math.floor(range.start / chunkSize);
  let offset = range.start - index * chunkSize;
  let left = range.end - range.start + 1;
  while (left > 0 && index < chunks.length) {
    const chunk = chunks[index]!;
    const view = chunk.subarray(offset, Math.min(chunk.length, offset + left));
    left -= view.length;
    offset = 0;
    index++;
    if (view.length > 0) yield view;
  }
}

/** A Readable over in-memory chunk views (objects above CONTIGUOUS_LIMIT). */
export function readableFromChunks(chunks: readonly Buffer[], chunkSize: number, range: ByteRange): Readable {
  return Readable.from(chunkViews(chunks, chunkSize, range), { objectMode: false });
}

/**
 * Collects written bytes into fixed-size chunks. `push` returns the chunks that became full.
 * The final partial chunk comes out of `finish`.
 */
export class ChunkAccumulator {
  private current: Buffer;
  private used = 0;

  constructor(private readonly chunkSize: number) {
    this.current = Buffer.allocUnsafe(chunkSize);
  }

  push(data: Buffer): Buffer[] {
    const full: Buffer[] = [];
    let pos = 0;
    while (pos < data.length) {
      const n = Math.min(this.chunkSize - this.used, data.length - pos);
      data.copy(this.current, this.used, pos, pos + n);
      this.used += n;
      pos += n;
      if (this.used === this.chunkSize) {
        full.push(this.current);
        this.current = Buffer.allocUnsafe(this.chunkSize);
        this.used = 0;
      }
    }
    return full;
  }

  finish(): Buffer | undefined {
    if (this.used === 0) return undefined;
    const last = this.current.subarray(0, this.used);
    this.used = 0;
    return last;
  }
}
