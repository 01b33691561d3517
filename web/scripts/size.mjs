// npm run size: the compressed size of the built JavaScript. Fails when all of
// dist/assets/*.js, gzipped, weigh more than 300 KB (the budget for the first page load is
// tighter than this: the Playground and Chart.js load later, but they count here too).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const LIMIT = 300 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const assets = join(here, '..', 'dist', 'assets');
const index = join(here, '..', 'dist', 'index.html');

if (!existsSync(assets) || !existsSync(index)) {
  console.error('size: dist/ has no build: run `npm run build` first');
  process.exit(1);
}

const html = readFileSync(index, 'utf8');
// The first load: the scripts index.html loads and preloads.
const initial = new Set([...html.matchAll(/(?:src|href)="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]));
let total = 0;
let first = 0;
const rows = [];
for (const f of readdirSync(assets).filter((f) => f.endsWith('.js')).sort()) {
  const gz = gzipSync(readFileSync(join(assets, f)), { level: 9 }).length;
  total += gz;
  if (initial.has(f)) first += gz;
  rows.push(`${(gz / 1024).toFixed(1).padStart(8)} KB  ${f}${initial.has(f) ? '  (first load)' : ''}`);
}
console.log(rows.join('\n'));
console.log(`${(first / 1024).toFixed(1).padStart(8)} KB  first page load (gzip)`);
console.log(`${(total / 1024).toFixed(1).padStart(8)} KB  all JavaScript (gzip), limit ${LIMIT / 1024} KB`);
if (total > LIMIT) {
  console.error(`size: the JavaScript is ${(total / 1024).toFixed(1)} KB compressed, over the ${LIMIT / 1024} KB budget`);
  process.exit(1);
}
