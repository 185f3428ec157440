/*
 * Run as a child process by the crash test, then SIGKILLed at a moment of its choosing:
 *   node --import tsx test/support/provider-crash-child.ts <dataDir> <mode>
 * Modes: `endless-upload` (one upload that never ends), `uploads` (upload after upload),
 * `zips` (zip builds of a seeded area, one after another). It prints a line at each milestone.
 */
import { Readable } from 'node:stream';
import { createProviderAdmin } from '../../src/provider/provider-admin.js';
import { deterministicBytes } from '../../src/provider/seed-demo.js';
import { createSqliteStore } from '../../src/provider/store/sqlite-store.js';
import { buildPrivateFilesZip } from '../../src/provider/zip-builder.js';

const [dataDir, mode] = process.argv.slice(2);
if (!dataDir || !mode) throw new Error('usage: provider-crash-child <dataDir> <mode>');

const say = (line: string) => process.stdout.write(`${line}\n`);

const store = await createSqliteStore({ dataDir });
const admin = createProviderAdmin({ store, limits: { maxUploadBytes: 2 ** 40, userQuotaBytes: 2 ** 40 } });
if (!(await admin.getUser('alice'))) await admin.createUser({ username: 'alice' });
if (!(await admin.getUser('ws'))) await admin.createUser({ username: 'ws' });
say('ready');

if (mode === 'endless-upload') {
  let produced = 0;
  const endless = new Readable({
    read() {
      const chunk = Buffer.alloc(1 << 20, produced & 0xff);
      produced += chunk.length;
      if (produced === 8 << 20) say('streaming');
      setImmediate(() => this.push(chunk));
    },
  });
  await admin.uploadPrivateFile({
    username: 'alice',
    filepath: '/big/',
    filename: 'endless.bin',
    content: endless,
  });
} else if (mode === 'uploads') {
  for (let n = 0; ; n++) {
    const size = 50_000 + ((n * 7_919_993) % 3_000_000);
    await admin.uploadPrivateFile({
      username: 'alice',
      filepath: `/batch/${n % 5}/`,
      filename: `file-${n}.bin`,
      content: deterministicBytes(`upload ${process.pid} ${n}`, size),
    });
    say(`uploaded ${n}`);
  }
} else if (mode === 'zips') {
  const alice = await store.users.getByUsername('alice');
  const ws = await store.users.getByUsername('ws');
  if (!alice || !ws) throw new Error('users missing');
  if ((await store.files.list(alice.id)).length === 0) {
    for (let n = 0; n < 12; n++) {
      await admin.uploadPrivateFile({
        username: 'alice',
        filepath: `/folder-${n % 3}/`,
        filename: `part-${n}.bin`,
        content: deterministicBytes(`zip source ${n}`, 1_500_000),
      });
    }
  }
  say('seeded');
  for (let n = 0; ; n++) {
    await buildPrivateFilesZip({ store, user: alice, requestedBy: ws });
    say(`zipped ${n}`);
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
