// A test that needs something the machine may lack (a tool, a package): skip it
// where that is missing, so `node --test` reports a skip (and ctest shows the
// suite as skipped), but fail it under CI=true, where the run installs every
// dependency itself and a missing one is a broken set-up.
import assert from 'node:assert/strict';

export function requireOrSkip(t, available, what) {
  if (available) return true;
  if (process.env.CI === 'true') assert.fail(`${what} (CI=true: a missing dependency fails the run)`);
  t.skip(what);
  return false;
}
