// Debian's Chromium for the browser tests, as installed (never a downloaded
// browser), in a fresh profile under the test's work directory. Certificate
// errors are NOT ignored: trust comes from the NSS database under $HOME, the
// path users get with `inkan trust install`.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

/** The value of environment variable `name`; `runner` is the Python test that sets it. */
export function required(name, runner) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through ${runner}`);
  return value;
}

/** A persistent Chromium context in a new profile under `workDir`. */
export async function launchChromium({ workDir, executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium',
                                       extraArgs = [], viewport }) {
  const userDataDir = mkdtempSync(join(workDir, 'chromium-profile-'));
  return chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', ...extraArgs,
    ],
    viewport,
    locale: 'ja-JP',
    ignoreHTTPSErrors: false,
  });
}
