import { open, readdir, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

/**
 * The framing shared by the write-ahead log and snapshots: `[u32 length][u32 crc32][payload]`, little
 * endian. A frame whose length runs past the end of the file or whose checksum does not match marks
 * the end of the valid data (a torn write at the tail).
 */
export const FRAME_HEADER = 8;
/** Frames larger than this are treated as corrupt rather than allocated. */
const MAX_FRAME = 64 * 1024 * 1024;

export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  out.set(payload, FRAME_HEADER);
  return out;
}

export interface FrameScan {
  /** Byte offset just past the last valid frame. */
  validBytes: number;
  /** File size; larger than `validBytes` when the tail is torn or corrupt. */
  fileBytes: number;
}

/** Reads frames in order, calling `onFrame` with each payload, and reports where valid data ends. */
export async function readFrames(path: string, onFrame: (payload: Buffer) => void | Promise<void>): Promise<FrameScan> {
  const fh: FileHandle = await open(path, 'r');
  try {
    const fileBytes = (await fh.stat()).size;
    const chunkSize = 16 * 1024 * 1024;
    let buffer = Buffer.alloc(0);
    let bufferStart = 0; // file offset of buffer[0]
    let readPos = 0;
    let offset = 0; // file offset of the next frame
    for (;;) {
      const local = offset - bufferStart;
      if (buffer.length - local >= FRAME_HEADER) {
        const length = buffer.readUInt32LE(local);
        if (length > MAX_FRAME) return { validBytes: offset, fileBytes };
        if (buffer.length - local >= FRAME_HEADER + length) {
          const payload = buffer.subarray(local + FRAME_HEADER, local + FRAME_HEADER + length);
          if (crc32(payload) !== buffer.readUInt32LE(local + 4)) return { validBytes: offset, fileBytes };
          await onFrame(payload);
          offset += FRAME_HEADER + length;
          continue;
        }
      }
      if (readPos >= fileBytes) return { validBytes: offset, fileBytes };
      // Keep the unread tail and append the next chunk.
      const tail = buffer.subarray(local);
      const chunk = Buffer.allocUnsafe(Math.min(chunkSize, fileBytes - readPos));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, readPos);
      readPos += bytesRead;
      buffer = Buffer.concat([tail, chunk.subarray(0, bytesRead)]);
      bufferStart = offset;
      if (bytesRead === 0) return { validBytes: offset, fileBytes };
    }
  } finally {
    await fh.close();
  }
}

/** fsyncs a directory so that a file created or renamed in it survives a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Numbers of the files named `<16 digits><suffix>` in a directory, ascending (log segments, snapshots). */
export async function numberedFiles(dir: string, suffix: string): Promise<number[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => n.length === 16 + suffix.length && n.endsWith(suffix) && /^\d{16}$/.test(n.slice(0, 16)))
    .map((n) => Number(n.slice(0, 16)))
    .sort((a, b) => a - b);
}
