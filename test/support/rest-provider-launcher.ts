import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderAdmin, type ProviderAdmin } from '../../src/provider/provider-admin.js';
import { type DemoSeed, seedDemo } from '../../src/provider/seed-demo.js';
import {
  type StandaloneProvider,
  type StandaloneProviderOptions,
  startStandaloneProvider,
} from '../../src/provider/standalone.js';

export interface LaunchedProvider {
  /** The site URL, as a gateway would configure it. */
  readonly url: string;
  /** The demo web-service account's clear token. */
  readonly token: string;
  readonly seed: DemoSeed;
  readonly admin: ProviderAdmin;
  readonly provider: StandaloneProvider;
  readonly dataDir: string;
  /** Stops the provider and removes its data directory. */
  close(): Promise<void>;
}

export interface LaunchProviderOptions extends Partial<StandaloneProviderOptions> {
  /** @default 'Provider under test' */
  readonly siteName?: string;
  /** Size of alice's binary file. @default 200_000 */
  readonly binaryBytes?: number;
}

/**
 * A seeded standalone provider (alice with files, bob with none, the plugin's service, an account
 * with both capabilities and its token) on 127.0.0.1, in a fresh temp directory.
 */
export async function launchRestProvider(options: LaunchProviderOptions = {}): Promise<LaunchedProvider> {
  const { siteName = 'Provider under test', binaryBytes = 200_000, ...rest } = options;
  const dataDir = rest.dataDir ?? (await mkdtemp(join(tmpdir(), 'provider-rest-')));
  const provider = await startStandaloneProvider({ cleanup: false, ...rest, siteName, dataDir });
  try {
    const admin = createProviderAdmin({ store: provider.store });
    const seed = await seedDemo(admin, { siteName, binaryBytes });
    return {
      url: provider.url,
      token: seed.token,
      seed,
      admin,
      provider,
      dataDir,
      async close() {
        await provider.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await provider.close();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
