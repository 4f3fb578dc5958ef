/**
 * Sign in (`/login`) and create an account (`/register`). The anonymous cart token goes along with the
 * request (ui/lib/api.ts sends it), so the server merges that cart into the account; the token is then
 * dropped. Returns to `?next=` afterwards when it is a path of this site (ui/lib/next.ts).
 */
import { safeNext } from '../lib/next.js';
import { api, errorText, h, message, session, shell } from '../lib/shop.js';

const registering = location.pathname === '/register';
const main = shell(registering ? 'Create an account' : 'Sign in');
const params = new URLSearchParams(location.search);
const next = safeNext(params.get('next'), location.origin);

const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: '', placeholder: 'you@example.com', 'data-testid': 'email' }) as HTMLInputElement;
const password = h('input', {
  type: 'password',
  name: 'password',
  autocomplete: registering ? 'new-password' : 'current-password',
  required: '',
  minlength: '8',
  placeholder: 'At least 8 characters',
  'data-testid': 'password',
}) as HTMLInputElement;
const submit = h('button', { type: 'submit', 'data-testid': 'auth-submit' }, registering ? 'Create account' : 'Sign in') as HTMLButtonElement;
const note = h('p', { class: 'muted', 'data-testid': 'auth-note' });
const other = registering
  ? h('p', {}, 'Have an account? ', h('a', { href: `/login?next=${encodeURIComponent(next)}` }, 'Sign in'))
  : h('p', {}, 'New here? ', h('a', { href: `/register?next=${encodeURIComponent(next)}`, 'data-testid': 'go-register' }, 'Create an account'));
const form = h('form', { class: 'card auth' }, h('label', {}, 'Email', email), h('label', {}, 'Password', password), submit, note);
main.append(form, other);
if (session.cartToken) main.append(h('p', { class: 'muted' }, 'Your cart comes with you when you sign in.'));

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  submit.disabled = true;
  message(note, registering ? 'Creating your account…' : 'Signing in…');
  try {
    const res = await api<{ userId: string; token: string }>('POST', registering ? '/api/auth/register' : '/api/auth/login', { email: email.value, password: password.value });
    session.signIn(res.userId, res.token);
    session.cartToken = null; // merged into the account's cart by the server
    location.href = next;
  } catch (err) {
    message(note, errorText(err), 'error');
    submit.disabled = false;
  }
});
