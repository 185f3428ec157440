import { describe, expect, it } from 'vitest';
import { renderMoodleXmlException, renderMoodleXmlResponse } from '../src/provider/rest/render-moodle-xml.js';
import { recordedXml } from './support/rest-recorded-exchanges.js';

describe('Moodle REST XML', () => {
  it('writes an object line for line as Moodle writes the zip descriptor', () => {
    const xml = renderMoodleXmlResponse({
      contextid: 12,
      component: 'user',
      filearea: 'draft',
      itemid: 506543127,
      filepath: '/',
      filename: 'myprivatefiles.zip',
      relativepath: '/12/user/draft/506543127/myprivatefiles.zip',
    });
    expect(xml).toBe(recordedXml.privateFilesZip);
  });

  it('writes lists as MULTIPLE of SINGLE, booleans as 1/0 and absent optional fields as null', () => {
    const xml = renderMoodleXmlResponse({
      functions: [{ name: 'f', version: '1' }],
      empty: [],
      yes: true,
      no: false,
      missing: undefined,
      none: null,
    });
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<SINGLE>\n' +
        '<KEY name="functions"><MULTIPLE>\n<SINGLE>\n<KEY name="name"><VALUE>f</VALUE>\n</KEY>\n' +
        '<KEY name="version"><VALUE>1</VALUE>\n</KEY>\n</SINGLE>\n</MULTIPLE>\n</KEY>\n' +
        '<KEY name="empty"><MULTIPLE>\n</MULTIPLE>\n</KEY>\n' +
        '<KEY name="yes"><VALUE>1</VALUE>\n</KEY>\n<KEY name="no"><VALUE>0</VALUE>\n</KEY>\n' +
        '<KEY name="missing"><VALUE null="null"/>\n</KEY>\n<KEY name="none"><VALUE null="null"/>\n</KEY>\n' +
        '</SINGLE>\n</RESPONSE>\n',
    );
  });

  it('escapes values as htmlspecialchars with ENT_COMPAT does', () => {
    expect(renderMoodleXmlResponse({ v: `a&b<c>"d"'e` })).toContain(
      `<VALUE>a&amp;b&lt;c&gt;&quot;d&quot;'e</VALUE>`,
    );
  });

  it('writes an error as Moodle’s EXCEPTION element', () => {
    const xml = renderMoodleXmlException({
      exception: 'core\\exception\\invalid_parameter_exception',
      errorcode: 'invalidparameter',
      message: 'Invalid parameter value detected',
    });
    expect(xml).toBe(recordedXml.invalidparameter);
  });

  it('leaves ERRORCODE out of an error that has none', () => {
    expect(renderMoodleXmlException({ exception: 'Exception', message: 'No file' })).toBe(
      '<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="Exception">\n<MESSAGE>No file</MESSAGE>\n</EXCEPTION>\n',
    );
  });

  it('answers an empty RESPONSE for a function that returns nothing', () => {
    expect(renderMoodleXmlResponse(null)).toBe(
      '<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n</RESPONSE>\n',
    );
  });
});
