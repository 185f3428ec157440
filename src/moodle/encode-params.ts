/** A web-service argument: scalars, lists (`values[0]=…`) and structures (`users[0][username]=…`). */
export type MoodleParam =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly MoodleParam[]
  | { readonly [key: string]: MoodleParam };

export type MoodleParams = { readonly [name: string]: MoodleParam };

/**
 * Encodes arguments the way Moodle's REST server reads them (PHP's bracket notation).
 * Booleans become `1`/`0` as PHP expects; `null` and `undefined` are left out, so an optional
 * argument is simply absent. Appends to `form` when given (the caller adds `wstoken` etc.).
 */
export function encodeParams(
  params: MoodleParams,
  form: URLSearchParams = new URLSearchParams(),
): URLSearchParams {
  for (const [name, value] of Object.entries(params)) {
    append(form, name, value);
  }
  return form;
}

function append(form: URLSearchParams, name: string, value: MoodleParam): void {
  if (value === null || value === undefined) {
    return;
  }
  if (typeof value === 'boolean') {
    form.append(name, value ? '1' : '0');
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new TypeError(`Moodle parameter ${name} is not a finite number`);
    }
    form.append(name, String(value));
    return;
  }
  if (typeof value === 'string') {
    form.append(name, value);
    return;
  }
  if (isList(value)) {
    value.forEach((item, index) => {
      append(form, `${name}[${index}]`, item);
    });
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    append(form, `${name}[${key}]`, item);
  }
}

function isList(value: MoodleParam): value is readonly MoodleParam[] {
  return Array.isArray(value);
}
