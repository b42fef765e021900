#!/usr/bin/env node
// Is @inkan/client publishable as it stands in git? Like a packager with a clean
// clone: copies the files git tracks (client-sdk/js and openapi.yaml; no dist/,
// no src/generated/) into a temporary tree whose node_modules is the
// repository's (the root `npm ci`), runs `npm pack` there (which must build
// through `prepack`), and checks the tarball:
//   - it ships dist/ with the ES modules, their declarations, source maps for
//     both (and the sources they point to), README.md and package.json;
//   - publint --strict reports nothing;
//   - @arethetypeswrong/cli (profile esm-only: the package is an ES module
//     only, on purpose) reports nothing.
// Exit 0 when all hold, 1 otherwise; 77 (ctest's skip) when npm or the
// devDependencies are missing, except under CI=true, where that fails.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIPPED = 77;
const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, '..');
const repoRoot = resolve(packageDir, '../..');
const modules = join(repoRoot, 'node_modules');

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  return { status: result.status, out: `${result.stdout ?? ''}${result.stderr ?? ''}`, stdout: result.stdout ?? '' };
}

function missing(what) {
  console.error(`check-package: ${what}`);
  process.exit(process.env.CI === 'true' ? 1 : SKIPPED);
}

const npm = run('npm', ['--version']);
if (npm.status !== 0) missing('npm is not installed');
for (const tool of ['publint', '@arethetypeswrong/cli', 'typescript', 'yaml']) {
  if (!existsSync(join(modules, tool, 'package.json'))) missing(`${tool} is missing: run npm ci in the repository root`);
}

// What a clean clone has: the files git tracks, as they are in the work tree.
const tracked = run('git', ['-C', repoRoot, 'ls-files', '-z', '--', 'client-sdk/js', 'openapi.yaml']);
if (tracked.status !== 0) missing('not a git checkout');
const work = mkdtempSync(join(tmpdir(), 'inkan-sdk-pack-'));
const failures = [];
try {
  const clone = join(work, 'repo');
  for (const file of tracked.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(repoRoot, file))) continue;  // deleted, not yet committed
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(clone, file));
  }
  symlinkSync(modules, join(clone, 'node_modules'), 'dir');
  const cloned = join(clone, 'client-sdk/js');
  if (existsSync(join(cloned, 'dist'))) failures.push('dist/ is tracked by git');

  const pack = run('npm', ['pack', '--json', '--pack-destination', work], { cwd: cloned, env: { ...process.env, npm_config_loglevel: 'error' } });
  if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.out}`);
  // npm 9/10 print an array of reports, npm 11 and later an object keyed by package name.
  const parsed = JSON.parse(pack.stdout.slice(pack.stdout.search(/[[{]/)));
  const report = Array.isArray(parsed) ? parsed[0] : Object.values(parsed)[0];
  const files = new Set(report.files.map((f) => f.path));
  console.log(`${report.filename}: ${files.size} files, ${report.size} bytes`);
  const expected = ['package.json', 'README.md'];
  for (const module of ['index', 'client', 'errors', 'events', 'sse', 'bytes', 'diagnose', 'generated/openapi']) {
    expected.push(`dist/${module}.js`, `dist/${module}.js.map`, `dist/${module}.d.ts`, `dist/${module}.d.ts.map`, `src/${module}.ts`);
  }
  for (const file of expected) if (!files.has(file)) failures.push(`the tarball lacks ${file}`);
  for (const file of files) if (/^(test|scripts)\//.test(file)) failures.push(`the tarball ships ${file}`);

  const tarball = join(work, report.filename);
  const publint = run(process.execPath, [join(modules, 'publint/src/cli.js'), 'run', '--strict', '--level', 'suggestion', tarball]);
  console.log(publint.out.trim());
  if (publint.status !== 0 || /suggestion|warning|error/i.test(publint.out.replace(/No issues found/i, ''))) failures.push('publint reports findings');
  const attw = run(process.execPath, [join(modules, '@arethetypeswrong/cli/dist/index.js'), '--profile', 'esm-only', '--no-emoji', '--format', 'table', tarball]);
  console.log(attw.out.trim());
  if (attw.status !== 0) failures.push('@arethetypeswrong/cli reports problems');
} catch (e) {
  failures.push(e.message);
} finally {
  rmSync(work, { recursive: true, force: true });
}
for (const failure of failures) console.error(`check-package: ${failure}`);
if (!failures.length) console.log('@inkan/client: npm pack from a clean checkout ships the built package; publint and attw report nothing');
process.exit(failures.length ? 1 : 0);
