import type { Command } from 'commander';
import { collect, verb } from './lazy.ts';

const networks = async () => import('../networks.ts');

export function registerNetworks(program: Command): void {
  const network = program.command('network').description('manage networks');
  network
    .command('create')
    .description('create a network; prints its ID')
    .argument('<name>')
    .option('-d, --driver <driver>', 'driver (bridge)', 'bridge')
    .option('--subnet <cidr>', 'subnet, e.g. 10.123.0.0/24')
    .option('--gateway <ip>', 'gateway address in the subnet')
    .option('--ip-range <cidr>', 'allocate container IPs from this range')
    .option('--internal', 'no outbound access')
    .option('--attachable', 'allow manual container attachment')
    .option('--label <key=value>', 'set a label', collect)
    .option('-o, --opt <key=value>', 'driver option', collect)
    .action(verb(async () => (await networks()).create));
  network
    .command('ls')
    .alias('list')
    .description('list networks')
    .option('-q, --quiet', 'only display network IDs')
    .option('-f, --filter <key=value>', 'filter: driver, id, label, name, type', collect)
    .option('--format <template>', 'Go template, "table ...", or "json"')
    .option('--no-trunc', "don't truncate output")
    .action(verb(async () => (await networks()).ls));
  network
    .command('rm')
    .alias('remove')
    .description('remove networks')
    .argument('<networks...>')
    .action(verb(async () => (await networks()).rm));
  network
    .command('inspect')
    .description('low-level JSON of networks')
    .argument('<networks...>')
    .option('-f, --format <template>', 'format each network with a Go template')
    .action(verb(async () => (await networks()).inspect));
  network
    .command('connect')
    .description('connect a container to a network')
    .argument('<network>')
    .argument('<container>')
    .option('--alias <name>', 'DNS alias on this network', collect)
    .option('--ip <address>', 'IPv4 address')
    .action(verb(async () => (await networks()).connect));
  network
    .command('disconnect')
    .description('disconnect a container from a network')
    .argument('<network>')
    .argument('<container>')
    .option('-f, --force', 'force the disconnection')
    .action(verb(async () => (await networks()).disconnect));
  network
    .command('prune')
    .description('remove all unused networks')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <key=value>', 'filter (until, label)', collect)
    .action(verb(async () => (await networks()).prune));
}
