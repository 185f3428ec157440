import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findLeaks } from './find-leaks.js';

/**
 * The whole run's secret scan: every test gateway saves the responses it sent, the log lines it
 * wrote and the secrets it held; at the end, no secret may appear in any of them.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'moodle-gateway-secret-scan-'));
  project.provide('secretCaptureDir', dir);
  return async () => {
    const files = await readdir(dir);
    const leaks: string[] = [];
    let said = 0;
    for (const file of files) {
      const capture = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
        secrets: string[];
        said: string[];
      };
      said += capture.said.length;
      leaks.push(...findLeaks(capture.secrets, capture.said));
    }
    await rm(dir, { recursive: true, force: true });
    if (leaks.length > 0) throw new Error(`secrets leaked into responses or logs:\n${leaks.join('\n')}`);
    console.warn(`secret scan: ${files.length} gateways, ${said} responses and log lines, no secret found`);
  };
}
