#!/usr/bin/env node
import { hideSecretArgs } from './hide-secret-args.js';

const args = process.argv.slice(2);
// A token given on the command line leaves the process title (`ps`, /proc/<pid>/cmdline) before
// anything else loads; `--token-env` and `--token -` never put it there.
const shown = hideSecretArgs(args);
if (shown.hidden) process.title = ['moodle-gateway', ...shown.args].join(' ');

const { runCli } = await import('./run-cli.js');
process.exitCode = await runCli(args);
