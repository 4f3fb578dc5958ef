import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { AppError } from '../infra/errors.js';
import type { Db } from '../infra/db.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number) => Promise<Buffer>;
const KEY_LEN = 32;

/** Stored as scrypt$<salt b64>$<hash b64> (scrypt from node:crypto, default cost N=16384). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEY_LEN);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function checkPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), KEY_LEN);
  const expected = Buffer.from(hash, 'base64');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export async function registerUser(db: Db, email: string, password: string): Promise<string> {
  const passwordHash = await hashPassword(password);
  const { rows } = await db.query(
    `INSERT INTO users (email, password_hash) VALUES ($1, $2)
     ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
    [email, passwordHash],
  );
  if (rows.length === 0) throw new AppError('email_taken', 'an account with this email already exists');
  return String(rows[0].id);
}

/**
 * A hash of a random password no one knows, checked when the email is unknown: that answer then costs the
 * same scrypt as a wrong password for a real account, so timing does not tell which emails have accounts.
 */
let dummyHash: Promise<string> | undefined;

export async function loginUser(db: Db, email: string, password: string): Promise<string> {
  const { rows } = await db.query('SELECT id, password_hash FROM users WHERE lower(email) = lower($1)', [email]);
  const stored = rows.length === 1 ? (rows[0].password_hash as string) : await (dummyHash ??= hashPassword(randomBytes(18).toString('base64')));
  const ok = (await checkPassword(password, stored)) && rows.length === 1;
  if (!ok) throw new AppError('unauthorized', 'wrong email or password');
  return String(rows[0].id);
}

/** The email of a user (null when there is no such user). */
export async function userEmail(db: Db, userId: string): Promise<string | null> {
  const { rows } = await db.query('SELECT email FROM users WHERE id = $1', [userId]);
  return rows[0]?.email ?? null;
}

/** Changes a password after checking the current one (401 when it is wrong). */
export async function changePassword(db: Db, userId: string, currentPassword: string, newPassword: string): Promise<void> {
  const { rows } = await db.query('SELECT password_hash FROM users WHERE id = $1', [userId]);
  if (rows.length === 0 || !(await checkPassword(currentPassword, rows[0].password_hash))) {
    throw new AppError('unauthorized', 'currentPassword: wrong password', 'currentPassword');
  }
  await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, await hashPassword(newPassword)]);
}
