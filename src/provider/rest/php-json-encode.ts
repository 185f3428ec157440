// Outside ASCII, and `/`: the characters PHP's json_encode escapes that JSON.stringify leaves alone.
const PHP_ESCAPED = /[/\u0080-\uffff]/g;

function escapeCodeUnit(char: string): string {
  if (char === '/') return '\\/';
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Serialises like PHP's `json_encode($value)` with no flags, as Moodle's REST server does:
 * `/` becomes `\/` and every non-ASCII UTF-16 code unit becomes `\uXXXX` (lower-case hex).
 * Keys keep their insertion order; `undefined` members are left out (an absent optional field).
 * Escaping after stringifying is safe because `/` and non-ASCII can only occur inside strings.
 */
export function phpJsonEncode(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  return json.replace(PHP_ESCAPED, escapeCodeUnit);
}
