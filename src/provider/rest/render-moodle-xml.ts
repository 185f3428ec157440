import type { MoodleWsErrorBody } from '../moodle-errors.js';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" ?>\n';

/** PHP's `htmlspecialchars($value, ENT_COMPAT, 'UTF-8')`: single quotes are left alone. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"]/g, (char) => {
    switch (char) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      default:
        return '&quot;';
    }
  });
}

/*
 * Moodle walks the function's return description; the provider has none, so the value's own shape
 * stands in for it: arrays are MULTIPLE, objects SINGLE, `undefined` an optional field that JSON
 * leaves out and XML writes as null.
 */
function xmlize(value: unknown): string {
  if (value === null || value === undefined) return '<VALUE null="null"/>\n';
  if (Array.isArray(value)) return `<MULTIPLE>\n${value.map(xmlize).join('')}</MULTIPLE>\n`;
  if (typeof value === 'object') {
    const keys = Object.entries(value)
      .map(([key, member]) => `<KEY name="${escapeXml(key)}">${xmlize(member)}</KEY>\n`)
      .join('');
    return `<SINGLE>\n${keys}</SINGLE>\n`;
  }
  if (typeof value === 'boolean') return `<VALUE>${value ? 1 : 0}</VALUE>\n`;
  return `<VALUE>${escapeXml(String(value))}</VALUE>\n`;
}

/** A successful answer in Moodle's REST XML format. A `null` result (a function returning nothing) is an empty RESPONSE. */
export function renderMoodleXmlResponse(value: unknown): string {
  const body = value === null || value === undefined ? '' : xmlize(value);
  return `${XML_DECLARATION}<RESPONSE>\n${body}</RESPONSE>\n`;
}

/** An error in Moodle's REST XML format; `debuginfo` only in debug mode. */
export function renderMoodleXmlException(error: MoodleWsErrorBody, debuginfo?: string): string {
  let xml = `${XML_DECLARATION}<EXCEPTION class="${error.exception}">\n`;
  if (error.errorcode !== undefined) xml += `<ERRORCODE>${escapeXml(error.errorcode)}</ERRORCODE>\n`;
  xml += `<MESSAGE>${escapeXml(error.message)}</MESSAGE>\n`;
  if (debuginfo !== undefined) xml += `<DEBUGINFO>${escapeXml(debuginfo)}</DEBUGINFO>\n`;
  return `${xml}</EXCEPTION>\n`;
}
