import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Asset {
  body: Buffer;
  type: string;
}

/** The checkout or image root: the nearest folder above this module that holds package.json. */
function packageRoot(): string | null {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir;
  return null;
}

/**
 * Our own files: next to this module under ts-jest (or when copied there), else under the
 * package root's src/ (`npm run build`, the image, and builds into other out dirs).
 */
function ownAssetsDir(): string {
  const root = packageRoot();
  const candidates = [join(__dirname, 'assets'), ...(root ? [join(root, 'src/progress/dashboard/assets')] : [])];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!found) throw new Error(`dashboard assets not found in ${candidates.join(' or ')}`);
  return found;
}

/** uPlot's browser build, served from node_modules: no CDN (and no internet) needed. */
function uplotDistDir(): string {
  return join(dirname(require.resolve('uplot/package.json')), 'dist');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ico': 'image/x-icon',
};

function load(path: string): Asset {
  return { body: readFileSync(path), type: TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream' };
}

/** Every file the dashboard serves, read once at start (a fixed list: nothing else is reachable). */
export function loadDashboardAssets(): { index: Asset; favicon: Asset; files: Map<string, Asset> } {
  const own = ownAssetsDir();
  const uplot = uplotDistDir();
  const files = new Map<string, Asset>([
    ['format.js', load(join(own, 'format.js'))],
    ['charts.js', load(join(own, 'charts.js'))],
    ['app.js', load(join(own, 'app.js'))],
    ['app.css', load(join(own, 'app.css'))],
    ['uPlot.iife.min.js', load(join(uplot, 'uPlot.iife.min.js'))],
    ['uPlot.min.css', load(join(uplot, 'uPlot.min.css'))],
  ]);
  return { index: load(join(own, 'index.html')), favicon: load(join(own, 'favicon.ico')), files };
}
