import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Reply, Route } from '../infra/http.js';
import type { Page } from '../infra/part.js';

/**
 * The shopper pages: each `ui/pages/<name>.ts` is bundled by esbuild (in memory, at start-up) to
 * `/assets/<name>.js`; `ui/style.css` is served as `/assets/style.css`. A page route answers with a small
 * HTML shell that loads one bundle. No framework: pages render with the DOM and `ui/lib/*.ts` helpers.
 */
const uiDir = fileURLToPath(new URL('./', import.meta.url));

export type Assets = Map<string, { type: string; body: Buffer }>;

export async function buildUi(): Promise<Assets> {
  const entries = readdirSync(`${uiDir}pages`).filter((f) => f.endsWith('.ts'));
  const result = await build({
    entryPoints: entries.map((f) => `${uiDir}pages/${f}`),
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2020',
    minify: true,
    outdir: '/assets',
    logLevel: 'silent',
  });
  const assets: Assets = new Map();
  for (const file of result.outputFiles) {
    assets.set(`/assets/${file.path.split('/').pop()}`, { type: 'text/javascript; charset=utf-8', body: Buffer.from(file.contents) });
  }
  assets.set('/assets/style.css', { type: 'text/css; charset=utf-8', body: readFileSync(`${uiDir}style.css`) });
  return assets;
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function pageHtml(page: Page): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(page.title)}</title>
<link rel="stylesheet" href="/assets/style.css">
</head><body><div id="app"></div>
<script type="module" src="/assets/${escape(page.script)}.js"></script>
</body></html>`;
}

/** Routes for the bundles and for each page's shell. */
export function uiRoutes(assets: Assets, pages: Page[]): Route[] {
  const assetRoute: Route = {
    method: 'get',
    path: '/assets/:file',
    handler: (req): Reply => {
      const asset = assets.get(`/assets/${req.params.file}`);
      if (!asset) return { status: 404, raw: 'not found', headers: { 'content-type': 'text/plain' } };
      return { status: 200, raw: asset.body, headers: { 'content-type': asset.type, 'cache-control': 'no-cache' } };
    },
  };
  return [
    assetRoute,
    ...pages.map((page): Route => {
      const html = pageHtml(page);
      return { method: 'get', path: page.path, handler: () => ({ status: 200, raw: html, headers: { 'content-type': 'text/html; charset=utf-8' } }) };
    }),
  ];
}
