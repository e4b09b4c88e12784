import { type Command, CommanderError, Option } from 'commander';
import { collect, verb } from './lazy.ts';

/** The flags run and create share (docker's names; repeatable ones collect into arrays). */
function addRunOptions(cmd: Command): Command {
  const many = (flags: string, description: string) => cmd.option(flags, description, collect);
  cmd
    .option('-i, --interactive', 'keep STDIN open and attach it')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('--rm', 'remove the container when it exits')
    .option('--name <name>', 'assign a name to the container');
  many('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable; KEY alone copies it from here)');
  many('--env-file <file>', 'read environment variables from a file');
  cmd
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'user (name or uid) to run as');
  many('-v, --volume <spec>', 'bind /host:/ctr[:ro], named volume vol:/ctr, or anonymous volume /ctr');
  many('--mount <spec>', 'type=bind|volume|tmpfs,source=...,target=...[,readonly]');
  many('-p, --publish <spec>', 'publish a port: [ip:][hostPort:]containerPort[/proto], ranges allowed');
  cmd.option('-P, --publish-all', 'publish every exposed port to a random host port');
  many('--expose <port>', 'expose a port or range without publishing it');
  cmd.option(
    '--network <name>',
    'network: bridge (default), host, none, container:<name|id> or a network name',
  );
  cmd.addOption(new Option('--net <name>', 'alias of --network').hideHelp());
  many('--network-alias <alias>', 'add a DNS alias on the network');
  cmd
    .option('--ip <address>', 'IPv4 address on the network')
    .option('--restart <policy>', 'no, always, on-failure[:max-retries] or unless-stopped')
    .option('-m, --memory <size>', 'memory limit (e.g. 512m, 1g)')
    .option('--memory-swap <size>', 'memory plus swap limit; -1 for unlimited swap')
    .option('--memory-reservation <size>', 'memory soft limit')
    .option('--cpus <number>', 'number of CPUs (e.g. 0.5)')
    .option('-c, --cpu-shares <n>', 'relative CPU weight')
    .option('--cpuset-cpus <list>', 'CPUs the container may use (0-3, 0,1)')
    .option('--pids-limit <n>', 'maximum number of processes (-1 unlimited)')
    .option('--entrypoint <cmd>', 'override the image entrypoint')
    .option('--init', 'run an init process as PID 1 that reaps zombies and forwards signals')
    .option('-h, --hostname <name>', 'container host name');
  many('-l, --label <key=value>', 'set a label');
  many('--label-file <file>', 'read labels from a file');
  cmd.option('--read-only', 'mount the root filesystem read-only');
  many('--cap-add <cap>', 'add a Linux capability');
  many('--cap-drop <cap>', 'drop a Linux capability');
  cmd.option('--privileged', 'give extended privileges to this container');
  many('--tmpfs <path[:options]>', 'mount a tmpfs');
  many('--security-opt <opt>', 'security option (no-new-privileges, seccomp=unconfined, ...)');
  many('--ulimit <name=soft[:hard]>', 'ulimit, e.g. nofile=1024:2048');
  many('--dns <ip>', 'custom DNS server');
  many('--dns-search <domain>', 'custom DNS search domain');
  many('--dns-option <opt>', 'DNS option');
  many('--add-host <host:ip>', 'add a line to /etc/hosts');
  cmd
    .option('--stop-signal <signal>', 'signal to stop the container')
    .option('--stop-timeout <seconds>', 'seconds to wait before killing on stop')
    .option('--shm-size <size>', 'size of /dev/shm');
  many('--sysctl <key=value>', 'namespaced kernel parameter');
  cmd.option('--log-driver <driver>', 'logging driver');
  many('--log-opt <key=value>', 'logging driver option');
  cmd.option('--ipc <mode>', 'IPC mode').option('--pid <mode>', 'PID namespace (host)');
  many('--group-add <group>', 'additional group');
  cmd.option(
    '--detach-keys <keys>',
    'key sequence that detaches, leaving the container running (default ctrl-p,ctrl-q)',
  );
  return cmd;
}

/** docker exits 125 for run/create flag errors, not 2. */
function exitLikeDocker(cmd: Command): Command {
  return cmd.exitOverride((err) => {
    throw err.exitCode === 0 ? err : new CommanderError(125, err.code, err.message);
  });
}

export function registerRun(program: Command): void {
  const run = program
    .command('run')
    .description('create and start a container from an image, attached unless -d')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .argument('<image>')
    .argument('[command...]')
    .helpOption('--help', 'display help for command')
    .option('-d, --detach', 'run in the background and print the container ID')
    .option('--no-sig-proxy', 'do not forward SIGINT/SIGTERM to the container (they stop the CLI)')
    .passThroughOptions();
  addRunOptions(exitLikeDocker(run)).action(
    verb(async () => (await import('../containers-run.ts')).run, 'run'),
  );

  const create = program
    .command('create')
    .description('create a container without starting it; prints its ID')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .argument('<image>')
    .argument('[command...]')
    .helpOption('--help', 'display help for command')
    .passThroughOptions();
  addRunOptions(exitLikeDocker(create)).action(
    verb(async () => (await import('../containers-run.ts')).create, 'run'),
  );

  program
    .command('start')
    .description('start one or more stopped containers')
    .argument('<containers...>')
    .option('-a, --attach', "attach STDOUT/STDERR and forward signals; exit with the container's code")
    .option('-i, --interactive', "attach the container's STDIN")
    .option(
      '--detach-keys <keys>',
      'key sequence that detaches, leaving the container running (default ctrl-p,ctrl-q)',
    )
    .action(verb(async () => (await import('../containers-run.ts')).start));

  program
    .command('attach')
    .description("attach local stdio to a running container's")
    .argument('<container>')
    .option('--no-stdin', 'do not attach STDIN')
    .option(
      '--detach-keys <keys>',
      'key sequence that detaches, leaving the container running (default ctrl-p,ctrl-q)',
    )
    .action(verb(async () => (await import('../containers-run.ts')).attach));
}
