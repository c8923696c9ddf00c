import { Command, Option } from 'commander';

/** Adds `--backend`, `--platform` and `--config` with the shared help text. */
export function addBackendFlags(cmd: Command, withPlatform = true): Command {
  cmd.addOption(new Option('--backend <module>', 'backend module (default: SIMPLER_REGION_BACKEND, then the config file, then @simpler/hal-sim)'));
  if (withPlatform) cmd.addOption(new Option('--platform <platform>', 'backend platform, e.g. a2a3sim or a5sim for the simulator'));
  cmd.addOption(new Option('--config <file>', 'read backend and backendOptions from this file instead of ./simpler-region.config.json'));
  return cmd;
}
