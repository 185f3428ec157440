import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createProviderAdmin,
  type ProviderAdmin,
  ProviderInputError,
} from '../src/provider/provider-admin.js';
import { checkStoreConsistency } from './support/provider-blob-check.js';
import { createTempStore, type TempStore } from './support/provider-temp-store.js';

describe('the provider management service refuses bad input, naming the field', () => {
  let temp: TempStore;
  let admin: ProviderAdmin;
  beforeEach(async () => {
    temp = await createTempStore();
    admin = createProviderAdmin({ store: temp.store, limits: { maxUploadBytes: 1_000 } });
    await admin.createUser({ username: 'alice' });
  });
  afterEach(() => temp.dispose());

  const upload = (filepath: string, filename: string, data = 'x') =>
    admin.uploadPrivateFile({
      username: 'alice',
      filepath,
      filename,
      content: Readable.from([Buffer.from(data)]),
    });

  async function refusal(action: Promise<unknown>): Promise<ProviderInputError> {
    const error = await action.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderInputError);
    return error as ProviderInputError;
  }

  it.each([
    ['a .. segment in the folder', '/notes/../../etc/', 'a.txt', 'filepath', /\.\./],
    ['a lone .. folder', '..', 'a.txt', 'filepath', /\.\./],
    ['a Windows drive', 'C:/Windows/', 'a.txt', 'filepath', /drive/],
    ['a backslash separator', '\\notes\\', 'a.txt', 'filepath', /separator/],
    ['a NUL in the folder', '/no\0tes/', 'a.txt', 'filepath', /NUL/],
    ['an empty folder name', '/notes//x/', 'a.txt', 'filepath', /empty/],
    ['an overlong folder path', `/${'d/'.repeat(600)}`, 'a.txt', 'filepath', /1024/],
    ['an absolute path as file name', '/', '/etc/passwd', 'filename', /absolute/],
    ['a path as file name', '/', 'notes/a.txt', 'filename', /must not contain/],
    ['a .. file name', '/', '..', 'filename', /\.\./],
    ['a NUL in the file name', '/', 'a\0.txt', 'filename', /NUL/],
    ['a control character in the file name', '/', 'a\u0007.txt', 'filename', /control/],
    ['an empty file name', '/', '', 'filename', /empty/],
    ['an overlong file name', '/', `${'n'.repeat(256)}.txt`, 'filename', /255/],
    ['a character Moodle strips from names', '/', 'report|final.txt', 'filename', /must not contain/],
  ])('refuses %s', async (_case, filepath, filename, field, message) => {
    const error = await refusal(upload(filepath, filename));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect((await checkStoreConsistency(temp.store, temp.dataDir)).blobCount).toBe(0);
  });

  it('refuses a file over the upload limit and stores neither blob nor row', async () => {
    const error = await refusal(upload('/', 'big.bin', 'x'.repeat(1_001)));
    expect(error).toMatchObject({ field: 'file', reason: 'too-large' });
    expect(error.message).toMatch(/1000 bytes/);
    expect((await checkStoreConsistency(temp.store, temp.dataDir)).blobCount).toBe(0);
    expect((await admin.listFiles('alice')).files).toEqual([]);
  });

  it('refuses a file that would overflow the user quota', async () => {
    admin = createProviderAdmin({
      store: temp.store,
      limits: { maxUploadBytes: 1_000, userQuotaBytes: 1_500 },
    });
    await upload('/', 'first.bin', 'x'.repeat(1_000));
    const error = await refusal(upload('/', 'second.bin', 'y'.repeat(600)));
    expect(error).toMatchObject({ field: 'file', reason: 'too-large' });
    expect(error.message).toMatch(/quota/);
    await upload('/', 'first.bin', 'z'.repeat(1_000));
  });

  it.each([
    ['ALICE', /lower case/],
    [' alice2', /spaces/],
    ['al ice', /may only hold/],
    ['', /empty/],
  ])('refuses the username %j', async (username, message) => {
    const error = await refusal(admin.createUser({ username }));
    expect(error.field).toBe('username');
    expect(error.message).toMatch(message);
  });

  it('refuses a taken username as a conflict, and a short password', async () => {
    expect(await refusal(admin.createUser({ username: 'alice' }))).toMatchObject({
      field: 'username',
      reason: 'conflict',
    });
    expect(await refusal(admin.createUser({ username: 'carol', password: 'short' }))).toMatchObject({
      field: 'password',
    });
    expect(await refusal(admin.createUser({ username: 'carol', email: 'not-an-email' }))).toMatchObject({
      field: 'email',
    });
  });

  it('names unknown users and files as not found', async () => {
    expect(await refusal(admin.listFiles('nobody'))).toMatchObject({
      field: 'username',
      reason: 'not-found',
    });
    expect(
      await refusal(admin.deletePrivateFile({ username: 'alice', filepath: '/', filename: 'none.txt' })),
    ).toMatchObject({ field: 'filename', reason: 'not-found' });
    expect(await refusal(admin.revokeToken(42))).toMatchObject({ field: 'id', reason: 'not-found' });
  });

  it('checks token inputs: service, authorisation, IP restriction, expiry and format', async () => {
    await admin.createUser({ username: 'ws' });
    await admin.createService({ shortname: 'svc', name: 'Service', authorisedUsernames: ['ws'] });
    const token = (over: object) => admin.createWebServiceToken({ username: 'ws', service: 'svc', ...over });
    expect(await refusal(token({ service: 'nope' }))).toMatchObject({
      field: 'service',
      reason: 'not-found',
    });
    expect(await refusal(token({ username: 'alice' }))).toMatchObject({ field: 'username' });
    expect(await refusal(token({ ipRestriction: ['10.0.0.1', '10.0.0.0/33'] }))).toMatchObject({
      field: 'ipRestriction[1]',
    });
    expect(await refusal(token({ ipRestriction: ['localhost'] }))).toMatchObject({
      field: 'ipRestriction[0]',
    });
    expect(await refusal(token({ validUntil: new Date(Date.now() - 1_000) }))).toMatchObject({
      field: 'validUntil',
    });
    expect(await refusal(token({ token: 'NOT-HEX' }))).toMatchObject({ field: 'token' });
    expect(
      await refusal(admin.createService({ shortname: 'x', name: 'X', functions: ['bad name'] })),
    ).toMatchObject({ field: 'functions[0]' });
  });
});
