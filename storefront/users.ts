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

export async function loginUser(db: Db, email: string, password: string): Promise<string> {
  const { rows } = await db.query('SELECT id, password_hash FROM users WHERE lower(email) = lower($1)', [email]);
  const ok = rows.length === 1 && (await checkPassword(password, rows[0].password_hash));
  if (!ok) throw new AppError('unauthorized', 'wrong email or password');
  return String(rows[0].id);
}
