#!/usr/bin/env node
// The L2 benchmark of issue 3. The logic lives in @simpler/region-cli (src/bench/) so that
// `simpler-region bench` and this script measure exactly the same way; build first (`npm run build`).
// Usage: node tools/bench.js [--quick] [--json] [--svg FILE]
'use strict';

let cli;
try {
  cli = require('../packages/region-cli/dist/index.js');
} catch (error) {
  process.stderr.write(`tools/bench.js: build the workspace first (npm run build): ${error.message}\n`);
  process.exit(1);
}
void cli.run([process.argv[0], 'simpler-region', 'bench', '--level', '2', ...process.argv.slice(2)]).then(({ exitCode }) => {
  process.stdout.write('', () => process.exit(exitCode));
});
