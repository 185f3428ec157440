/*
 * Reads a V8 CPU profile (`node --cpu-prof`, written by BENCH_PROFILE=1) and prints where the time
 * went: the functions with the most self time, and the packages (or source folders) they belong to.
 *   npx tsx bench/profile-summary.ts bench/profiles/throughput-gateway/*.cpuprofile
 * (PROFILE_TOP=40 shows more lines; a process's worker threads write profiles of their own.)
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** `node_modules/graphql-yoga/…` → `graphql-yoga`; `src/server/…` → `src/server`; node internals kept. */
function moduleOf(url: string): string {
  if (url === '') return '(native / idle / gc)';
  const scoped = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (scoped) return scoped[1] ?? url;
  const own = /\/((?:src|bench|test)\/[^/]+)/.exec(url);
  if (own) return own[1] ?? url;
  if (url.startsWith('node:')) return url;
  return url;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile>…');
  process.exit(2);
}
const top = Number(process.env.PROFILE_TOP ?? 25);

for (const file of files) {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const { byModule, byFunction, inclusive, total } = summarize(profile);
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s busy (idle left out)\n\n`);
  show('self time by package / folder', byModule, total);
  show('self time by function', byFunction, total);
  show('total time by function (itself and what it called)', inclusive, total);
}

function nameOf(frame: ProfileNode['callFrame']): string {
  const where = frame.url
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\/.*?\/(src|bench|test)\//, '$1/');
  return `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
}

function summarize(profile: Profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    // Idle time says how long the process waited, not where its work went: left out of the shares.
    if (byId.get(id)?.callFrame.functionName === '(idle)') return;
    const delta = profile.timeDeltas[index] ?? 0;
    self.set(id, (self.get(id) ?? 0) + delta);
    total += delta;
  });
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  for (const [id, micros] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const name = nameOf(frame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    const module = moduleOf(frame.url);
    byModule.set(module, (byModule.get(module) ?? 0) + micros);
  }
  // Each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map<string, number>();
  for (const [id, micros] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || frame.functionName === '(root)') continue;
      const name = nameOf(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
    }
  }
  return { byModule, byFunction, inclusive, total };
}

function show(title: string, entries: Map<string, number>, total: number) {
  const lines = [...entries]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, micros]) => `${((micros / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
  process.stdout.write(`${title}\n${lines.join('\n')}\n\n`);
}
