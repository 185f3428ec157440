import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';

interface Crc32Package {
  buf(data: Uint8Array, seed?: number): number;
}

type NativeBuf = Crc32Package['buf'] & { readonly native?: true };

let outcome: boolean | undefined;

/**
 * archiver checksums every entry with the `crc-32` package, in JavaScript: a quarter of a stored zip's
 * build time goes there. Node's own CRC-32 (zlib's, vectorised) gives the same numbers many times
 * faster. This points the very instance archiver uses (found through archiver's own dependencies,
 * wherever npm placed them) at Node's, once per process, after checking that both agree; when anything
 * differs or cannot be found, archiver keeps its own and the zips are the same, only slower.
 * Returns whether the native one is in use.
 */
export function useArchiverNativeCrc32(): boolean {
  outcome ??= install();
  return outcome;
}

function install(): boolean {
  let crc32Package: Crc32Package;
  try {
    let require = createRequire(import.meta.url);
    for (const step of ['archiver', 'zip-stream', 'compress-commons', 'crc32-stream']) {
      require = createRequire(require.resolve(step));
    }
    crc32Package = require('crc-32') as Crc32Package;
  } catch {
    return false;
  }
  const original: NativeBuf = crc32Package.buf;
  if (original.native) return true;
  // Same contract as crc-32's: the previous value as a signed 32-bit seed, a signed 32-bit result.
  const native: NativeBuf = Object.assign((data: Uint8Array, seed = 0) => crc32(data, seed >>> 0) | 0, {
    native: true as const,
  });
  const sample = Buffer.from('moodle-gateway: CRC-32 of a zip entry, chunk after chunk');
  const agrees =
    typeof original === 'function' &&
    native(sample) === original(sample) &&
    native(sample, original(sample)) === original(sample, original(sample));
  if (!agrees) return false;
  crc32Package.buf = native;
  return true;
}
