import type { Readable } from 'node:stream';

export type OutputChunk = { stream: 'stdout' | 'stderr'; data: Buffer };

/**
 * Interleaves a process's stdout and stderr into one ordered async stream,
 * ending when both have ended. Backpressure: each source is paused while the
 * consumer is behind by more than `highWater` chunks.
 */
export async function* mergeOutputs(
  sources: { stream: 'stdout' | 'stderr'; from: Readable }[],
  highWater = 64,
): AsyncGenerator<OutputChunk> {
  const queue: OutputChunk[] = [];
  let open = sources.length;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  for (const { stream, from } of sources) {
    from.on('data', (data: Buffer) => {
      queue.push({ stream, data });
      if (queue.length > highWater) from.pause();
      notify();
    });
    const done = () => {
      open--;
      notify();
    };
    from.once('end', done);
    // A broken output pipe is not the caller's error: the exit code carries the outcome.
    from.once('error', done);
  }
  try {
    while (open > 0 || queue.length > 0) {
      const chunk = queue.shift();
      if (chunk) {
        if (queue.length <= highWater / 2) for (const s of sources) if (s.from.isPaused()) s.from.resume();
        yield chunk;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    for (const s of sources) s.from.destroy();
  }
}
