/**
 * The merchant console's shared pieces: the admin key (typed in once, kept in sessionStorage for the
 * browser session), a fetch of the admin API with it, the console's top bar, and the key form.
 */
import { ApiError, h } from './api.js';

export { ApiError, h };
export { cents } from './api.js';

const KEY = 'fs.adminKey';

export const adminKey = {
  get(): string | null {
    return sessionStorage.getItem(KEY);
  },
  set(v: string) {
    sessionStorage.setItem(KEY, v);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

/** Calls the admin API with the key; a 401 forgets the key and asks for it again. */
export async function adminApi<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${adminKey.get() ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data: any;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (res.status === 401) {
    adminKey.clear();
    askForKey('That key was not accepted. Enter the admin API key again.');
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data?.error?.code ?? 'error', data?.error?.message ?? res.statusText);
    (err as ApiError & { field?: string }).field = data?.error?.field;
    throw err;
  }
  return data as T;
}

/** The field an API error names (`admission.batchSize`), if any. */
export const errorField = (err: unknown): string | undefined => (err instanceof ApiError ? (err as ApiError & { field?: string }).field : undefined);

/** Renders the console's top bar into #app and returns the main element; asks for the key when none is kept. */
export function consoleShell(active: 'sales' | 'products' | 'dashboard'): HTMLElement | null {
  const app = document.getElementById('app')!;
  app.classList.add('admin');
  if (!adminKey.get()) {
    askForKey();
    return null;
  }
  const link = (href: string, label: string, on: boolean) => h('a', { href, class: on ? 'on' : '' }, label);
  const out = h('a', { href: '#', 'data-testid': 'forget-key' }, 'Forget key');
  out.addEventListener('click', (e) => {
    e.preventDefault();
    adminKey.clear();
    location.href = '/admin';
  });
  const nav = h('nav', { class: 'top admin-nav' }, h('a', { href: '/admin', class: 'brand' }, 'Merchant console'), link('/admin#sales', 'Sales', active === 'sales'), link('/admin#products', 'Products', active === 'products'), h('span', { class: 'spacer' }), out);
  const main = h('main');
  app.replaceChildren(nav, main);
  return main;
}

/** The key form: the key is checked against the admin API before it is kept. */
export function askForKey(message?: string): void {
  const app = document.getElementById('app')!;
  app.classList.add('admin');
  const input = h('input', { type: 'password', name: 'adminKey', autocomplete: 'off', required: '', placeholder: 'ADMIN_API_KEY', 'data-testid': 'admin-key' }) as HTMLInputElement;
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    { class: 'card admin-key' },
    h('h1', {}, 'Merchant console'),
    h('p', { class: 'muted' }, 'Enter the admin API key. It is kept for this browser session only.'),
    h('label', {}, 'Admin key', input),
    h('button', { type: 'submit', 'data-testid': 'admin-key-submit' }, 'Open the console'),
    error,
  ) as HTMLFormElement;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const res = await fetch('/admin/sales?status=open', { headers: { authorization: `Bearer ${input.value}` } }).catch(() => null);
    if (!res || res.status === 401) {
      error.textContent = res ? 'That key was not accepted.' : 'The server did not answer. Try again.';
      return;
    }
    adminKey.set(input.value);
    location.reload();
  });
  app.replaceChildren(form);
  input.focus();
}

/** `<input type=datetime-local>` value (local time) for a Date, and back to ISO-8601 UTC. */
export function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
export const fromLocalInput = (v: string): string | undefined => (v ? new Date(v).toISOString() : undefined);

export function fmtTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
