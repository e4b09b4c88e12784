import type { Command } from 'commander';
import type { ErrorStyle, Verb } from '../docker/invoke.ts';

/**
 * Wraps a verb's loader as a commander action. Nothing of the implementation
 * (nor node:http) is imported until the command actually runs, which keeps
 * `drover --help` and every other command's start-up fast.
 */
export function verb(load: () => Promise<Verb>, style: ErrorStyle = 'plain') {
  return async (...actionArgs: unknown[]): Promise<void> => {
    const cmd = actionArgs[actionArgs.length - 1] as Command;
    const { invoke } = await import('../docker/invoke.ts');
    process.exitCode = await invoke(cmd, load, style);
  };
}

/** Collects a repeatable option (`-e A -e B`) into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
