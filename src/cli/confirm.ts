import readline from 'node:readline/promises';
import type { Context } from './docker/invoke.ts';

/** docker's prune prompt: "WARNING! <what>\nAre you sure you want to continue? [y/N] ". */
export async function confirm(ctx: Context, what: string): Promise<boolean> {
  ctx.stdout.write(`WARNING! ${what}\n`);
  const rl = readline.createInterface({ input: ctx.stdin, output: ctx.stdout, terminal: false });
  try {
    // stdin may end without an answer: that is a "no", not a hang.
    const answer = await new Promise<string>((resolve) => {
      rl.once('close', () => resolve(''));
      rl.question('Are you sure you want to continue? [y/N] ').then(resolve, () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
