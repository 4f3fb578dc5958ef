import { startEngine, type Engine } from '../gateway/server.js';
import { createTestWorld, type TestWorld } from './harness.js';
import type { Config } from '../infra/config.js';

/** A test world with the whole engine listening on a random port. */
export interface TestEngine extends TestWorld {
  engine: Engine;
  url: string;
  /** fetch against the engine; JSON bodies are stringified. */
  api: (method: string, path: string, opts?: { body?: unknown; token?: string; headers?: Record<string, string> }) => Promise<{ status: number; body: any; headers: Headers }>;
}

/** fetch against a running gateway at `url`; JSON bodies are stringified, JSON answers parsed. */
export function apiClient(url: string): TestEngine['api'] {
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

export async function startTestEngine(overrides: Partial<Config> = {}, background = true): Promise<TestEngine> {
  const world = await createTestWorld(overrides);
  const engine = await startEngine(world.ctx, { host: '127.0.0.1', port: 0, background });
  const url = `http://127.0.0.1:${engine.port}`;
  const api = apiClient(url);
  return {
    ...world,
    engine,
    url,
    api,
    cleanup: async () => {
      await engine.stop();
      await world.cleanup();
    },
  };
}
