import { buffer } from 'node:stream/consumers';
import yauzl from 'yauzl';

export interface ReadZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflated. */
  readonly compressionMethod: number;
  readonly isDirectory: boolean;
  /** The checksum the zip records for the entry. */
  readonly crc32: number;
  readonly data: Buffer;
}

/** Every entry of a zip, in archive order, with its bytes. */
export function readZip(zip: Buffer): Promise<ReadZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (openError, archive) => {
      if (openError) return reject(openError);
      const entries: ReadZipEntry[] = [];
      archive.on('error', reject);
      archive.on('end', () => resolve(entries));
      archive.on('entry', (entry: yauzl.Entry) => {
        archive.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          buffer(stream).then((data) => {
            entries.push({
              name: entry.fileName,
              compressionMethod: entry.compressionMethod,
              isDirectory: entry.fileName.endsWith('/'),
              crc32: entry.crc32,
              data,
            });
            archive.readEntry();
          }, reject);
        });
      });
      archive.readEntry();
    });
  });
}
