/**
 * Dashboard assets: read once at startup into an in-memory whitelist. Requests only look names up in this
 * map; no part of a request path ever reaches the filesystem.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  contentType: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export const DEFAULT_DASHBOARDS_DIR = fileURLToPath(new URL('../../dashboards/', import.meta.url));
/** Plain ES modules used by both the server and the dashboard (src/shared), served at /shared/<name>.js. */
const SHARED_DIR = fileURLToPath(new URL('../shared/', import.meta.url));

/**
 * url path -> asset. `/` is index.html; uPlot is served at /vendor/uplot.js and /vendor/uplot.css, the shared
 * modules at /shared/*.js.
 */
export function loadAssets(dir: string = DEFAULT_DASHBOARDS_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    const file = join(dir, name);
    if (!type || !/^[A-Za-z0-9._-]+$/.test(name) || !statSync(file).isFile()) continue;
    assets.set(`/${name}`, { contentType: type, body: readFileSync(file) });
  }
  // the modules the server and the browser share (the event fold, coordinates, findings...), served as-is
  for (const name of readdirSync(SHARED_DIR)) {
    if (extname(name) !== '.js' || !/^[A-Za-z0-9._-]+$/.test(name)) continue;
    assets.set(`/shared/${name}`, { contentType: TYPES['.js'], body: readFileSync(join(SHARED_DIR, name)) });
  }
  const index = assets.get('/index.html');
  if (index) assets.set('/', index);
  const require = createRequire(import.meta.url);
  assets.set('/vendor/uplot.js', {
    contentType: TYPES['.js'],
    body: readFileSync(require.resolve('uplot/dist/uPlot.esm.js')),
  });
  assets.set('/vendor/uplot.css', {
    contentType: TYPES['.css'],
    body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')),
  });
  return assets;
}
