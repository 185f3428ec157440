import { describe, expect, it } from 'vitest';
import { zipFileName } from '../src/gateway/zip-file-name.js';

const at = new Date('2026-11-21T09:05:03Z');
const defaults = { prefix: 'my_privatefiles', includeSiteName: true, siteNameLength: 150 };

describe("the zip's file name, as the original block names it", () => {
  it('joins the prefix, the cleaned site name and a Windows-safe time', () => {
    expect(zipFileName(defaults, 'Université Lyon 2 (Law)', at)).toBe(
      'my_privatefiles_Universit__Lyon_2__Law__2026-11-21-09-05-03.zip',
    );
  });

  it('cuts the site name to its configured length and can leave it out', () => {
    expect(zipFileName({ ...defaults, siteNameLength: 4 }, 'Moodle Sciences', at)).toBe(
      'my_privatefiles_Mood_2026-11-21-09-05-03.zip',
    );
    expect(zipFileName({ ...defaults, prefix: 'files', includeSiteName: false }, 'Moodle', at)).toBe(
      'files_2026-11-21-09-05-03.zip',
    );
  });
});
