export interface ZipFileNameOptions {
  /** @default 'my_privatefiles' */
  readonly prefix: string;
  /** @default true */
  readonly includeSiteName: boolean;
  /** @default 150 */
  readonly siteNameLength: number;
}

/**
 * The original block's name: `{prefix}_{site name, [^a-zA-Z0-9-] → _, cut}_{YYYY-MM-DD-HH-mm-ss}.zip`,
 * with `-` for `:` in the time since Windows forbids `:` in file names. Times are UTC.
 */
export function zipFileName(options: ZipFileNameOptions, siteName: string, at: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  const stamp = [
    at.getUTCFullYear(),
    pad(at.getUTCMonth() + 1),
    pad(at.getUTCDate()),
    pad(at.getUTCHours()),
    pad(at.getUTCMinutes()),
    pad(at.getUTCSeconds()),
  ].join('-');
  const parts = [options.prefix || 'my_privatefiles'];
  if (options.includeSiteName) {
    parts.push(siteName.replace(/[^a-zA-Z0-9-]/gu, '_').slice(0, options.siteNameLength));
  }
  parts.push(stamp);
  return `${parts.join('_')}.zip`;
}
