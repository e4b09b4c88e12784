/**
 * Runs the kernel configuration tools (`ip`, `nft`) with a script on stdin.
 * One process per batch: an exec costs ~2 ms from Node, the kernel work far
 * less, so callers group their commands into as few batches as they can.
 */
import { spawn } from 'node:child_process';
import { UnavailableError } from '../../lib/errors.ts';

export interface ToolResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs `cmd args` with `input` on stdin; never throws for a non-zero exit. */
export function runToolRaw(cmd: string, args: string[], input?: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new UnavailableError(`running ${cmd}: ${e.message}`, { cause: e })));
    child.on('close', (code) =>
      resolve({
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        code: code ?? -1,
      }),
    );
    if (input !== undefined && child.stdin) child.stdin.end(input);
  });
}

/** Runs a tool and throws UnavailableError("<what>: <stderr>") when it fails. */
export async function runTool(what: string, cmd: string, args: string[], input?: string): Promise<string> {
  const r = await runToolRaw(cmd, args, input);
  if (r.code !== 0) throw new UnavailableError(`${what}: ${cmd} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** `ip -batch -` on the host, or inside the named netns with `netns`. */
export function ipBatch(what: string, lines: string[], netns?: string): Promise<string> {
  const args = netns ? ['-n', netns, '-batch', '-'] : ['-batch', '-'];
  return runTool(what, 'ip', args, `${lines.join('\n')}\n`);
}

/** `nft -f -` with a script: applied atomically as one transaction. */
export function nftScript(what: string, script: string): Promise<string> {
  return runTool(what, 'nft', ['-f', '-'], script);
}
