import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { failureTable } from '../scripts/failure-table.js';
import { SITE_FAILURE_CODES } from '../src/moodle/failures.js';

describe("the README's failure table", () => {
  it('is the one printed from the mapping the client uses', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const block = /<!-- failure-table:begin[^>]*-->\n([\s\S]*?)\n<!-- failure-table:end -->/.exec(readme);
    expect(block?.[1]).toBe(failureTable());
  });

  it('names every failure code', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const code of SITE_FAILURE_CODES) expect(readme).toContain(`\`${code}\``);
  });
});
