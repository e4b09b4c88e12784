/**
 * Runs `nft`: a script on stdin is one transaction (`nft -f -`), so the
 * kernel applies all of it or, on any error, none of it.
 */
import { spawn } from 'node:child_process';
import { InvalidError, UnavailableError } from '../lib/errors.ts';

/** Applies one nft script atomically; rejects with the nft diagnostics. */
export type NftRunner = (script: string) => Promise<void>;

export interface NftOptions {
  /** Run inside this network namespace (`ip netns exec`), for tests and benchmarks. */
  netns?: string;
  /** Default `nft`. */
  binary?: string;
}

function run(
  args: string[],
  stdin: string,
  o: NftOptions,
): Promise<{ code: number; stderr: string; stdout: string }> {
  const bin = o.binary ?? 'nft';
  const [cmd, argv] = o.netns ? ['ip', ['netns', 'exec', o.netns, bin, ...args]] : [bin, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.once('error', (err) =>
      reject(new UnavailableError(`running ${bin}: ${err.message}`, { cause: err })),
    );
    child.once('close', (code) => resolve({ code: code ?? -1, stderr, stdout }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

/** The default runner: `nft -f -`. */
export function nftRunner(o: NftOptions = {}): NftRunner {
  return async (script) => {
    const r = await run(['-f', '-'], script, o);
    if (r.code !== 0) throw new InvalidError(`applying nftables rules: ${firstLines(r.stderr, 6)}`);
  };
}

/** Deletes `ip <table>` if it exists. */
export async function deleteTable(table: string, o: NftOptions = {}): Promise<void> {
  // "add" first makes the delete succeed whether or not the table exists, in one transaction.
  const r = await run(['-f', '-'], `add table ip ${table}\ndelete table ip ${table}\n`, o);
  if (r.code !== 0) throw new InvalidError(`deleting nftables table ${table}: ${firstLines(r.stderr, 3)}`);
}

/** Whether `ip <table>` exists. */
export async function tableExists(table: string, o: NftOptions = {}): Promise<boolean> {
  const r = await run(['list', 'tables', 'ip'], '', o);
  return r.stdout.split('\n').some((l) => l.trim() === `table ip ${table}`);
}

/** Lists `ip <table>` (empty when it does not exist), for tests. */
export async function listTable(table: string, o: NftOptions = {}): Promise<string> {
  const r = await run(['list', 'table', 'ip', table], '', o);
  return r.code === 0 ? r.stdout : '';
}

function firstLines(s: string, n: number): string {
  return s.trim().split('\n').slice(0, n).join('\n');
}
