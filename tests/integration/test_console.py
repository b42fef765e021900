"""The local console (https://127.0.0.1:PORT/) in Debian's Chromium.

Starts the real stack, makes a scratch HOME whose NSS database trusts inkand's
local CA (certutil, as a user's browser would), and runs the browser test
tests/e2e/console.test.mjs (node:test + playwright-core) against it: first
without a login, then logged in through `inkan console --print`'s address.
Screenshots land in <build>/test-artifacts/screenshots/.
"""

import os
import shutil
import subprocess
import unittest
from pathlib import Path

from harness import ARTIFACTS, BIN_DIR, DEMO_PIN, StackTestCase

REPO = Path(__file__).resolve().parents[2]
E2E = REPO / "tests" / "e2e"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
NSS_NAME = "inkan local CA"


def run(*args, **kw):
    result = subprocess.run(args, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


class ConsoleInChromiumTest(StackTestCase):
    # In the virtual reader with a PIN pad, which the console marks; everything
    # else in the console works the same in any reader.
    pinpad_reader = True

    @classmethod
    def setUpClass(cls):
        # Installed by scripts/install-deps.sh and `npm ci` (make build): a
        # missing piece is a broken set-up, not a reason to skip.
        missing = [what for what, ok in (
            ("node", shutil.which("node")),
            ("certutil (libnss3-tools)", shutil.which("certutil")),
            (f"{CHROMIUM} (Debian package chromium)", CHROMIUM.exists()),
            ("playwright-core (npm ci)", (REPO / "node_modules" / "playwright-core").exists()),
        ) if not ok]
        if missing:
            raise AssertionError("the console test needs " + ", ".join(missing))
        super().setUpClass()

    def test_console_in_chromium(self):
        home = self.work / "home"
        nssdb = home / ".pki" / "nssdb"
        nssdb.mkdir(parents=True)
        run("certutil", "-N", "--empty-password", "-d", f"sql:{nssdb}")
        run("certutil", "-A", "-d", f"sql:{nssdb}", "-t", "C,,", "-n", NSS_NAME, "-i", str(self.daemon.ca_file))
        self.assertIn(NSS_NAME, run("certutil", "-L", "-d", f"sql:{nssdb}").stdout)

        env = dict(
            os.environ,
            HOME=str(home),  # Chromium reads $HOME/.pki/nssdb
            INKAN_CONSOLE_URL=f"https://127.0.0.1:{self.daemon.port}/",
            INKAN_CARD_ID=self.card_id,
            INKAN_PIN=DEMO_PIN,
            INKAN_VCARD_PID=str(self.vcard.proc.pid),
            SCREENSHOT_DIR=str(ARTIFACTS / "screenshots"),
            E2E_WORK_DIR=str(self.work),
            CHROMIUM=str(CHROMIUM),
            # The console logs in with the address `inkan console --print` prints.
            INKAN_CLI=str(BIN_DIR / "inkan"),
            INKAN_CLI_STATE_DIR=str(self.daemon.state),
            INKAN_PORT=str(self.daemon.port),
        )
        result = subprocess.run([shutil.which("node"), "--test", "--test-reporter=spec", str(E2E / "console.test.mjs")],
                                cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, f"console.test.mjs failed:\n{result.stdout}\n{result.stderr}\n"
                                               f"inkand log:\n{self.daemon.output()[-4000:]}")

        # The PIN was changed through the console and back: the card is as before.
        self.wait_for_card()
        pin = self.pin_status()
        self.assertFalse(pin["blocked"])
        self.assertEqual(pin["triesLeft"], 10)
        for name in ("console-login", "console-login-en", "console", "console-card-removed", "console-pin-incorrect", "console-en"):
            self.assertTrue((ARTIFACTS / "screenshots" / f"{name}.png").exists(), name)


if __name__ == "__main__":
    unittest.main()
