#!/usr/bin/env node
import { run } from './program';

void run(process.argv).then(({ exitCode, detached }) => {
  process.exitCode = exitCode;
  // A chip child lives on its own stdin; everything else exits explicitly once output is flushed,
  // so a backend thread or child left behind by a failure cannot keep the CLI alive.
  if (!detached) process.stdout.write('', () => process.exit(exitCode));
});
