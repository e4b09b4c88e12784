import type { Command } from 'commander';
import { registerAgent } from './agent.ts';
import { registerContainers } from './containers.ts';
import { registerRun } from './containers-run.ts';
import { registerEngine } from './engine.ts';
import { registerImages } from './images.ts';
import { registerNetworks } from './networks.ts';
import { registerServer } from './server.ts';
import { registerSystem } from './system.ts';
import { registerUp } from './up.ts';
import { registerVolumes } from './volumes.ts';

/**
 * Every command group registers itself here. A group's module only declares
 * its commands and imports its implementation lazily inside the action, so that
 * `drover <anything>` loads just what it runs (start-up stays fast).
 */
export type CommandGroup = (program: Command) => void;

export const commandGroups: CommandGroup[] = [
  // The docker-like verbs: a Docker Engine API client (src/cli/docker/).
  registerRun,
  registerContainers,
  registerImages,
  registerNetworks,
  registerVolumes,
  registerSystem,
  // Daemons.
  registerEngine,
  registerServer,
  registerUp,
  registerAgent,
];
