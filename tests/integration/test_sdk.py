"""@inkan/client (client-sdk/js) against the real stack.

The SDK's own tests are node test-runner files (client-sdk/js/test/stack/ on the
reference card, test/stack-jpki/ on the virtual My Number card); this module
starts the stack, hands them its coordinates through the environment and
fails with their report when any of them fails. Node trusts inkand's local CA
through NODE_EXTRA_CA_CERTS, as a Node.js script using the SDK would.
"""

from __future__ import annotations

import os
import unittest
from pathlib import Path

from harness import (BIN_DIR, DEMO_PIN, JPKI_CARD_ARGS, JPKI_DEMO_AUTH_PIN, JPKI_DEMO_SIGN_PIN, StackTestCase,
                     run_node_tests)

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "client-sdk" / "js"
# Allowlisted for the tests that act as a browser page; it need not exist, only be sent as Origin.
ALLOWED_ORIGIN = "https://portal.test:8443"
NODE_TIMEOUT = 300


class SdkStackTestCase(StackTestCase):
    """Runs client-sdk/js/test/<suite>/*.test.mjs against this class's stack."""
    inkand_args = ("--allow-origin", ALLOWED_ORIGIN)
    suite = "stack"
    pin = DEMO_PIN
    extra_env: dict = {}

    def run_suite(self):
        if not (SDK / "dist" / "index.js").exists():
            self.fail(f"{SDK / 'dist' / 'index.js'} is missing: run `make build` (target inkan_client_js)")
        tests = sorted(str(p) for p in (SDK / "test" / self.suite).glob("*.test.mjs"))
        self.assertTrue(tests, f"no SDK tests found in test/{self.suite}")
        env = dict(
            os.environ,
            NODE_EXTRA_CA_CERTS=str(self.daemon.ca_file),
            INKAN_TEST_PORT=str(self.daemon.port),
            INKAN_TEST_TOKEN=self.daemon.token,
            INKAN_TEST_CARD_ID=self.card_id,
            INKAN_TEST_PIN=self.pin,
            INKAN_TEST_ALLOWED_ORIGIN=ALLOWED_ORIGIN,
            INKAN_TEST_APDU_LOG=str(self.vcard.log),
            INKAN_TEST_VCARD_PID=str(self.vcard.proc.pid),
            INKAN_TEST_BIN_DIR=str(BIN_DIR),
            INKAN_TEST_STATE_DIR=str(self.daemon.state),
            **self.extra_env,
        )
        run_node_tests(tests, cwd=SDK, env=env, log_name="sdk-node-tests.log" if self.suite == "stack" else f"sdk-node-tests-{self.suite}.log", timeout=NODE_TIMEOUT,
                       context=lambda: f"--- inkand ---\n{self.daemon.output()[-4000:]}")


class SdkAgainstInkandTest(SdkStackTestCase):
    def test_node_suite_against_inkand(self):
        self.run_suite()


class SdkAgainstJpkiCardTest(SdkStackTestCase):
    """The same SDK on the virtual My Number card: both PINs, both keys."""
    vcard_args = JPKI_CARD_ARGS
    suite = "stack-jpki"
    pin = JPKI_DEMO_SIGN_PIN
    extra_env = {"INKAN_TEST_AUTH_PIN": JPKI_DEMO_AUTH_PIN, "INKAN_TEST_SIGN_PIN": JPKI_DEMO_SIGN_PIN}

    def test_node_suite_against_the_jpki_card(self):
        self.run_suite()


if __name__ == "__main__":
    unittest.main()
