import { cents, h } from './api.js';
import { formatDuration, progress, shownEta, shownPosition, type QueueState, type SaleView } from './queue-state.js';
import type { SocketStatus } from './queue-socket.js';

/**
 * DOM for the queue page. `update` is cheap and called on every message and every second: the status card
 * is rebuilt only when what it shows changes shape (phase, notice), otherwise only its numbers are
 * refreshed, so the Reserve button is never swapped out under a finger.
 */
export interface QueueViewHandlers {
  reserve: () => void;
  rejoin: () => void;
  signIn: (mode: 'login' | 'register', email: string, password: string) => Promise<void>;
  signOut: () => void;
}

export interface QueueView {
  update(state: QueueState, now: number): void;
  setConnection(status: SocketStatus | null, signedIn: boolean): void;
  setRemaining(remaining: number): void;
  showSignIn(message?: string): void;
  hideSignIn(): void;
}

const plural = (n: number, one: string, many: string) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export function createQueueView(root: HTMLElement, sale: SaleView, handlers: QueueViewHandlers): QueueView {
  const remainingEl = h('span', { class: 'q-remaining' });
  const startEl = h('p', { class: 'q-start muted' });
  const product = h(
    'header',
    { class: 'card q-product' },
    h('p', { class: 'q-kicker muted' }, 'Flash sale'),
    h('h1', { class: 'q-name' }, sale.name),
    h('p', { class: 'q-price' }, h('strong', {}, cents(sale.priceCents)), ' · ', remainingEl),
    startEl,
  );
  const status = h('section', { class: 'card q-status', 'aria-live': 'polite', 'data-phase': 'connecting' });
  const signin = h('section', { class: 'card q-signin', hidden: '' });
  const conn = h('p', { class: 'q-conn muted' });
  root.replaceChildren(product, status, signin, conn);

  let remaining = sale.remaining;
  let shapeKey = '';
  const dyn: Record<string, HTMLElement> = {};

  const renderRemaining = () => {
    remainingEl.textContent = remaining > 0 ? `${plural(remaining, 'unit', 'units')} left` : 'none left';
  };
  renderRemaining();

  const button = (label: string, onClick: () => void, attrs: Record<string, string> = {}) => {
    const b = h('button', { type: 'button', ...attrs }, label) as HTMLButtonElement;
    b.addEventListener('click', onClick);
    return b;
  };

  function build(s: QueueState): void {
    const children: Node[] = [];
    const notice = s.notice ? h('p', { class: 'q-notice error', role: 'alert' }, s.notice) : null;
    switch (s.phase) {
      case 'early':
        dyn.opens = h('strong', { class: 'q-opens' });
        children.push(h('h2', {}, 'The line opens soon'), h('p', {}, 'The line opens in ', dyn.opens, '. Keep this page open: you join it automatically.'));
        break;
      case 'connecting':
        children.push(h('h2', {}, 'Joining the line…'), h('p', { class: 'muted' }, 'Hold on, we are saving your place.'));
        break;
      case 'queued':
        dyn.position = h('span', { class: 'q-position-n' });
        dyn.eta = h('p', { class: 'q-eta' });
        dyn.bar = h('div', { class: 'q-bar-fill' });
        children.push(
          h('h2', {}, "You're in line"),
          h('p', { class: 'q-position' }, dyn.position, dyn.caption = h('span', { class: 'muted' })),
          h('div', { class: 'q-bar', role: 'progressbar', 'aria-label': 'Progress to the front of the line' }, dyn.bar),
          dyn.eta,
          h('p', { class: 'muted small' }, 'Keep this page open. You keep your place if you lose the connection for a short while.'),
        );
        break;
      case 'admitted':
      case 'reserving': {
        dyn.left = h('strong', { class: 'q-left' });
        const reserve = button(s.phase === 'reserving' ? 'Reserving…' : 'Reserve', handlers.reserve, { class: 'q-reserve' });
        if (s.phase === 'reserving') reserve.setAttribute('disabled', '');
        children.push(
          h('h2', { class: 'ok' }, "You're in!"),
          h('p', {}, 'Time left to reserve: ', dyn.left),
          h('div', { class: 'q-bar' }, h('div', { class: 'q-bar-fill q-bar-full' })),
          reserve,
        );
        if (s.soldOutFinal === false) children.push(h('p', { class: 'muted small' }, 'Every unit is on hold right now; try anyway, some may come back.'));
        break;
      }
      case 'reserved': {
        const r = s.reservation!;
        dyn.hold = h('strong', { class: 'q-hold' });
        children.push(
          h('h2', { class: 'ok' }, 'Reserved ✓'),
          h('p', {}, `${plural(r.quantity, 'unit', 'units')} of ${sale.name} is yours for `, dyn.hold, '.'),
          h('p', { class: 'muted small' }, 'Reservation ', h('code', { class: 'q-reservation-id' }, r.reservationId)),
        );
        if (s.order) children.push(h('p', { class: 'q-order' }, `Order ${s.order.orderId}: ${s.order.status}`));
        break;
      }
      case 'expired':
        children.push(
          h('h2', {}, 'Your turn has passed'),
          h('p', { class: 'muted' }, 'The time to reserve ran out. You can join the line again.'),
          button('Join again', handlers.rejoin, { class: 'q-rejoin' }),
        );
        break;
      case 'replaced':
        children.push(
          h('h2', {}, 'Open in another tab'),
          h('p', { class: 'muted' }, 'Your place in line is being followed in another tab or on another device. You keep it either way.'),
          button('Continue here', handlers.rejoin, { class: 'q-continue' }),
        );
        break;
      case 'sold_out':
        children.push(
          h('h2', { class: 'error' }, s.soldOutFinal ? 'Sold out' : 'Sold out, for now'),
          h(
            'p',
            { class: 'muted' },
            s.soldOutFinal
              ? 'Every unit has been sold. Thanks for waiting.'
              : 'Every unit is on hold. Holds that are not bought come back, so keep this page open to keep your place.',
          ),
        );
        break;
      case 'closed':
        children.push(h('h2', {}, 'This sale has ended'), h('p', { class: 'muted' }, 'The line is closed.'));
        break;
    }
    if (notice) children.push(notice);
    status.replaceChildren(...children);
    status.setAttribute('data-phase', s.phase);
  }

  function refresh(s: QueueState, now: number): void {
    if (s.phase === 'early' && sale.queueOpensAt) {
      dyn.opens.textContent = formatDuration((Date.parse(sale.queueOpensAt) - now) / 1000);
    } else if (s.phase === 'queued') {
      // between refreshes (every few seconds far back in line) position and ETA move on with the measured rate
      const p = shownPosition(s, now);
      const eta = shownEta(s, now);
      if (p === undefined) {
        dyn.position.textContent = 'Place saved';
        dyn.caption.textContent = 'Places are drawn at random when the sale starts: everyone who joins before then has the same chance.';
        dyn.eta.textContent = '';
      } else {
        dyn.position.textContent = p <= 1 ? "You're next" : `#${p.toLocaleString('en-US')}`;
        dyn.caption.textContent = p <= 1 ? '' : 'your place in line';
        dyn.eta.textContent = eta === undefined ? 'Estimating your wait…' : `About ${formatDuration(eta)} to go`;
      }
      const pct = Math.round(progress(s, now) * 100);
      dyn.bar.style.width = `${pct}%`;
      dyn.bar.parentElement!.setAttribute('aria-valuenow', String(pct));
    } else if ((s.phase === 'admitted' || s.phase === 'reserving') && s.admissionExpiresAt) {
      dyn.left.textContent = formatDuration((Date.parse(s.admissionExpiresAt) - now) / 1000);
    } else if (s.phase === 'reserved' && s.reservation) {
      dyn.hold.textContent = formatDuration((Date.parse(s.reservation.expiresAt) - now) / 1000);
    }
    const start = Date.parse(sale.startsAt);
    const end = Date.parse(sale.endsAt);
    if (s.phase === 'closed' || now >= end) startEl.textContent = 'Ended';
    else if (now < start) startEl.textContent = `Starts in ${formatDuration((start - now) / 1000)}`;
    else startEl.textContent = `On now · ends in ${formatDuration((end - now) / 1000)}`;
  }

  function buildSignIn(message?: string): void {
    const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: '', placeholder: 'you@example.com' }) as HTMLInputElement;
    const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: '', minlength: '8', placeholder: 'Password (8+ characters)' }) as HTMLInputElement;
    const error = h('p', { class: 'error q-signin-error', role: 'alert' }, message ?? '');
    const form = h('form', { class: 'q-form' }) as HTMLFormElement;
    const submit = (mode: 'login' | 'register') => async (ev?: Event) => {
      ev?.preventDefault();
      if (!form.reportValidity()) return;
      for (const b of form.querySelectorAll('button')) b.setAttribute('disabled', '');
      error.textContent = '';
      try {
        await handlers.signIn(mode, email.value, password.value);
      } catch (err) {
        error.textContent = (err as Error).message;
      } finally {
        for (const b of form.querySelectorAll('button')) b.removeAttribute('disabled');
      }
    };
    form.addEventListener('submit', submit('login'));
    const register = button('Create account', () => void submit('register')(), { class: 'q-register secondary' });
    form.append(
      h('label', {}, 'Email', email),
      h('label', {}, 'Password', password),
      h('div', { class: 'q-actions' }, h('button', { type: 'submit', class: 'q-login' }, 'Sign in'), register),
      error,
    );
    signin.replaceChildren(h('h2', {}, 'Sign in to join the line'), form);
  }

  return {
    update(s, now) {
      const key = `${s.phase}|${s.notice ?? ''}|${s.soldOutFinal}|${s.order?.status ?? ''}`;
      if (key !== shapeKey) {
        shapeKey = key;
        build(s);
      }
      refresh(s, now);
    },
    setConnection(st, signedIn) {
      const parts: Array<Node | string> = [];
      if (st?.kind === 'open') parts.push(h('span', { class: 'q-dot q-live' }), 'Live');
      else if (st?.kind === 'connecting') parts.push(h('span', { class: 'q-dot' }), 'Connecting…');
      else if (st?.kind === 'waiting') {
        const secs = Math.max(1, Math.ceil((st.retryAt - Date.now()) / 1000));
        parts.push(h('span', { class: 'q-dot q-down' }), `Connection lost, retrying in ${secs} s…`);
      }
      if (signedIn) {
        const out = h('a', { href: '#', class: 'q-signout' }, 'Sign out');
        out.addEventListener('click', (ev) => {
          ev.preventDefault();
          handlers.signOut();
        });
        parts.push(parts.length ? ' · ' : '', out);
      }
      conn.replaceChildren(...parts);
    },
    setRemaining(n) {
      remaining = n;
      renderRemaining();
    },
    showSignIn(message) {
      buildSignIn(message);
      signin.hidden = false;
      status.hidden = true;
    },
    hideSignIn() {
      signin.hidden = true;
      status.hidden = false;
      signin.replaceChildren();
    },
  };
}
