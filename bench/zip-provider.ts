/*
 * The zip and download benchmarks' provider, in a process of its own so that its RSS is its own.
 *   node --import tsx bench/zip-provider.ts seed <dataDir> <filesDir>
 *     stores every file under <filesDir> as the private files of the user `zipper`, then exits
 *   node --import tsx bench/zip-provider.ts serve <dataDir> <store|deflate> <token>
 *     serves the store as a standalone provider building its zips in that mode, the demo account's
 *     token being <token> (32 hex); prints one JSON line `{ "url", "token", "username" }` when ready,
 *     stops on SIGTERM
 */
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pino } from 'pino';
import { stopOnSignals } from '../src/cli/stop-on-signals.js';
import { createProviderAdmin } from '../src/provider/provider-admin.js';
import { seedDemo } from '../src/provider/seed-demo.js';
import { startStandaloneProvider } from '../src/provider/standalone.js';

export const ZIP_USER = 'zipper';

const [mode = '', dataDir = '', third = '', token = ''] = process.argv.slice(2);

async function* walk(root: string): AsyncGenerator<string> {
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

if (mode === 'seed') {
  const provider = await startStandaloneProvider({ dataDir, cleanup: false });
  const admin = createProviderAdmin({
    store: provider.store,
    limits: { maxUploadBytes: 256 * 1024 * 1024, userQuotaBytes: 64 * 1024 * 1024 * 1024 },
  });
  await seedDemo(admin, { siteName: 'Zip bench', binaryBytes: 1024 });
  await admin.createUser({
    username: ZIP_USER,
    firstname: 'Zip',
    lastname: 'Bench',
    email: 'zip@example.com',
  });
  let count = 0;
  for await (const path of walk(third)) {
    const parts = relative(third, path).split(sep);
    const filename = parts.pop() ?? '';
    await admin.uploadPrivateFile({
      username: ZIP_USER,
      filepath: parts.length > 0 ? `/${parts.join('/')}/` : '/',
      filename,
      content: createReadStream(path),
    });
    count += 1;
  }
  await provider.close();
  process.stdout.write(`${JSON.stringify({ seeded: count })}\n`);
} else if (mode === 'serve') {
  if (third !== 'store' && third !== 'deflate')
    throw new Error(`compression must be store or deflate: ${third}`);
  const provider = await startStandaloneProvider({
    dataDir,
    cleanup: false,
    siteName: 'Zip bench',
    zip: { compression: third },
  });
  const seed = await seedDemo(createProviderAdmin({ store: provider.store }), {
    siteName: 'Zip bench',
    binaryBytes: 1024,
    token,
  });
  process.stdout.write(`${JSON.stringify({ url: provider.url, token: seed.token, username: ZIP_USER })}\n`);
  stopOnSignals(() => provider.close(), pino({ level: 'silent' }));
} else {
  throw new Error(`unknown mode ${JSON.stringify(mode)}: seed or serve`);
}
