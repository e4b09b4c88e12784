import type { Command } from 'commander';
import { collect, verb } from './lazy.ts';

const volumes = async () => import('../volumes.ts');

export function registerVolumes(program: Command): void {
  const volume = program.command('volume').description('manage volumes');
  volume
    .command('create')
    .description('create a volume; prints its name')
    .argument('[name]')
    .option('-d, --driver <driver>', 'driver (local)', 'local')
    .option('--label <key=value>', 'set a label', collect)
    .option('-o, --opt <key=value>', 'driver option (type, device, o)', collect)
    .action(verb(async () => (await volumes()).create));
  volume
    .command('ls')
    .alias('list')
    .description('list volumes')
    .option('-q, --quiet', 'only display volume names')
    .option('-f, --filter <key=value>', 'filter: dangling, driver, label, name', collect)
    .option('--format <template>', 'Go template, "table ...", or "json"')
    .action(verb(async () => (await volumes()).ls));
  volume
    .command('rm')
    .alias('remove')
    .description('remove volumes')
    .argument('<volumes...>')
    .option('-f, --force', 'force removal')
    .action(verb(async () => (await volumes()).rm));
  volume
    .command('inspect')
    .description('low-level JSON of volumes')
    .argument('<volumes...>')
    .option('-f, --format <template>', 'format each volume with a Go template')
    .action(verb(async () => (await volumes()).inspect));
  volume
    .command('prune')
    .description('remove all unused local volumes')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <key=value>', 'filter (label)', collect)
    .action(verb(async () => (await volumes()).prune));
}
