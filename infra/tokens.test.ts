import { describe, expect, it } from 'vitest';
import { signToken, verifyToken } from './tokens.js';

const secret = 'test-secret';
const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('signed tokens', () => {
  it('verifies its own tokens and returns the claims', () => {
    const t = signToken({ k: 'usr', sub: '42', exp: inOneHour() }, secret);
    expect(verifyToken(t, secret, 'usr')?.sub).toBe('42');
  });

  it('refuses forged, re-signed, expired, other-kind and malformed tokens', () => {
    const good = signToken({ k: 'usr', sub: '42', exp: inOneHour() }, secret);
    const [body, sig] = good.split('.');
    const tampered = Buffer.from(JSON.stringify({ k: 'usr', sub: '1', exp: inOneHour() })).toString('base64url');
    expect(verifyToken(`${tampered}.${sig}`, secret, 'usr')).toBeNull();
    expect(verifyToken(signToken({ k: 'usr', sub: '42', exp: inOneHour() }, 'other-secret'), secret, 'usr')).toBeNull();
    expect(verifyToken(signToken({ k: 'usr', sub: '42', exp: Math.floor(Date.now() / 1000) - 1 }, secret), secret, 'usr')).toBeNull();
    expect(verifyToken(good, secret, 'adm')).toBeNull();
    for (const bad of ['', '.', 'abc', `${body}.`, `.${sig}`, 'x'.repeat(5000), `${body}.${sig}x`]) {
      expect(verifyToken(bad, secret, 'usr')).toBeNull();
    }
  });
});
