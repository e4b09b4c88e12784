import type { Command } from 'commander';
import { collect, verb } from './lazy.ts';

const images = async () => import('../images.ts');

function listCommand(cmd: Command): Command {
  return cmd
    .description('list images')
    .argument('[repository[:tag]]')
    .option('-a, --all', 'show all images (default hides intermediate images)')
    .option('-q, --quiet', 'only show image IDs')
    .option('-f, --filter <key=value>', 'filter: dangling, label, reference, before, since', collect)
    .option('--format <template>', 'Go template, "table ...", or "json"')
    .option('--no-trunc', "don't truncate output")
    .action(verb(async () => (await images()).images));
}

function rmCommand(cmd: Command): Command {
  return cmd
    .description('remove images (untag, then delete unreferenced layers)')
    .argument('<images...>')
    .option('-f, --force', 'force removal')
    .option('--no-prune', 'do not delete untagged parents')
    .action(verb(async () => (await images()).rmi));
}

function tagCommand(cmd: Command): Command {
  return cmd
    .description('create a tag TARGET that refers to SOURCE')
    .argument('<source>')
    .argument('<target>')
    .action(verb(async () => (await images()).tag));
}

function loadCommand(cmd: Command): Command {
  return cmd
    .description('load images from a tar archive (docker-archive or OCI layout)')
    .option('-i, --input <file>', 'read from a file instead of stdin')
    .option('-q, --quiet', 'suppress the load output')
    .action(verb(async () => (await images()).load));
}

function saveCommand(cmd: Command): Command {
  return cmd
    .description('save images to a tar archive')
    .argument('<images...>')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(verb(async () => (await images()).save));
}

function importCommand(cmd: Command): Command {
  return cmd
    .description('create an image from a root filesystem tarball (FILE or - for stdin)')
    .argument('<file>')
    .argument('[repository[:tag]]')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction', collect)
    .option('-m, --message <text>', 'commit message')
    .action(verb(async () => (await images()).importImage));
}

function pullCommand(cmd: Command): Command {
  return cmd
    .description('pull an image from a registry')
    .argument('<name[:tag]>')
    .option('-q, --quiet', 'suppress progress output')
    .action(verb(async () => (await images()).pull));
}

export function registerImages(program: Command): void {
  listCommand(program.command('images'));
  rmCommand(program.command('rmi'));
  tagCommand(program.command('tag'));
  loadCommand(program.command('load'));
  saveCommand(program.command('save'));
  importCommand(program.command('import'));
  pullCommand(program.command('pull'));

  const image = program.command('image').description('manage images');
  listCommand(image.command('ls').alias('list'));
  rmCommand(image.command('rm').alias('remove'));
  tagCommand(image.command('tag'));
  loadCommand(image.command('load'));
  saveCommand(image.command('save'));
  importCommand(image.command('import'));
  pullCommand(image.command('pull'));
  image
    .command('inspect')
    .description('low-level JSON of images')
    .argument('<images...>')
    .option('-f, --format <template>', 'format each image with a Go template')
    .action(
      verb(
        async () => async (ctx, args, opts) =>
          (await import('../containers-info.ts')).inspect(ctx, args, { ...opts, type: 'image' }),
      ),
    );
  image
    .command('history')
    .description("show an image's layers")
    .argument('<image>')
    .option('-q, --quiet', 'only show image IDs')
    .option('--no-trunc', "don't truncate output")
    .option('--format <template>', 'Go template, "table ...", or "json"')
    .action(verb(async () => (await images()).history));
  image
    .command('prune')
    .description('remove dangling images (with -a, all images no container uses)')
    .option('-a, --all', 'remove all unused images, not just dangling ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .option('--filter <key=value>', 'filter (until, label)', collect)
    .action(verb(async () => (await images()).prune));
}
