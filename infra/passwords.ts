import { dictionary } from '@zxcvbn-ts/language-common';
import { AppError } from './errors.js';

/**
 * Password rules at sign-up and password change: 8 to 200 characters; not one of the ~49,000 most common
 * passwords (the list of @zxcvbn-ts/language-common, a maintained npm package), compared without case;
 * and not trivial: at least 8 characters that are not spaces, at least 5 different characters, not a run
 * of consecutive characters (`12345678`, `abcdefgh`, `98765432`), not the email address or its name part.
 */
const common = new Set<string>((dictionary as Record<string, string[]>)['passwords-common'].map((p) => p.toLowerCase()));

function isRun(s: string): boolean {
  if (s.length < 3) return false;
  const step = s.charCodeAt(1) - s.charCodeAt(0);
  if (step !== 1 && step !== -1) return false;
  for (let i = 2; i < s.length; i++) if (s.charCodeAt(i) - s.charCodeAt(i - 1) !== step) return false;
  return true;
}

/** The reason a password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, email?: string): string | null {
  if (password.length < 8) return 'must be at least 8 characters';
  if (password.length > 200) return 'must be at most 200 characters';
  const compact = password.replace(/\s+/g, '');
  if (compact.length < 8) return 'must have at least 8 characters that are not spaces';
  const lower = password.toLowerCase();
  if (new Set(lower).size < 5) return 'is too simple: use at least 5 different characters';
  if (isRun(lower) || isRun(compact.toLowerCase())) return 'is too simple: a run of consecutive characters';
  if (common.has(lower) || common.has(compact.toLowerCase())) return 'is one of the most common passwords';
  if (email) {
    const e = email.trim().toLowerCase();
    const name = e.split('@')[0];
    if (lower === e || lower === name || (name.length >= 4 && lower.includes(name))) return 'must not contain your email address';
  }
  return null;
}

/** 400 weak_password naming `field` when the password is refused. */
export function assertStrongPassword(password: string, email: string | undefined, field = 'password'): void {
  const problem = passwordProblem(password, email);
  if (problem) throw new AppError('weak_password', `${field}: ${problem}`, field);
}
