/**
 * A console form from a list of fields, each named by its path in the API body (`admission.batchSize`), so
 * the field an API validation error names (`{"error":{"field":...}}`) gets the message beside it.
 */
import { ApiError, errorField, h } from './admin.js';

export interface FieldSpec {
  /** Path in the request body. */
  name: string;
  label: string;
  kind: 'text' | 'int' | 'number' | 'money' | 'datetime' | 'bool' | 'select' | 'textarea';
  value?: string;
  hint?: string;
  required?: boolean;
  options?: Array<[value: string, label: string]>;
}

export interface ConsoleForm {
  el: HTMLFormElement;
  /** The body built from the filled-in fields (blank optional fields left out). */
  body(): Record<string, unknown>;
  showError(err: unknown): void;
  clearErrors(): void;
  setOptions(name: string, options: Array<[string, string]>): void;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
  o[parts[parts.length - 1]] = value;
}

export function consoleForm(title: string, fields: FieldSpec[], submitLabel: string, testId: string): ConsoleForm {
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>();
  const errors = new Map<string, HTMLElement>();
  const formError = h('p', { class: 'error', role: 'alert', 'data-testid': `${testId}-error` });
  const grid = h('div', { class: 'form-grid' });
  for (const f of fields) {
    let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    if (f.kind === 'select') {
      input = h('select', { name: f.name }) as HTMLSelectElement;
      for (const [v, l] of f.options ?? []) input.append(h('option', { value: v }, l));
    } else if (f.kind === 'textarea') {
      input = h('textarea', { name: f.name, rows: '2' }) as HTMLTextAreaElement;
    } else {
      const type = f.kind === 'bool' ? 'checkbox' : f.kind === 'datetime' ? 'datetime-local' : f.kind === 'text' ? 'text' : 'number';
      input = h('input', { name: f.name, type }) as HTMLInputElement;
      if (f.kind === 'int') input.setAttribute('step', '1');
      if (f.kind === 'money') input.setAttribute('step', '0.01');
      if (f.kind === 'number') input.setAttribute('step', 'any');
      if (f.kind === 'datetime') input.setAttribute('step', '1');
    }
    input.setAttribute('data-field', f.name);
    if (f.kind === 'bool') (input as HTMLInputElement).checked = f.value === 'true';
    else if (f.value !== undefined) input.value = f.value;
    inputs.set(f.name, input);
    const err = h('span', { class: 'field-error error', 'data-error-for': f.name });
    errors.set(f.name, err);
    grid.append(
      h(
        'label',
        { class: `field${f.kind === 'bool' ? ' check' : ''}` },
        h('span', { class: 'field-label' }, f.label, f.required ? '' : h('small', { class: 'muted' }, ' optional')),
        input,
        f.hint ? h('small', { class: 'muted' }, f.hint) : '',
        err,
      ),
    );
  }
  const submit = h('button', { type: 'submit', 'data-testid': `${testId}-submit` }, submitLabel);
  const el = h('form', { class: 'card console-form', 'data-testid': testId, novalidate: '' }, h('h2', {}, title), grid, h('div', { class: 'row' }, submit), formError) as HTMLFormElement;

  const clearErrors = () => {
    formError.textContent = '';
    for (const e of errors.values()) e.textContent = '';
    for (const i of inputs.values()) i.removeAttribute('aria-invalid');
  };
  return {
    el,
    body() {
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        const input = inputs.get(f.name)!;
        const raw = input.value.trim();
        if (f.kind === 'bool') setPath(out, f.name, (input as HTMLInputElement).checked);
        else if (raw === '' && !f.required) continue;
        else if (f.kind === 'int' || f.kind === 'number') setPath(out, f.name, raw === '' ? null : Number(raw));
        else if (f.kind === 'money') setPath(out, f.name, raw === '' ? null : Math.round(Number(raw) * 100));
        else if (f.kind === 'datetime') setPath(out, f.name, raw === '' ? null : new Date(raw).toISOString());
        else setPath(out, f.name, raw);
      }
      return out;
    },
    showError(err) {
      clearErrors();
      const field = errorField(err);
      const message = err instanceof ApiError ? err.message : 'The server did not answer. Try again.';
      const target = field ? errors.get(field) : undefined;
      if (target) {
        // "quantity: only 3 units are free" -> "only 3 units are free" beside the quantity field.
        target.textContent = message.startsWith(`${field}: `) ? message.slice(field!.length + 2) : message;
        inputs.get(field!)!.setAttribute('aria-invalid', 'true');
        inputs.get(field!)!.focus();
      } else formError.textContent = message;
    },
    clearErrors,
    setOptions(name, options) {
      const sel = inputs.get(name) as HTMLSelectElement;
      const keep = sel.value;
      sel.replaceChildren(...options.map(([v, l]) => h('option', { value: v }, l)));
      if (options.some(([v]) => v === keep)) sel.value = keep;
    },
  };
}
