/**
 * Test support for fake-engine.ts: a "process" that interprets a tiny command
 * language instead of running anything, and an async channel. Only tests use
 * these.
 *
 * Commands: `echo WORDS` (a trailing `>&2` writes to stderr), `exit N`,
 * `true`, `false`, `cat` (stdin to stdout until EOF), `sleep` or `sleep N`
 * (sleep N waits N*10 ms, so tests can outlast a resize; plain sleep waits until killed), `sh -c "a; b; c"`.
 * Anything else runs until killed.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';

export class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | null = null;
  private ended = false;

  push(v: T): void {
    if (this.ended) return;
    this.items.push(v);
    this.wake();
  }
  end(): void {
    this.ended = true;
    this.wake();
  }
  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const next = this.items.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }
}

export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

/** Emits 'output' (OutputChunk) and resolves `exited` with the exit code. */
export class FakeProcess extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly exited: Promise<number>;
  private killed: ((code: number) => void) | null = null;
  private readonly tty: boolean;

  /**
   * `startDelayMs` stands in for the runtime's process start (a real `crun
   * exec` takes ~10-20 ms). Clients that read a hijacked stream from the raw
   * socket after parsing the HTTP headers through a buffered reader (docker-py)
   * lose output that arrives together with the headers; real daemons never
   * produce output that fast, so the fake must not either.
   */
  constructor(cmd: string[], tty: boolean, startDelayMs = 0) {
    super();
    this.tty = tty;
    this.exited = new Promise<number>((resolve) => {
      const killP = new Promise<number>((r) => {
        this.killed = r;
      });
      const run = () => void Promise.race([this.run(cmd), killP]).then(resolve);
      // At least the next turn, so listeners attached right after start see everything.
      if (startDelayMs > 0) setTimeout(run, startDelayMs);
      else setImmediate(run);
    });
  }

  kill(signal = 'KILL'): void {
    this.killed?.(signal === 'KILL' || signal === 'SIGKILL' ? 137 : 143);
  }

  private emitOut(stream: 'stdout' | 'stderr', text: string | Buffer): void {
    let data = Buffer.isBuffer(text) ? text : Buffer.from(text);
    if (this.tty) {
      data = Buffer.from(data.toString('utf8').replace(/\r?\n/g, '\r\n'));
      stream = 'stdout';
    }
    this.emit('output', { stream, data } satisfies OutputChunk);
  }

  private async run(cmd: string[]): Promise<number> {
    if (cmd[0] === 'sh' && cmd[1] === '-c') {
      let code = 0;
      for (const stmt of (cmd[2] ?? '').split(';')) {
        const words = stmt.trim().split(/\s+/).filter(Boolean);
        if (words.length === 0) continue;
        if (words[0] === 'exit') return Number(words[1] ?? code);
        code = await this.runOne(words);
      }
      return code;
    }
    return this.runOne(cmd);
  }

  private async runOne(words: string[]): Promise<number> {
    const [name, ...args] = words;
    switch (name) {
      case 'echo': {
        const toErr = args.at(-1) === '>&2';
        const text = (toErr ? args.slice(0, -1) : args).join(' ');
        this.emitOut(toErr ? 'stderr' : 'stdout', text + '\n');
        await new Promise((r) => setImmediate(r));
        return 0;
      }
      case 'true':
        return 0;
      case 'false':
        return 1;
      case 'cat':
        for await (const chunk of this.stdin) this.emitOut('stdout', chunk as Buffer);
        return 0;
      case 'sleep':
        if (args[0] !== undefined) {
          await new Promise((r) => setTimeout(r, Number(args[0]) * 10).unref());
          return 0;
        }
        return new Promise<number>(() => {});
      default:
        return new Promise<number>(() => {});
    }
  }
}
