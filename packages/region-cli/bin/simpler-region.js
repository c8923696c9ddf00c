#!/usr/bin/env node
'use strict';
// The `simpler-region` bin. npm links a bin only when its target exists at install time, and in a
// clone of the repository dist/ is built after `npm ci`; this committed file is always there, so
// `npx simpler-region` resolves in a fresh clone, and it says how to build when dist/ is missing.
const fs = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'bin.js');

function notBuilt(missing) {
  process.stderr.write(
    `simpler-region: the CLI is not built (${missing} is missing).\n` +
      'In a clone of the repository, run `npm run build` at its root, then try again.\n',
  );
  process.exit(1);
}

if (!fs.existsSync(entry)) notBuilt(entry);
try {
  require(entry);
} catch (error) {
  // A sibling package of the workspace whose dist/ is missing fails the same way.
  const message = error instanceof Error ? error.message : '';
  const unbuilt = error && error.code === 'MODULE_NOT_FOUND' && /[\\/]packages[\\/][\w.-]+[\\/]dist[\\/]/.exec(message);
  if (unbuilt) notBuilt(/'([^']+)'/.exec(message)?.[1] ?? 'a workspace package build');
  throw error;
}
