/**
 * Browser-side helpers shared by every shopper page: the signed-in user's token (localStorage `fs.token`),
 * the anonymous cart token (`fs.cartToken`), and a JSON fetch that throws ApiError with the server's code.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const session = {
  get token(): string | null {
    return localStorage.getItem('fs.token');
  },
  get userId(): string | null {
    return localStorage.getItem('fs.userId');
  },
  signIn(userId: string, token: string) {
    localStorage.setItem('fs.userId', userId);
    localStorage.setItem('fs.token', token);
  },
  signOut() {
    localStorage.removeItem('fs.userId');
    localStorage.removeItem('fs.token');
  },
  get cartToken(): string | null {
    return localStorage.getItem('fs.cartToken');
  },
  set cartToken(v: string | null) {
    if (v) localStorage.setItem('fs.cartToken', v);
    else localStorage.removeItem('fs.cartToken');
  },
};

export async function api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const h: Record<string, string> = { ...headers };
  if (session.token) h.authorization = `Bearer ${session.token}`;
  if (session.cartToken) h['x-cart-token'] = session.cartToken;
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const cartToken = res.headers.get('x-cart-token');
  if (cartToken) session.cartToken = cartToken;
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? 'error', data?.error?.message ?? res.statusText);
  return data as T;
}

export const cents = (n: number) => `$${(n / 100).toFixed(2)}`;

/** Creates an element: h('div', {class: 'card'}, 'text', child). */
export function h(tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}
