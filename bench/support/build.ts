/*
 * The processes measured run the product as it ships: compiled JavaScript on plain `node`, not
 * TypeScript through tsx (whose loader adds about 30 MiB of RSS and start-up work of its own). The
 * product, the benchmark's children and the test helpers they use are compiled once per run into the
 * run's temp directory.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './processes.js';

/** Compiles src/, bench/ and test/support/ into `dir`; resolves with `dir`, a root that mirrors the repository's. */
export async function compileForBench(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const tsconfig = join(dir, 'tsconfig.bench.json');
  await writeFile(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: { noEmit: false, outDir: dir, rootDir: ROOT, sourceMap: false, incremental: false },
      include: [join(ROOT, 'src'), join(ROOT, 'bench'), join(ROOT, 'test', 'support')],
    }),
  );
  const tsc = spawn(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  tsc.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => tsc.once('exit', resolve));
  // Type errors still emit JavaScript; work in progress elsewhere in the tree must not stop a run.
  if (code !== 0)
    console.error(`bench: tsc reported errors, running what it emitted anyway:\n${output.slice(0, 2000)}`);
  await cp(join(ROOT, 'src', 'server', 'page'), join(dir, 'src', 'server', 'page'), { recursive: true });
  // `"type": "module"`, and the version the command line reads.
  await cp(join(ROOT, 'package.json'), join(dir, 'package.json'));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}
