import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import uws, { isNativeUws } from './uws.js';

const require = createRequire(import.meta.url);

describe('uWebSockets.js loading', () => {
  it('runs on the native binding', () => {
    expect(isNativeUws(uws)).toBe(true);
  });

  it('recognises the pure-JS fallback as not native', () => {
    const fallback = require('uWebSockets.js/dist/index.js');
    expect(isNativeUws(fallback)).toBe(false);
  });

  it('refuses to start, loudly, when the package falls back to its JS shim', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "await import('./infra/uws.ts')"], {
      env: { ...process.env, UWS_USE_FALLBACK: '1' },
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/native binding did not load/);
  });
});
