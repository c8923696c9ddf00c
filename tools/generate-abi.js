#!/usr/bin/env node
// Writes the generated ABI files of @simpler/abi from its built layout data:
//   packages/abi/include/simpler/hdmr_abi.h and packages/abi/abi.json.
// Needs packages/abi/dist (build @simpler/abi first). `--check` only reports staleness.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const pkgDir = path.resolve(__dirname, '..', 'packages', 'abi');
let abi;
try {
  abi = require(path.join(pkgDir, 'dist', 'index.js'));
} catch (err) {
  process.stderr.write(`generate-abi: cannot load packages/abi/dist (${err.message}); build @simpler/abi first\n`);
  process.exit(1);
}

const outputs = [
  [path.join(pkgDir, 'include', 'simpler', 'hdmr_abi.h'), abi.renderCHeader()],
  [path.join(pkgDir, 'abi.json'), abi.renderAbiJson()],
];
const check = process.argv.includes('--check');
let stale = 0;
for (const [file, text] of outputs) {
  const rel = path.relative(process.cwd(), file);
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
  if (current === text) {
    process.stdout.write(`up to date: ${rel}\n`);
  } else if (check) {
    stale++;
    process.stderr.write(`stale: ${rel} (run \`npm run gen\`)\n`);
  } else {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    process.stdout.write(`wrote: ${rel}\n`);
  }
}
process.exit(stale ? 1 : 0);
