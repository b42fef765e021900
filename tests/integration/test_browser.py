"""The example portal in a real browser: Debian's Chromium driven by playwright-core.

This module starts the stack with two allowlisted origins, https://portal.test:PORT (the
page sends the PIN) and https://pad.test:PORT (the PIN is typed on the reader's PIN pad:
the card sits in tools/vpinpad, the virtual PIN pad reader), makes a test CA and a
certificate for portal.test, pad.test and evil.test, and an NSS database
under a scratch HOME that trusts the test CA (certutil) and inkand's local CA
(`inkan trust install --nssdb`, the way users get it). Then tests/e2e/portal.test.mjs
serves the page on both names and drives Chromium through it. Screenshots go to
$INKAN_BUILD_DIR/test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import unittest
from pathlib import Path

from harness import (ARTIFACTS, BIN_DIR, CHROMIUM, DEMO_PIN, REPO, StackTestCase, browser_home, free_port,
                     require_browser, run_node_tests)

E2E = REPO / "tests" / "e2e"
PORTAL_PORT = free_port()
PORTAL_ORIGIN = f"https://portal.test:{PORTAL_PORT}"
PAD_ORIGIN = f"https://pad.test:{PORTAL_PORT}"
NODE_TIMEOUT = 420
NSS_CA_NAME = "inkan test portal CA"


def run(*args, **kw):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True, **kw)


def make_portal_pki(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for portal.test, pad.test and evil.test (openssl)."""
    ca_key, ca_pem = directory / "portal-ca.key", directory / "portal-ca.pem"
    key, csr, pem = directory / "portal.key", directory / "portal.csr", directory / "portal.pem"
    ext = directory / "portal-ext.cnf"
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca_pem, "-days", "2", "-subj", "/CN=inkan test portal CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=portal.test")
    ext.write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                   "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:portal.test,DNS:pad.test,DNS:evil.test\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
        "-out", pem, "-days", "2", "-extfile", ext)
    return ca_pem, pem, key


class PortalInChromiumTest(StackTestCase):
    pinpad_reader = True
    inkand_config = {
        "allowedOrigins": [PORTAL_ORIGIN,
                           {"origin": PAD_ORIGIN, "operations": ["read", "sign"], "pinSource": "pinpad"}],
    }

    @classmethod
    def setUpClass(cls):
        require_browser()
        super().setUpClass()

    def test_portal_in_chromium(self):
        if not (REPO / "client-sdk" / "js" / "dist" / "index.js").exists():
            self.fail("client-sdk/js/dist is missing: run `make build` (target inkan_client_js)")
        home, nssdb = browser_home(self.work)
        ca_pem, cert, key = make_portal_pki(self.work)
        run("certutil", "-A", "-d", f"sql:{nssdb}", "-t", "C,,", "-n", NSS_CA_NAME, "-i", ca_pem)
        # inkand's local CA, the way a user installs it.
        trust = subprocess.run([str(BIN_DIR / "inkan"), "trust", "install", "--nssdb", str(nssdb),
                                "--state-dir", str(self.daemon.state)],
                               capture_output=True, text=True, env=dict(os.environ, HOME=str(home)))
        self.assertEqual(trust.returncode, 0, f"inkan trust install failed: {trust.stdout}{trust.stderr}")
        listed = run("certutil", "-L", "-d", f"sql:{nssdb}").stdout
        self.assertIn(NSS_CA_NAME, listed)

        screenshots = ARTIFACTS / "screenshots"
        env = dict(
            os.environ,
            HOME=str(home),  # Chromium reads $HOME/.pki/nssdb
            PORTAL_PORT=str(PORTAL_PORT),
            PORTAL_CERT=str(cert),
            PORTAL_KEY=str(key),
            PORTAL_ROOT=str(REPO / "client-sdk"),
            INKAN_PORT=str(self.daemon.port),
            INKAN_CARD_ID=self.card_id,
            INKAN_PIN=DEMO_PIN,
            INKAN_TOKEN=self.daemon.token,
            NODE_EXTRA_CA_CERTS=str(self.daemon.ca_file),  # node's own requests (the approval); Chromium uses the NSS db
            INKAN_APDU_LOG=str(self.vcard.log),
            INKAN_KEYPAD=str(self.keypad),
            INKAN_VCARD_PID=str(self.vcard.proc.pid),
            SCREENSHOT_DIR=str(screenshots),
            E2E_WORK_DIR=str(self.work),
            CHROMIUM=str(CHROMIUM),
        )
        console = self.work / "browser-console.log"
        try:
            run_node_tests([E2E / "portal.test.mjs"], cwd=REPO, env=env, log_name="browser-portal-tests.log",
                           timeout=NODE_TIMEOUT,
                           context=lambda: f"--- browser console ---\n{console.read_text() if console.exists() else ''}\n"
                                           f"--- inkand ---\n{self.daemon.output()[-4000:]}")
        finally:
            if console.exists():
                shutil.copy(console, ARTIFACTS / "browser-portal-console.log")


if __name__ == "__main__":
    unittest.main()
