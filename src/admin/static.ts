/**
 * The dashboard's static files: its page and script (src/admin/dashboard/) and uPlot's JS/CSS, served by
 * larder itself from node_modules/uplot/dist (no CDN: the dashboard works offline and leaks nothing).
 * Read once at start; they are small.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticAsset {
  body: Buffer;
  type: string;
}

/** path → asset; empty when the files are not installed (the API keeps working). */
export type DashboardAssets = Map<string, StaticAsset>;

/** Where the dashboard files live: beside this module (src/), or in src/ when running from dist/. */
function dashboardDir(): string | undefined {
  const candidates = [
    fileURLToPath(new URL('./dashboard/', import.meta.url)),
    fileURLToPath(new URL('../../src/admin/dashboard/', import.meta.url)),
  ];
  return candidates.find((d) => existsSync(join(d, 'index.html')));
}

function uplotDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('uplot'));
  } catch {
    return undefined;
  }
}

export function loadDashboardAssets(): DashboardAssets {
  const assets: DashboardAssets = new Map();
  const add = (path: string, file: string, type: string): void => {
    try {
      assets.set(path, { body: readFileSync(file), type });
    } catch {
      // missing file: that path answers 404
    }
  };
  const dir = dashboardDir();
  if (dir) {
    add('/', join(dir, 'index.html'), 'text/html; charset=utf-8');
    add('/dashboard.js', join(dir, 'dashboard.js'), 'text/javascript; charset=utf-8');
  }
  const up = uplotDir();
  if (up) {
    add('/uplot.min.js', join(up, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8');
    add('/uplot.min.css', join(up, 'uPlot.min.css'), 'text/css; charset=utf-8');
  }
  return assets;
}
