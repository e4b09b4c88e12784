import type { Command } from 'commander';
import { collect, verb } from './lazy.ts';

/** Container verbs other than run/create/start/attach (see containers-run.ts). */
export function registerContainers(program: Command): void {
  const lifecycle = async () => import('../containers.ts');
  program
    .command('stop')
    .description('stop running containers (SIGTERM, then SIGKILL after the timeout)')
    .argument('<containers...>')
    .option('-t, --time <seconds>', 'seconds to wait before killing')
    .option('-s, --signal <signal>', 'signal to send first')
    .action(verb(async () => (await lifecycle()).stop));
  program
    .command('restart')
    .description('restart containers')
    .argument('<containers...>')
    .option('-t, --time <seconds>', 'seconds to wait before killing')
    .option('-s, --signal <signal>', 'signal to send first')
    .action(verb(async () => (await lifecycle()).restart));
  program
    .command('kill')
    .description('send a signal (default SIGKILL) to running containers')
    .argument('<containers...>')
    .option('-s, --signal <signal>', 'signal to send')
    .action(verb(async () => (await lifecycle()).kill));
  program
    .command('rm')
    .description('remove containers')
    .argument('<containers...>')
    .option('-f, --force', 'kill and remove running containers; missing ones are not an error')
    .option('-v, --volumes', 'remove anonymous volumes too')
    .action(verb(async () => (await lifecycle()).rm));
  program
    .command('pause')
    .description('freeze all processes of containers')
    .argument('<containers...>')
    .action(verb(async () => (await lifecycle()).pause));
  program
    .command('unpause')
    .description('thaw paused containers')
    .argument('<containers...>')
    .action(verb(async () => (await lifecycle()).unpause));
  program
    .command('wait')
    .description('block until containers stop, then print their exit codes')
    .argument('<containers...>')
    .action(verb(async () => (await lifecycle()).wait));
  program
    .command('rename')
    .description('rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(verb(async () => (await lifecycle()).rename));
  program
    .command('ps')
    .description('list containers')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-q, --quiet', 'only display container IDs')
    .option(
      '-f, --filter <key=value>',
      'filter: name, label, status, id, ancestor, exited, network, volume',
      collect,
    )
    .option('--format <template>', 'Go template, "table ...", or "json"')
    .option('--no-trunc', "don't truncate output")
    .option('-s, --size', 'display total file sizes')
    .option('-n, --last <n>', 'show the n last created containers (all states)')
    .option('-l, --latest', 'show the latest created container (all states)')
    .action(verb(async () => (await import('../containers-ps.ts')).ps));
  program
    .command('logs')
    .description("print a container's logs, stdout and stderr kept apart")
    .argument('<container>')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <lines>', 'number of lines from the end ("all" by default)')
    .option('--since <time>', 'logs since a time (RFC 3339, unix seconds) or a duration ago (10m)')
    .option('--until <time>', 'logs before a time or a duration ago')
    .option('-t, --timestamps', 'show timestamps')
    .option('--details', 'show extra details')
    .action(verb(async () => (await import('../logs.ts')).logs));
  program
    .command('exec')
    .description('run a command in a running container; exits with its exit code')
    .usage('[OPTIONS] CONTAINER COMMAND [ARG...]')
    .argument('<container>')
    .argument('<command...>')
    .option('-i, --interactive', 'keep STDIN open')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-d, --detach', 'run the command in the background')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable', collect)
    .option('--env-file <file>', 'read environment variables from a file', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', 'user to run as')
    .option('--privileged', 'give extended privileges to the command')
    .option(
      '--detach-keys <keys>',
      'key sequence that detaches, leaving the container running (default ctrl-p,ctrl-q)',
    )
    .passThroughOptions()
    .action(verb(async () => (await import('../exec.ts')).exec));
  program
    .command('inspect')
    .description('low-level JSON of containers, images, networks or volumes')
    .argument('<names...>')
    .option('-f, --format <template>', 'format each object with a Go template')
    .option('--type <type>', 'only look for this type: container, image, network or volume')
    .option('-s, --size', 'add container sizes')
    .action(verb(async () => (await import('../containers-info.ts')).inspect));
  program
    .command('top')
    .description("list a container's processes")
    .argument('<container>')
    .argument('[ps-options...]')
    .passThroughOptions()
    .allowUnknownOption()
    .action(verb(async () => (await import('../containers-info.ts')).top));
  program
    .command('port')
    .description("list a container's port mappings, or the host address of one port")
    .argument('<container>')
    .argument('[private-port]')
    .action(verb(async () => (await import('../containers-info.ts')).port));
  program
    .command('diff')
    .description("list changes to a container's filesystem (A added, C changed, D deleted)")
    .argument('<container>')
    .action(verb(async () => (await import('../containers-info.ts')).diff));
  program
    .command('stats')
    .description('live CPU, memory, network, block I/O and PIDs of containers')
    .argument('[containers...]')
    .option('-a, --all', 'all containers (default shows just running)')
    .option('--no-stream', 'print one sample and exit')
    .option('--format <template>', 'Go template, "table ...", or "json"')
    .action(verb(async () => (await import('../stats.ts')).stats));
  program
    .command('cp')
    .description(
      'copy files between a container and this machine (CONTAINER:PATH on one side; - for a tar stream)',
    )
    .argument('<src>')
    .argument('<dest>')
    .action(verb(async () => (await import('../containers-files.ts')).cp));
  program
    .command('export')
    .description("export a container's filesystem as a tar archive")
    .argument('<container>')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(verb(async () => (await import('../containers-files.ts')).exportContainer));
  program
    .command('commit')
    .description("create an image from a container's changes; prints its ID")
    .argument('<container>')
    .argument('[repository[:tag]]')
    .option('-m, --message <text>', 'commit message')
    .option('-a, --author <name>', 'author')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction (CMD, ENV, ...)', collect)
    .option('-p, --pause', 'pause the container during commit (default)', true)
    .option('--no-pause', 'do not pause the container during commit')
    .action(verb(async () => (await import('../containers-files.ts')).commit));
  program
    .command('container')
    .description('manage containers')
    .command('prune')
    .description('remove all stopped containers')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <key=value>', 'filter (until, label)', collect)
    .action(verb(async () => (await lifecycle()).prune));
}
