import { MOODLE_FAILURE_MAPPING } from '../src/moodle/parse-moodle-response.js';

/** The README's failure table, printed from the mapping the client uses. */
export function failureTable(): string {
  const rows = MOODLE_FAILURE_MAPPING.map(
    ({ situation, code }) => `| ${situation.replaceAll('|', '\\|')} | \`${code}\` |`,
  );
  return ['| what the site answered | `SiteFailure.code` |', '|---|---|', ...rows].join('\n');
}
