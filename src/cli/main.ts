import module from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { describeError } from '../lib/errors.ts';
import { logLevels } from '../lib/log-levels.ts';
import { commandGroups } from './commands/index.ts';
import { exitCodes } from './exit-codes.ts';

// Start-up time is a feature of a CLI: cache compiled modules between runs.
module.enableCompileCache?.();

async function main(argv: string[]): Promise<number> {
  const program = new Command('drover')
    .description('Drover: a Kubernetes- and Docker-compatible container cloud in one program')
    .version(process.env.npm_package_version ?? '0.1.0', '-v, --version', 'print the version and exit')
    .addOption(new Option('--log-level <level>', 'log verbosity').choices(logLevels).default('info'))
    .option(
      '-H, --host <url>',
      'engine socket (unix:///path) to talk to; default $DOCKER_HOST or /run/drover/docker.sock',
    )
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commandGroups) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      // Commander's own usage errors carry 1; commands that exit like docker (run: 125) set theirs.
      return err.exitCode === 0 ? 0 : err.exitCode === 1 ? exitCodes.usage : err.exitCode;
    }
    process.stderr.write(`drover: ${describeError(err)}\n`);
    return exitCodes.failure(err);
  }
}

process.exitCode = await main(process.argv.slice(2));
