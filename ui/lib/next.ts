/**
 * Where to go after signing in: `?next=` parsed as a URL against the page's origin, the way the browser will
 * read it. Only a URL of the same origin passes, as its path, query and fragment; anything else (`//evil`,
 * `/\evil`, `/<TAB>/evil`, `https://evil`, `javascript:`) gives `/`.
 */
export function safeNext(raw: string | null, origin: string): string {
  if (!raw) return '/';
  let url: URL;
  try {
    url = new URL(raw, origin);
  } catch {
    return '/';
  }
  if (url.origin !== origin || (url.protocol !== 'http:' && url.protocol !== 'https:')) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}
