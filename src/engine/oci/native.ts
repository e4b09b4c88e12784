/**
 * Loader for the native addon (native/oci_native.c, built by node-gyp in
 * scripts/setup.sh). It exists because Node cannot receive fds over unix
 * sockets (SCM_RIGHTS: the runtime's --console-socket hands over the pty
 * master), cannot open SOCK_SEQPACKET sockets (conmon's attach socket) and has
 * no TIOCSWINSZ. Everything else stays in TypeScript. Loaded lazily: only TTY
 * exec and attach need it.
 */
import { createRequire } from 'node:module';
import { UnavailableError } from '../../lib/errors.ts';

export interface OciNative {
  /** A listening SOCK_STREAM unix socket at `path` (close it with fs.closeSync). */
  listenUnix(path: string): number;
  /** Accepts one connection on `listenFd` and receives one fd (SCM_RIGHTS), off the event loop. */
  recvFd(listenFd: number, timeoutMs: number): Promise<number>;
  /**
   * Connects a SOCK_SEQPACKET unix socket (paths longer than sun_path are
   * handled). A native thread reads it and calls `onPacket` with each packet on
   * the event loop, then with null at end of stream, after which the fd is closed.
   */
  connectSeqpacket(path: string, onPacket: (packet: Buffer | null) => void): number;
  /** Sends one packet; returns the bytes sent. */
  sendPacket(fd: number, data: Buffer): number;
  /** shutdown(2) both ways: the reader sees end of stream. */
  shutdownFd(fd: number): void;
  /** ioctl(TIOCSWINSZ) on a terminal fd. */
  setWindowSize(fd: number, rows: number, cols: number): void;
  /** dup(2) with FD_CLOEXEC. */
  dupFd(fd: number): number;
}

let cached: OciNative | undefined;

export function loadNative(): OciNative {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require('./native/build/Release/oci_native.node') as OciNative;
  } catch (err) {
    throw new UnavailableError(
      'loading the oci native addon (needed for TTYs and attach): build it with scripts/setup.sh',
      { cause: err },
    );
  }
  return cached;
}
