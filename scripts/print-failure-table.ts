/** Writes the failure table into README.md between its markers (test/readme-failure-table.test.ts checks it). */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { failureTable } from './failure-table.js';

const target = fileURLToPath(new URL('../README.md', import.meta.url));
const readme = await readFile(target, 'utf8');
const updated = readme.replace(
  /(<!-- failure-table:begin[^>]*-->\n)[\s\S]*?(<!-- failure-table:end -->)/,
  (_all, begin: string, end: string) => `${begin}${failureTable()}\n${end}`,
);
await writeFile(target, updated);
