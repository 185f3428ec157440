import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/provider/store/sqlite-store.js';
import { checkStoreConsistency } from './support/provider-blob-check.js';

const CHILD = fileURLToPath(new URL('./support/provider-crash-child.ts', import.meta.url));

interface Child {
  readonly process: ChildProcess;
  /** Resolves when the child prints a line matching `pattern`. */
  waitFor(pattern: RegExp): Promise<string>;
  kill(): Promise<NodeJS.Signals | null>;
}

function startChild(dataDir: string, mode: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  return {
    process: child,
    waitFor(pattern) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        exited.then(() => reject(new Error(`child exited before printing ${pattern}: ${stderr}`)));
      });
    },
    async kill() {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function expectConsistentAfterRestart(dataDir: string): Promise<number> {
  // A restart soon after the crash: stale temp files are kept (they might be another process's).
  const store = await createSqliteStore({ dataDir });
  try {
    const report = await checkStoreConsistency(store, dataDir);
    expect(report.corruptBlobs).toEqual([]);
    expect(report.danglingRows).toEqual([]);
    expect(report.strayFiles).toEqual([]);
    return report.blobCount;
  } finally {
    await store.close();
  }
}

describe('a provider killed with SIGKILL', () => {
  const dirs: string[] = [];
  const children: Child[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function newDataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'provider-crash-'));
    dirs.push(dir);
    return dir;
  }

  it('in the middle of an upload leaves no partial blob and no row, and the temp file goes at restart', async () => {
    const dataDir = await newDataDir();
    const child = startChild(dataDir, 'endless-upload');
    children.push(child);
    await child.waitFor(/^streaming$/);
    expect(await child.kill()).toBe('SIGKILL');

    const temps = await readdir(join(dataDir, 'temp', 'blobs'));
    expect(temps.some((name) => name.endsWith('.tmp'))).toBe(true);
    expect(await expectConsistentAfterRestart(dataDir)).toBe(0);

    const store = await createSqliteStore({ dataDir, staleTempMs: 0 });
    try {
      expect(await readdir(join(dataDir, 'temp', 'blobs'))).toEqual([]);
      const alice = await store.users.getByUsername('alice');
      expect(await store.files.list(alice?.id ?? 0)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it.each([
    ['uploads', /^uploaded 1$/, [0, 35, 90]],
    ['zips', /^seeded$/, [20, 60, 140]],
  ])(
    'at random points of repeated %s leaves a consistent store every time',
    async (mode, milestone, delays) => {
      const dataDir = await newDataDir();
      for (const delay of delays) {
        const child = startChild(dataDir, mode);
        children.push(child);
        await child.waitFor(milestone);
        await sleep(delay);
        expect(await child.kill()).toBe('SIGKILL');
        children.splice(children.indexOf(child), 1);
        expect(await expectConsistentAfterRestart(dataDir)).toBeGreaterThan(0);
      }
      const store = await createSqliteStore({ dataDir, staleTempMs: 0 });
      try {
        const { freedBlobs } = await store.sweepOrphanBlobs({ graceMs: 0 });
        expect(freedBlobs).toBeGreaterThanOrEqual(0);
        const report = await checkStoreConsistency(store, dataDir);
        expect(report).toMatchObject({ corruptBlobs: [], danglingRows: [], strayFiles: [] });
        expect(await readdir(join(dataDir, 'temp', 'blobs'))).toEqual([]);
      } finally {
        await store.close();
      }
    },
  );
});
