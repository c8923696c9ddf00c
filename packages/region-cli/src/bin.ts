#!/usr/bin/env node
import { main } from './program';

// Exit explicitly once output is flushed: a backend thread or child left behind by a failure must not keep the CLI alive.
void main(process.argv).then((code) => {
  process.stdout.write('', () => process.exit(code));
});
