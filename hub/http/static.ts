// Serves the web page: its own files and the chart library, with a strict content security policy.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { packageRoot } from '../../common/paths.js';
import { SECURITY_HEADERS } from './respond.js';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The page's script, as ES modules: app.js and what it imports. */
const PAGE_MODULES = [
  'app.js', 'admin.js', 'api.js', 'catalog.js', 'charts.js', 'deep-link.js', 'dom.js', 'experiment.js', 'experiment-fields.js', 'experiment-form.js',
  'experiments.js', 'fleet.js', 'host-loss.js', 'hosts.js', 'live.js', 'nav.js', 'session.js', 'view-kit.js',
];

/** URL path -> file. A fixed table: nothing outside it can be asked for. */
function files(): Record<string, string> {
  const root = packageRoot();
  const page = path.join(root, 'hub', 'page');
  // A release carries the chart library in vendor/; a checkout has it in node_modules.
  const vendored = path.join(root, 'vendor', 'uplot');
  const uplot = existsSync(vendored) ? vendored : path.join(root, 'node_modules', 'uplot', 'dist');
  return {
    '/': path.join(page, 'index.html'),
    '/index.html': path.join(page, 'index.html'),
    ...Object.fromEntries(PAGE_MODULES.map((name) => [`/${name}`, path.join(page, name)])),
    '/style.css': path.join(page, 'style.css'),
    '/vendor/uplot.js': path.join(uplot, 'uPlot.iife.min.js'),
    '/vendor/uplot.css': path.join(uplot, 'uPlot.min.css'),
  };
}

let table: Record<string, string> | null = null;

export async function servePage(pathname: string, res: ServerResponse): Promise<boolean> {
  table ??= files();
  const file = table[pathname];
  if (file === undefined) return false;
  const body = await readFile(file);
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    ...SECURITY_HEADERS,
  });
  res.end(body);
  return true;
}
