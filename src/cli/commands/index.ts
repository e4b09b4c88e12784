import type { Command } from 'commander';

/**
 * Every command group registers itself here. A group's module only declares
 * its commands and imports its implementation lazily inside the action, so that
 * `drover <anything>` loads just what it runs (start-up stays fast).
 */
export type CommandGroup = (program: Command) => void;

export const commandGroups: CommandGroup[] = [];
