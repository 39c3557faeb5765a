#!/usr/bin/env node
// `npm run bench`: per-vCPU rseq operations against their atomic and lock-based counterparts.
// Checks that the bench's dev dependencies are installed (exit 2 with one line if not), then runs
// the command line (bench/cli.ts).
import { missingDependency, missingMessage } from './deps.js';

const missing = missingDependency();
if (missing !== undefined) {
  process.stderr.write(`${missingMessage(missing)}\n`);
  process.exit(2);
}
const { runCli } = await import('./cli.js');
runCli();
