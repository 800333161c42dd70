#!/usr/bin/env node
// Prints the gzip size of every file the build wrote to dist/assets and fails when the main
// bundle (what index.html loads before the first paint) is over the budget.
//
//   npm run size                  # after npm run build
//   node scripts/bundle-size.mjs --budget-kb 200 --dist dist
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const dist = option("--dist", "dist");
const budgetKb = Number(option("--budget-kb", "200"));
if (!Number.isFinite(budgetKb) || budgetKb <= 0) {
  console.error(`bundle-size: --budget-kb must be a positive number, got ${option("--budget-kb", "")}`);
  process.exit(2);
}

let html;
try {
  html = readFileSync(join(dist, "index.html"), "utf8");
} catch {
  console.error(`bundle-size: ${join(dist, "index.html")} is missing: run \`npm run build\` first`);
  process.exit(2);
}

// The files index.html itself loads: the entry script, its preloaded imports and the CSS.
const initial = new Set([...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.(?:js|css))"/g)].map((match) => match[1]));

const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(js|css)$/.test(name)) files.push(path);
  }
}
walk(join(dist, "assets"));

const kb = (bytes) => (bytes / 1000).toFixed(2).padStart(9);
const rows = files
  .map((path) => {
    const body = readFileSync(path);
    const name = relative(dist, path);
    return { name, raw: body.length, gzip: gzipSync(body, { level: 9 }).length, initial: initial.has(name) };
  })
  .toSorted((a, b) => Number(b.initial) - Number(a.initial) || b.gzip - a.gzip);

const width = Math.max(...rows.map((row) => row.name.length), 10);
console.log(`${"asset".padEnd(width)}  ${"raw kB".padStart(9)}  ${"gzip kB".padStart(9)}  loaded`);
for (const row of rows) {
  console.log(`${row.name.padEnd(width)}  ${kb(row.raw)}  ${kb(row.gzip)}  ${row.initial ? "first paint" : "lazily"}`);
}

const mainJs = rows.filter((row) => row.initial && row.name.endsWith(".js")).reduce((sum, row) => sum + row.gzip, 0);
const mainCss = rows.filter((row) => row.initial && row.name.endsWith(".css")).reduce((sum, row) => sum + row.gzip, 0);
const lazy = rows.filter((row) => !row.initial).reduce((sum, row) => sum + row.gzip, 0);
console.log("");
console.log(`main bundle (JS loaded by index.html): ${kb(mainJs).trim()} kB gzip (budget ${budgetKb} kB)`);
console.log(`main CSS: ${kb(mainCss).trim()} kB gzip; lazily loaded chunks (charts): ${kb(lazy).trim()} kB gzip`);

if (mainJs === 0) {
  console.error("bundle-size: index.html loads no script from assets/: is this a Vite build?");
  process.exit(1);
}
if (mainJs > budgetKb * 1000) {
  console.error(`bundle-size: the main bundle is ${kb(mainJs).trim()} kB gzip, over the ${budgetKb} kB budget`);
  process.exit(1);
}
