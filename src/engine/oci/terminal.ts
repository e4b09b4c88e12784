/**
 * Interactive I/O: exec with a TTY (`<runtime> exec --tty --console-socket`,
 * the pty master arrives over SCM_RIGHTS) and attaching to a container's stdio
 * through conmon's attach socket (SOCK_SEQPACKET) with resize through its ctl
 * fifo. Both need the native addon (native.ts says why).
 *
 * conmon's attach protocol: every packet conmon sends starts with one byte
 * naming the stream (2 stdout, 3 stderr; a TTY container has only stdout),
 * followed by the data; whatever the client writes goes to the container's
 * stdin (the container must have been created with `stdin: true`). The ctl
 * fifo takes lines `1 <rows> <cols>\n` (resize) and `2 0 0\n` (reopen the log).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PassThrough, type Readable, Writable } from 'node:stream';
import { ReadStream, WriteStream } from 'node:tty';
import { UnavailableError } from '../../lib/errors.ts';
import { computeCapabilities } from './capabilities.ts';
import type { ExecOptions } from './exec.ts';
import { loadNative } from './native.ts';
import type { OciProcess } from './oci-spec.ts';
import { runtimeError } from './runtime-error.ts';

/** A terminal session: one output stream (the pty), input, and resize. */
export interface TerminalHandle {
  output: Readable;
  input: Writable;
  resize(rows: number, cols: number): Promise<void>;
  /** Exit code of the exec'd process (TTY exec only). */
  exited: Promise<number>;
}

export interface AttachHandle {
  stdout: Readable;
  /** Empty for TTY containers (the pty merges both). */
  stderr: Readable;
  stdin: Writable;
  resize(rows: number, cols: number): Promise<void>;
  /** Ends the attach session (the container keeps running). */
  close(): void;
}

export interface TtyExecOptions extends Omit<ExecOptions, 'terminal'> {
  runtime: string;
  globalArgs: string[];
  id: string;
  dir: string;
  rows?: number;
  cols?: number;
}

/** Starts `args` in the container on a new pty and returns once the pty master is ours. */
export async function execTty(o: TtyExecOptions): Promise<TerminalHandle> {
  // runc accepts --console-socket only with --detach, and then the exit code is lost (podman runs
  // such execs under conmon instead); crun hands over the pty and still waits for the process.
  if (basename(o.runtime) === 'runc') {
    throw new UnavailableError(
      `exec with a terminal in container ${o.id}: supported with crun only, not runc`,
    );
  }
  const native = loadNative();
  const caps = o.capabilities ?? computeCapabilities({});
  const user = o.user ?? { uid: 0, gid: 0 };
  const env = o.env ?? [];
  const proc: OciProcess = {
    terminal: true,
    consoleSize: { height: o.rows ?? 24, width: o.cols ?? 80 },
    user: {
      uid: user.uid,
      gid: user.gid,
      ...(user.additionalGids?.length ? { additionalGids: user.additionalGids } : {}),
    },
    args: o.args,
    env: [
      ...(env.some((e) => e.startsWith('PATH='))
        ? []
        : ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']),
      ...(env.some((e) => e.startsWith('TERM=')) ? [] : ['TERM=xterm']),
      ...env,
    ],
    cwd: o.cwd || '/',
    capabilities: {
      bounding: caps,
      effective: user.uid === 0 ? caps : [],
      permitted: user.uid === 0 ? caps : [],
      inheritable: [],
      ambient: [],
    },
    noNewPrivileges: !!o.noNewPrivileges,
  };
  const tag = randomBytes(6).toString('hex');
  await mkdir(o.dir, { recursive: true });
  const processFile = join(o.dir, `exec-${tag}.json`);
  const logFile = join(o.dir, `exec-${tag}.log`);
  const socketPath = join(o.dir, `exec-${tag}.sock`);
  await writeFile(processFile, JSON.stringify(proc));
  const listenFd = native.listenUnix(socketPath);
  const received = native.recvFd(listenFd, 10000).finally(() => {
    closeSync(listenFd);
    void rm(socketPath, { force: true });
  });
  const child = spawn(
    o.runtime,
    [
      ...o.globalArgs,
      '--log-format=json',
      `--log=${logFile}`,
      'exec',
      '--tty',
      '--console-socket',
      socketPath,
      '--process',
      processFile,
      o.id,
    ],
    { stdio: 'ignore' },
  );
  const exit = new Promise<number>((resolve, reject) => {
    child.once('error', (err) =>
      reject(new UnavailableError(`exec in container ${o.id}: ${err.message}`, { cause: err })),
    );
    child.once('close', (code, signal) => resolve(code ?? (signal ? 137 : 1)));
  });
  const failure = (async () => {
    const code = await exit;
    const log = await readFile(logFile, 'utf8').catch(() => '');
    await Promise.all([rm(processFile, { force: true }), rm(logFile, { force: true })]);
    if (code !== 0 && /"level":\s*"(error|fatal)"/.test(log))
      throw runtimeError(`exec in container ${o.id}`, log);
    return code;
  })();
  // Whichever comes first: the pty, or the runtime failing before it sent one.
  const master = await Promise.race([
    received,
    failure.then(() =>
      Promise.reject(
        new UnavailableError(`exec in container ${o.id}: the runtime exited without a terminal`),
      ),
    ),
  ]);
  void received.catch(() => {});
  const output = new ReadStream(master);
  // The pty master reports EIO once the last slave fd closes: that is the end of output, not an error.
  output.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EIO') output.push(null);
  });
  const input = new WriteStream(native.dupFd(master));
  input.on('error', () => {});
  const exited = failure.finally(() => {
    // Let the reader drain what the process wrote last before closing the pty.
    setImmediate(() => input.destroy());
  });
  return {
    output,
    input,
    resize: async (rows, cols) => native.setWindowSize(master, rows, cols),
    exited,
  };
}

/**
 * Attaches to a container's stdio through conmon's attach socket (`socketPath`,
 * i.e. Runtime.attachSocketPath(id)); `ctlPath` is the ctl fifo next to it.
 * Output produced before attaching is only in the log file.
 */
export function attachSocket(socketPath: string, ctlPath: string): AttachHandle {
  const native = loadNative();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let open = true;
  const fd = native.connectSeqpacket(socketPath, (packet) => {
    if (!packet) {
      open = false;
      stdout.end();
      stderr.end();
      return;
    }
    if (packet[0] === 3) stderr.write(packet.subarray(1));
    else stdout.write(packet.subarray(1));
  });
  // conmon reads stdin from the socket in 8 KiB packets.
  const stdin = new Writable({
    write(chunk: Buffer, _enc, done) {
      try {
        for (let i = 0; i < chunk.length; i += 8192) native.sendPacket(fd, chunk.subarray(i, i + 8192));
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    final(done) {
      // Half-close: conmon then closes the container's stdin (unless it keeps it open).
      done();
    },
  });
  const close = () => {
    if (open) native.shutdownFd(fd);
    open = false;
  };
  return {
    stdout,
    stderr,
    stdin,
    resize: (rows, cols) => appendFile(ctlPath, `1 ${rows} ${cols}\n`),
    close,
  };
}
