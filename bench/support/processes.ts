/*
 * Child processes for the benchmarks: whatever is measured for memory (the gateway, the provider)
 * runs in a process of its own, so that its RSS is its own and not the load generator's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The last few KB of what it wrote on stderr, for error messages. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: Record<string, string>;
  /** Extra `node` flags (`--cpu-prof`, `--max-old-space-size=…`). */
  readonly nodeFlags?: readonly string[];
  /** What becomes of its stdout: read it (`pipe`), or drop it (`ignore`, as /dev/null). @default 'pipe' */
  readonly stdout?: 'pipe' | 'ignore';
}

let compiledRoot: string | null = null;

/** Every child still running, so that a run stopped by its time limit leaves none behind. */
const running = new Set<ChildProcess>();

/** Kills (SIGKILL) every child still running; for a run that must stop now. */
export function killAllChildren(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** From now on, `spawnTs` runs the compiled JavaScript under `root` (see build.ts) instead of tsx. */
export function useCompiled(root: string): void {
  compiledRoot = root;
}

/**
 * Runs a TypeScript file of the repository (`bench/upstreams.ts`) in a new Node process: its compiled
 * JavaScript when `useCompiled` was called, else through tsx; from the repository root either way.
 */
export function spawnTs(file: string, args: readonly string[] = [], options: SpawnOptions = {}): Child {
  const { env = {}, nodeFlags = [], stdout = 'pipe' } = options;
  const entry =
    compiledRoot === null ? ['--import', 'tsx', file] : [join(compiledRoot, file.replace(/\.ts$/, '.js'))];
  const child = spawn(process.execPath, [...nodeFlags, ...entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', stdout, 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    process: child,
    pid: child.pid ?? 0,
    stderr: () => stderr,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Resolves with the first stdout line matching `pattern`; rejects if the child exits first or `timeoutMs` passes. */
export function lineOf(child: Child, pattern: RegExp, what: string, timeoutMs = 300_000): Promise<string> {
  const stdout = child.process.stdout;
  if (!stdout) return Promise.reject(new Error(`${what}: its stdout is not piped`));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(() => {
      reject(new Error(`${what} was not ready within ${timeoutMs / 1000} s:\n${child.stderr()}`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${child.stderr()}`));
    };
    lines.on('line', (line) => {
      if (!pattern.test(line)) return;
      clearTimeout(timer);
      child.process.off('exit', onExit);
      resolve(line);
    });
    child.process.once('exit', onExit);
  });
}

/** Polls `url` until it answers 200; fails when the child exits or after `timeoutMs`. */
export async function waitForHttp(
  child: Child,
  url: string,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (child.process.exitCode !== null) {
      throw new Error(`${what} exited (${child.process.exitCode}):\n${child.stderr()}`);
    }
    try {
      const answer = await request(url);
      await answer.body.dump();
      if (answer.statusCode === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s:\n${child.stderr()}`);
}

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resident set size of a process (Linux `/proc`), in bytes; 0 when it cannot be read. */
export async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) a process has used so far, in seconds (Linux `/proc`); 0 when unreadable. */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from the third: utime is 14th, stime 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export interface RssSampler {
  /** Stops sampling; the largest and the first RSS seen. */
  stop(): Promise<{ readonly peak: number; readonly first: number }>;
}

/** Reads a process's RSS every `intervalMs` until stopped, keeping the peak. */
export function sampleRss(pid: number, intervalMs = 50): RssSampler {
  let peak = 0;
  let first = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const rss = await rssBytes(pid);
      if (first === 0) first = rss;
      peak = Math.max(peak, rss);
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const last = await rssBytes(pid);
      return { peak: Math.max(peak, last), first };
    },
  };
}
