import { AppError } from '../infra/errors.js';

/**
 * Control characters are never valid input: a NUL reaches Postgres as an error (a 5xx before), and the rest
 * end up in logs, headers and pages. Body strings may hold tab, newline and carriage return (a multi-line
 * description); path parameters, query values and header values may hold none.
 */
const BODY_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/;
const LINE_CONTROL = /[\x00-\x1f\x7f-\x9f]/;

const refuse = (field: string) => new AppError('invalid_request', `${field}: must not contain control characters`, field);

/** Throws a 400 naming the first field (dotted path) of a parsed JSON body holding a control character. */
export function checkBodyText(value: unknown, path = ''): void {
  if (typeof value === 'string') {
    if (BODY_CONTROL.test(value)) throw refuse(path || 'body');
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkBodyText(value[i], path ? `${path}.${i}` : String(i));
    return;
  }
  for (const key in value) {
    const field = path ? `${path}.${key}` : key;
    if (BODY_CONTROL.test(key)) throw refuse(path || 'body');
    checkBodyText((value as Record<string, unknown>)[key], field);
  }
}

/** The name of the first entry (header, path parameter) whose value holds a control character, or null. */
export function controlCharIn(values: Record<string, string>): string | null {
  for (const name in values) if (LINE_CONTROL.test(values[name])) return name;
  return null;
}

/** Throws a 400 naming the first query parameter whose name or value holds a control character. */
export function checkLineText(entries: Iterable<[string, string]>): void {
  for (const [name, value] of entries) if (LINE_CONTROL.test(value) || LINE_CONTROL.test(name)) throw refuse(name);
}
