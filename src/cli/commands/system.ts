import type { Command } from 'commander';
import { collect, verb } from './lazy.ts';

const system = async () => import('../system.ts');

export function registerSystem(program: Command): void {
  program
    .command('info')
    .description('display engine-wide information')
    .option('-f, --format <template>', 'format the output with a Go template')
    .action(verb(async () => (await system()).info));
  program
    .command('version')
    .description('show the client and engine versions')
    .option('-f, --format <template>', 'format the output with a Go template')
    .action(verb(async () => (await system()).version));
  program
    .command('events')
    .description('stream engine events (containers, images, networks, volumes)')
    .option('--since <time>', 'events since a time or a duration ago')
    .option('--until <time>', 'stop at a time or a duration ago')
    .option(
      '-f, --filter <key=value>',
      'filter: type, event, container, image, label, network, volume',
      collect,
    )
    .option('--format <template>', 'Go template or "json"')
    .action(verb(async () => (await system()).events));
  const sys = program.command('system').description('manage the engine');
  sys
    .command('df')
    .description('show disk usage')
    .option('--format <template>', 'Go template, "table ...", or "json"')
    .action(verb(async () => (await system()).df));
  sys
    .command('prune')
    .description('remove stopped containers, unused networks, dangling images (and more with -a, --volumes)')
    .option('-a, --all', 'remove all unused images, not just dangling ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--volumes', 'prune volumes too')
    .action(verb(async () => (await system()).prune));
  sys
    .command('info')
    .description('display engine-wide information')
    .option('-f, --format <template>', 'format the output with a Go template')
    .action(verb(async () => (await system()).info));
  sys
    .command('events')
    .description('stream engine events')
    .option('--since <time>', 'events since a time or a duration ago')
    .option('--until <time>', 'stop at a time or a duration ago')
    .option('-f, --filter <key=value>', 'filter', collect)
    .option('--format <template>', 'Go template or "json"')
    .action(verb(async () => (await system()).events));
}
