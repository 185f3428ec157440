import { describe, expect, it } from 'vitest';
import {
  DOWNLOAD_ERRORS,
  downloadErrorBody,
  emptyPrivateArea,
  MoodleDownloadError,
  WS_ERRORS,
  wsAccessUserSuspended,
} from '../src/provider/moodle-errors.js';
import { phpJsonEncode } from '../src/provider/rest/php-json-encode.js';
import { recordedDownloadErrors, recordedRest } from './support/rest-recorded-exchanges.js';

describe('the Moodle error catalogue', () => {
  it.each([
    ['invalidtoken', WS_ERRORS.invalidtoken, recordedRest.invalidtoken],
    ['invalidparameter', WS_ERRORS.invalidparameter, recordedRest.invalidparameter],
    ['invalidrecord', WS_ERRORS.invalidrecord, recordedRest.invalidrecord],
    ['accessexception', WS_ERRORS.accessexception, recordedRest.accessexception],
    ['nopermissions', WS_ERRORS.nopermissionsCreateDraft, recordedRest.nopermissions],
    ['sitemaintenance', WS_ERRORS.sitemaintenance, recordedRest.sitemaintenance],
  ])('serialises the %s web-service error byte for byte as Moodle sent it', (_code, error, recorded) => {
    expect(phpJsonEncode(error)).toBe(recorded);
  });

  it('names the suspended account in its error as Moodle does', () => {
    expect(phpJsonEncode(wsAccessUserSuspended('wssusp'))).toBe(recordedRest.wsaccessusersuspended);
  });

  it('gives the empty-area error without an errorcode, in English by default', () => {
    expect(phpJsonEncode(emptyPrivateArea('en'))).toBe(recordedRest.emptyAreaEnglish);
    expect(phpJsonEncode(emptyPrivateArea('de'))).toBe(recordedRest.emptyAreaEnglish);
  });

  it('gives the empty-area error in French, escaped as PHP escapes non-ASCII', () => {
    const encoded = phpJsonEncode(emptyPrivateArea('fr'));
    expect(JSON.parse(encoded)).toEqual(JSON.parse(recordedRest.emptyAreaFrench));
    expect(encoded).toContain('priv\\u00e9e');
    expect(JSON.parse(phpJsonEncode(emptyPrivateArea('fr_ca')))).toEqual(
      JSON.parse(recordedRest.emptyAreaFrench),
    );
  });

  it.each(Object.entries(recordedDownloadErrors))(
    'serialises the %s download error and its status as Moodle sent them',
    (code, recorded) => {
      const definition = DOWNLOAD_ERRORS[code as keyof typeof DOWNLOAD_ERRORS];
      const error = new MoodleDownloadError(definition);
      expect(phpJsonEncode(downloadErrorBody(error))).toBe(recorded.body);
      expect(error.statusCode).toBe(recorded.status);
    },
  );

  it('fills a download error’s debuginfo only in debug mode', () => {
    const error = new MoodleDownloadError(DOWNLOAD_ERRORS.invalidtoken, 'token not found');
    expect(downloadErrorBody(error).debuginfo).toBeNull();
    expect(downloadErrorBody(error, true).debuginfo).toBe('token not found');
  });
});
