import { describe, expect, it } from 'vitest';
import { encodeParams } from '../src/moodle/encode-params.js';

const fields = (form: URLSearchParams) => [...form.entries()];

describe('encodeParams', () => {
  it('encodes lists and structures in bracket notation, in order', () => {
    const form = encodeParams({
      users: [{ username: 'carol', firstname: 'Carol', auth: 'manual' }],
      field: 'username',
      values: ['alice', 'bob'],
    });
    expect(fields(form)).toEqual([
      ['users[0][username]', 'carol'],
      ['users[0][firstname]', 'Carol'],
      ['users[0][auth]', 'manual'],
      ['field', 'username'],
      ['values[0]', 'alice'],
      ['values[1]', 'bob'],
    ]);
    expect(form.toString()).toBe(
      'users%5B0%5D%5Busername%5D=carol&users%5B0%5D%5Bfirstname%5D=Carol&users%5B0%5D%5Bauth%5D=manual&field=username&values%5B0%5D=alice&values%5B1%5D=bob',
    );
  });

  it('sends booleans as 1 and 0, numbers as written, and leaves out null and undefined', () => {
    const form = encodeParams({
      enrolments: [{ roleid: 5, suspend: false, notify: true, timeend: null }],
      x: undefined,
    });
    expect(fields(form)).toEqual([
      ['enrolments[0][roleid]', '5'],
      ['enrolments[0][suspend]', '0'],
      ['enrolments[0][notify]', '1'],
    ]);
  });

  it('keeps strings exactly, spaces and case included', () => {
    const form = encodeParams({ username: ' ALICE ' });
    expect(new URLSearchParams(form.toString()).get('username')).toBe(' ALICE ');
  });

  it('appends to a given form after the fields already there', () => {
    const form = encodeParams({ username: 'alice' }, new URLSearchParams({ wsfunction: 'f' }));
    expect(form.toString()).toBe('wsfunction=f&username=alice');
  });

  it('refuses numbers PHP could not read', () => {
    expect(() => encodeParams({ id: Number.NaN })).toThrow(TypeError);
  });
});
