import { Readable } from 'node:stream';
import type { ProviderAdmin } from '../../src/provider/provider-admin.js';

export interface SeedFile {
  readonly filepath: string;
  readonly filename: string;
  readonly data: Buffer;
}

/** Uploads each file into `username`'s private area through the management service. */
export async function uploadFiles(
  admin: ProviderAdmin,
  username: string,
  files: readonly SeedFile[],
): Promise<void> {
  for (const file of files) {
    await admin.uploadPrivateFile({
      username,
      filepath: file.filepath,
      filename: file.filename,
      content: Readable.from([file.data]),
    });
  }
}
