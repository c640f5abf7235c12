#!/usr/bin/env node
// In a checkout (src/ present) the CLI runs the TypeScript sources through tsx, so a dist/ left by
// an earlier `npm pack` can never run stale code; the installed package ships only dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'src', 'cli', 'main.ts');
const built = path.join(root, 'dist', 'cli', 'main.js');

async function loadTsx() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined; // a checkout installed without dev dependencies: use dist/ if it is there
  }
}

// A test run transpiles src/ once (test/helpers/prebuild.ts) and names that build here, so its many
// CLI children skip tsx; the run made it from the current sources and removes it when it ends.
const prebuilt = process.env.ACTMAX_PREBUILT ? path.join(process.env.ACTMAX_PREBUILT, 'cli', 'main.js') : undefined;
const fromPrebuilt = existsSync(source) && prebuilt !== undefined && existsSync(prebuilt);
const tsx = existsSync(source) && !fromPrebuilt ? await loadTsx() : undefined;
let mod;
if (fromPrebuilt) {
  mod = await import(pathToFileURL(prebuilt).href);
} else if (tsx) {
  mod = await tsx.tsImport(pathToFileURL(source).href, import.meta.url);
} else if (existsSync(built)) {
  mod = await import(pathToFileURL(built).href);
} else {
  process.stderr.write('actmax: neither dist/cli/main.js nor src/ with tsx was found — run `npm run build` (or `npm ci` in a checkout)\n');
  process.exit(2);
}
process.exitCode = await mod.runCli(process.argv.slice(2));
