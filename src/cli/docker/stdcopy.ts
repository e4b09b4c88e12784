/**
 * Docker's stream multiplexing ("stdcopy"), used by attach, exec and logs when
 * the container has no TTY: an 8-byte header (stream byte, three zero bytes,
 * big-endian uint32 length) then the payload. Frames need not align with lines
 * or with the chunks a socket delivers, so the demuxer buffers across chunks.
 */
export type StreamId = 0 | 1 | 2 | 3;

export interface Frame {
  /** 0 stdin, 1 stdout, 2 stderr, 3 systemerr (a daemon-side error). */
  stream: StreamId;
  data: Buffer;
}

export function encodeFrame(stream: StreamId, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** Splits a multiplexed byte stream into frames. */
export async function* demux(source: AsyncIterable<Buffer>): AsyncGenerator<Frame> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const stream = (pending[0] ?? 1) as StreamId;
      yield { stream, data: pending.subarray(8, 8 + size) };
      pending = pending.subarray(8 + size);
    }
  }
}

export interface Sinks {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

async function write(sink: NodeJS.WritableStream, data: Buffer): Promise<void> {
  if (!sink.write(data)) await new Promise<void>((resolve) => sink.once('drain', resolve));
}

/**
 * Copies a container's output to local stdout/stderr: demultiplexed unless
 * `tty` (then one raw stream to stdout). Resolves when the source ends.
 * A systemerr frame (stream 3) is the daemon reporting an error: returned as text.
 */
export async function copyOutput(
  source: AsyncIterable<Buffer>,
  tty: boolean,
  sinks: Sinks,
): Promise<string | undefined> {
  if (tty) {
    for await (const chunk of source) await write(sinks.stdout, chunk);
    return undefined;
  }
  let systemErr: string | undefined;
  for await (const frame of demux(source)) {
    if (frame.stream === 3) systemErr = (systemErr ?? '') + frame.data.toString('utf8');
    else await write(frame.stream === 2 ? sinks.stderr : sinks.stdout, frame.data);
  }
  return systemErr;
}
