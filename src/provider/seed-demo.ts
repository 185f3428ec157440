import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type ProviderAdmin, ProviderInputError } from './provider-admin.js';

export const DEMO_ACCOUNT_USERNAME = 'block_my_external_privatefiles_user';
export const DEMO_SERVICE_SHORTNAME = 'wsblockmyexternalprivatefiles';
export const DEMO_SERVICE_FUNCTIONS = [
  'block_my_external_privatefiles_get_private_files_zip',
  'core_webservice_get_site_info',
] as const;

export interface SeedDemoOptions {
  /** Written into alice's welcome file. */
  readonly siteName: string;
  /** Size of alice's binary file. @default 3_145_728 (3 MiB) */
  readonly binaryBytes?: number;
  /**
   * A clear token to register and reuse on every run (32 lower-case hex), so that several gateway
   * instances sharing one data directory agree on it. Without it, each run creates a new token and
   * revokes the demo account's previous ones, since a stored token cannot be read back.
   * @default undefined (rotate)
   */
  readonly token?: string;
}

export interface DemoSeed {
  /** The clear web-service token for the demo account. */
  readonly token: string;
  readonly accountUsername: string;
  readonly serviceShortname: string;
  /** Users created by this run (empty on a re-run). */
  readonly createdUsers: readonly string[];
}

const CHUNK_BYTES = 65_536;

/** Deterministic bytes (SHA-256 in counter mode), streamed so memory stays flat whatever the size. */
export function deterministicBytes(seed: string, size: number): Readable {
  function* chunks() {
    let counter = 0;
    for (let produced = 0; produced < size; ) {
      const length = Math.min(CHUNK_BYTES, size - produced);
      const chunk = Buffer.allocUnsafe(length);
      for (let offset = 0; offset < length; offset += 32) {
        createHash('sha256').update(`${seed}:${counter++}`).digest().copy(chunk, offset);
      }
      produced += length;
      yield chunk;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

interface DemoFile {
  readonly filepath: string;
  readonly filename: string;
  readonly content: () => Readable;
}

function demoFiles(siteName: string, binaryBytes: number): DemoFile[] {
  const text = (value: string) => () => Readable.from([Buffer.from(value, 'utf8')]);
  return [
    {
      filepath: '/',
      filename: 'welcome.txt',
      content: text(
        `Welcome to ${siteName}.\nThese are alice's private files, served by the local provider.\n`,
      ),
    },
    {
      filepath: '/notes/',
      filename: 'todo.txt',
      content: text('- Read chapter 3\n- Send the lab report\n- Book a room for the study group\n'),
    },
    {
      filepath: '/notes/2024/',
      filename: 'lecture-1.md',
      content: text('# Lecture 1\n\nCaching, deadlines and why the slowest healthy site sets the pace.\n'),
    },
    {
      filepath: '/data/',
      filename: 'measurements.bin',
      content: () => deterministicBytes('moodle-gateway demo', binaryBytes),
    },
  ];
}

async function ensureUser(
  admin: ProviderAdmin,
  created: string[],
  input: Parameters<ProviderAdmin['createUser']>[0],
) {
  if (await admin.getUser(input.username)) return;
  await admin.createUser(input);
  created.push(input.username);
}

/**
 * Seeds the demo provider: `alice` (a few files, one in a sub-folder, one binary of a few MB), `bob`
 * (none), a web-service account holding both capabilities, the plugin's service, and a token.
 * Safe to run at every start: what exists is kept, never overwritten.
 */
export async function seedDemo(admin: ProviderAdmin, options: SeedDemoOptions): Promise<DemoSeed> {
  const { siteName, binaryBytes = 3_145_728, token: pinnedToken } = options;
  const createdUsers: string[] = [];
  await ensureUser(admin, createdUsers, {
    username: 'alice',
    firstname: 'Alice',
    lastname: 'Example',
    email: 'alice@example.com',
  });
  await ensureUser(admin, createdUsers, {
    username: 'bob',
    firstname: 'Bob',
    lastname: 'Example',
    email: 'bob@example.com',
  });
  await ensureUser(admin, createdUsers, {
    username: DEMO_ACCOUNT_USERNAME,
    firstname: 'wsuser',
    lastname: DEMO_ACCOUNT_USERNAME,
    capabilities: { canRetrieveFilesFromOtherUsers: true, canCreateDraftUserFilesForOtherUsers: true },
  });

  const existing = new Set<string>();
  const collect = (folder: Awaited<ReturnType<ProviderAdmin['listFiles']>>): void => {
    for (const file of folder.files) existing.add(`${file.filepath}${file.filename}`);
    folder.folders.forEach(collect);
  };
  collect(await admin.listFiles('alice'));
  for (const file of demoFiles(siteName, binaryBytes)) {
    if (existing.has(`${file.filepath}${file.filename}`)) continue;
    await admin.uploadPrivateFile({ username: 'alice', ...file, content: file.content() });
  }

  if (!(await admin.getService(DEMO_SERVICE_SHORTNAME))) {
    await admin.createService({
      shortname: DEMO_SERVICE_SHORTNAME,
      name: 'My external private files',
      functions: [...DEMO_SERVICE_FUNCTIONS],
      downloadFiles: true,
      restrictedUsers: true,
      authorisedUsernames: [DEMO_ACCOUNT_USERNAME],
    });
  }

  const previous = await admin.listTokens({
    username: DEMO_ACCOUNT_USERNAME,
    service: DEMO_SERVICE_SHORTNAME,
  });
  let token: string;
  if (pinnedToken === undefined) {
    ({ token } = await admin.createWebServiceToken({
      username: DEMO_ACCOUNT_USERNAME,
      service: DEMO_SERVICE_SHORTNAME,
    }));
    for (const old of previous) await admin.revokeToken(old.id);
  } else {
    try {
      await admin.createWebServiceToken({
        username: DEMO_ACCOUNT_USERNAME,
        service: DEMO_SERVICE_SHORTNAME,
        token: pinnedToken,
      });
    } catch (error) {
      if (!(error instanceof ProviderInputError && error.reason === 'conflict')) throw error;
    }
    token = pinnedToken;
  }
  return {
    token,
    accountUsername: DEMO_ACCOUNT_USERNAME,
    serviceShortname: DEMO_SERVICE_SHORTNAME,
    createdUsers,
  };
}
