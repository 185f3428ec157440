/**
 * `node dist/main.js` (what `npm start` runs): the command line's `serve`, its default command, so
 * that `npm start -- --config gateway.yaml` and `moodle-gateway serve --config gateway.yaml` are
 * one and the same.
 */
import { runCli } from './cli/run-cli.js';

process.exitCode = await runCli(process.argv.slice(2));
