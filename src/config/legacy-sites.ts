/**
 * The original block's `external_moodles` format: `url1,token1;url2,token2`.
 * Ids come from the URL alone (host, then port and path when present), so adding or removing a
 * site never renames another one.
 */
export interface LegacySite {
  readonly id: string;
  readonly url: string;
  readonly token: string;
}

export class LegacySitesError extends Error {
  override readonly name = 'LegacySitesError';
}

export function siteIdFromUrl(url: string): string {
  const parsed = new URL(url);
  const parts = [parsed.hostname, parsed.port, parsed.pathname.replace(/^\/+|\/+$/g, '')];
  return parts
    .filter((part) => part !== '')
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export function parseLegacySites(value: string): LegacySite[] {
  const sites: LegacySite[] = [];
  const entries = value
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  entries.forEach((entry, index) => {
    const comma = entry.indexOf(',');
    if (comma < 0) {
      throw new LegacySitesError(`MOODLE_SITES entry ${index + 1}: expected "url,token"`);
    }
    const url = entry.slice(0, comma).trim().replace(/\/+$/, '');
    const token = entry.slice(comma + 1).trim();
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new LegacySitesError(`MOODLE_SITES entry ${index + 1}: the URL is not an http(s) URL`);
    }
    if (token === '') {
      throw new LegacySitesError(`MOODLE_SITES entry ${index + 1}: the token is empty`);
    }
    const id = siteIdFromUrl(url);
    const clash = sites.find((site) => site.id === id);
    if (clash) {
      throw new LegacySitesError(
        `MOODLE_SITES entry ${index + 1}: ${url} gives the same id "${id}" as ${clash.url}`,
      );
    }
    sites.push({ id, url, token });
  });
  return sites;
}
