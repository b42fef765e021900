"""The local console (https://127.0.0.1:PORT/) in Debian's Chromium.

Starts the real stack — its card holds a leaf of the test PKI, with the OCSP
responder and CRL server running and inkand trusting the PKI's root, so that
the console's validity check and self-test have one known answer — makes a
scratch HOME whose NSS database trusts inkand's local CA (certutil, as a
user's browser would), and runs the browser test tests/e2e/console.test.mjs
(node:test + playwright-core) against it: first without a login, then logged
in through `inkan console --print`'s address. Screenshots land in
<build>/test-artifacts/screenshots/.
"""

import json
import os
import subprocess
import unittest

from harness import (ARTIFACTS, BIN_DIR, CHROMIUM, DEMO_PIN, JPKI_CARD_ARGS, JPKI_DEMO_AUTH_PIN, REPO, StackTestCase,
                     browser_home, require_browser, run_node_tests)
from pki_stack import CORPORATE_NAME, REGISTERED_NUMBER, CertificateStackTestCase

E2E = REPO / "tests" / "e2e"
NSS_NAME = "inkan local CA"


def run(*args, **kw):
    result = subprocess.run(args, capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


class ConsoleInChromiumTest(CertificateStackTestCase):
    # In the virtual reader with a PIN pad, which the console marks; everything
    # else in the console works the same in any reader.
    pinpad_reader = True

    @classmethod
    def setUpClass(cls):
        require_browser()
        super().setUpClass()

    def test_console_in_chromium(self):
        home, nssdb = browser_home(self.work)
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
            # What the card's certificate says (the test PKI's "good" leaf) and
            # what its checks find: valid, per the OCSP responder.
            INKAN_CORPORATE_NAME=CORPORATE_NAME,
            INKAN_REGISTERED_NUMBER=REGISTERED_NUMBER,
            INKAN_OCSP_URL=self.pki.ocsp_url,
            # The console logs in with the address `inkan console --print` prints.
            INKAN_CLI=str(BIN_DIR / "inkan"),
            INKAN_CLI_STATE_DIR=str(self.daemon.state),
            INKAN_PORT=str(self.daemon.port),
        )
        run_node_tests([E2E / "console.test.mjs"], cwd=REPO, env=env, log_name="console-tests.log", timeout=300,
                       context=lambda: f"--- inkand ---\n{self.daemon.output()[-4000:]}")

        # The PIN was changed through the console and back: the card is as before.
        self.wait_for_card()
        pin = self.pin_status()
        self.assertFalse(pin["blocked"])
        self.assertEqual(pin["triesLeft"], 10)
        for name in ("console-login", "console-login-en", "console", "console-card-removed", "console-pin-incorrect",
                     "console-en"):
            self.assertTrue((ARTIFACTS / "screenshots" / f"{name}.png").exists(), name)


class ConsoleWithJpkiCardTest(StackTestCase):
    """The console with the virtual My Number card: both PINs, each with its own rule."""
    vcard_args = JPKI_CARD_ARGS

    @classmethod
    def setUpClass(cls):
        require_browser()
        super().setUpClass()

    def test_console_with_the_jpki_card_in_chromium(self):
        home, nssdb = browser_home(self.work)
        run("certutil", "-A", "-d", f"sql:{nssdb}", "-t", "C,,", "-n", NSS_NAME, "-i", str(self.daemon.ca_file))
        env = dict(
            os.environ,
            HOME=str(home),
            INKAN_CONSOLE_URL=f"https://127.0.0.1:{self.daemon.port}/",
            INKAN_CARD_ID=self.card_id,
            INKAN_AUTH_PIN=JPKI_DEMO_AUTH_PIN,
            SCREENSHOT_DIR=str(ARTIFACTS / "screenshots"),
            E2E_WORK_DIR=str(self.work),
            CHROMIUM=str(CHROMIUM),
            INKAN_CLI=str(BIN_DIR / "inkan"),
            INKAN_CLI_STATE_DIR=str(self.daemon.state),
            INKAN_PORT=str(self.daemon.port),
        )
        run_node_tests([E2E / "console-jpki.test.mjs"], cwd=REPO, env=env, log_name="console-jpki-tests.log", timeout=300,
                       context=lambda: f"--- inkand ---\n{self.daemon.output()[-4000:]}")
        # The auth PIN was changed through the console and back; one wrong try was made good again.
        state = json.loads((self.vcard.state / "jpki-card.json").read_text())
        self.assertEqual({name: pin["triesLeft"] for name, pin in state["pins"].items()}, {"auth": 3, "sign": 5})
        r = self.client.post(f"/v1/cards/{self.card_id}/pins/auth/verify", {"pin": JPKI_DEMO_AUTH_PIN})
        self.assertEqual(r.status, 200, r)
        for name in ("console-jpki", "console-jpki-auth-incorrect", "console-jpki-en"):
            self.assertTrue((ARTIFACTS / "screenshots" / f"{name}.png").exists(), name)


if __name__ == "__main__":
    unittest.main()
