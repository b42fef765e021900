// The published declarations are usable from TypeScript: test/types/consumer.ts
// type-checks against dist/index.d.ts (and its deliberate misuses are errors).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

import { requireOrSkip } from '../require.mjs';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const consumer = fileURLToPath(new URL('../types/consumer.ts', import.meta.url));

it('a TypeScript portal type-checks against dist/index.d.ts', (t) => {
  let tsc;
  try {
    tsc = createRequire(`${repoRoot}package.json`).resolve('typescript/bin/tsc');
  } catch {
    // Left undefined: reported below.
  }
  if (!requireOrSkip(t, tsc, 'typescript is not installed (npm ci in the repository root)')) return;
  const result = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'ES2020', '--module', 'ES2020',
    '--moduleResolution', 'Bundler', '--lib', 'ES2022,DOM,DOM.Iterable', consumer], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
