/**
 * A URL fit for a log line: the password of its userinfo and the value of any query parameter whose name
 * says it is a secret become `***`. Parsed with the WHATWG URL parser, so `redis://:pw@host`, passwords
 * holding `/` or `@`, and `?password=` are all caught. Text that does not parse as a URL is not logged.
 */
const SECRET_PARAM = /pass|secret|token|key|auth/i;

export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '[unparseable URL]';
  }
  if (url.password) url.password = '***';
  for (const name of [...url.searchParams.keys()]) if (SECRET_PARAM.test(name)) url.searchParams.set(name, '***');
  return url.toString().replace(/%2A%2A%2A/g, '***');
}
