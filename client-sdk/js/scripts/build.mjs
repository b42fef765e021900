#!/usr/bin/env node
// Builds @inkan/client: generates src/generated/openapi.ts from the repository's
// openapi.yaml, then compiles src/ to dist/ (ES module + .d.ts) with TypeScript.
// Run by `make build` (CMake target inkan_client_js) and by `npm run build`.
//
// TypeScript is a development dependency of the repository root (package.json
// there; `npm ci` installs it); the package itself has no dependencies.

import { spawnSync } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, '..');
const repoRoot = resolve(packageDir, '../..');
const openapi = process.env.INKAN_OPENAPI ?? resolve(repoRoot, 'openapi.yaml');

function run(args, what) {
  const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: packageDir });
  if (result.status !== 0) throw new Error(`${what} failed`);
}

let tsc;
try {
  tsc = createRequire(resolve(repoRoot, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  console.error('@inkan/client: TypeScript is missing: run `npm ci` in the repository root (make build does)');
  process.exit(1);
}

function build() {
  run([resolve(here, 'generate-types.mjs'), openapi, resolve(packageDir, 'src/generated/openapi.ts')], 'generating types from openapi.yaml');

  // Compile into a fresh directory and swap it in: dist/ never holds a module
  // removed from src/, and a page or test reading dist/ meanwhile (several build
  // directories share this source tree) sees the old or the new build, not half of one.
  const dist = resolve(packageDir, 'dist');
  const staging = resolve(packageDir, `.dist-${process.pid}`);
  const retired = resolve(packageDir, `.dist-old-${process.pid}`);
  try {
    run([tsc, '-p', resolve(packageDir, 'tsconfig.json'), '--outDir', staging], 'compiling TypeScript');
    try { renameSync(dist, retired); } catch { /* no previous build */ }
    renameSync(staging, dist);
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(retired, { recursive: true, force: true });
  }
}

try {
  build();
} catch (e) {
  console.error(`@inkan/client: ${e.message}`);
  process.exit(1);
}
