"""The card self-test (動作確認) on the real stack: POST /v1/cards/{cardId}/selftest and `inkan selftest`.

The virtual card holds a leaf of the test PKI (tests/pki/make-test-pki.sh) with
its key; inkand trusts the PKI's root, a real `openssl ocsp` responder and the
CRL server answer for it on loopback. The virtual card's APDU log shows what
reached the card: without a PIN, no VERIFY with data ever does.
"""

from __future__ import annotations

import json
import subprocess

from harness import BIN_DIR, DEMO_PIN, DEMO_UNBLOCK
from pki_stack import CertificateStackTestCase

EXIT_OK, EXIT_USAGE, EXIT_CHECK_FAILED = 0, 1, 6

ALL_CHECKS = ["reader", "card", "pin", "certificate:sign", "certificate:ca", "key", "chain", "revocation"]


class SelfTestCase(CertificateStackTestCase):
    def selftest(self, body=None):
        r = self.client.post(f"/v1/cards/{self.card_id}/selftest", body if body is not None else {})
        self.assertEqual(r.status, 200, r)
        report = r.json()
        self.assertEqual(report["cardId"], self.card_id)
        return report, {c["name"]: c for c in report["checks"]}

    def verify_lines(self, since: int) -> list[str]:
        """VERIFY commands (INS 20) the card received after APDU number `since`."""
        return [line for line in self.vcard.apdu_lines()[since:] if line.split()[1].startswith("0020")]

    def restore_pin(self):
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN})
        if r.status != 200:
            self.client.post(f"/v1/cards/{self.card_id}/pin/unblock", {"unblockCode": DEMO_UNBLOCK, "newPin": DEMO_PIN})
        self.assertEqual(self.pin_status()["triesLeft"], 10)


class SelfTestApiTest(SelfTestCase):
    def test_without_pin_every_check_but_the_key_passes_and_no_try_is_at_stake(self):
        self.use_card("good")
        before = self.vcard.apdu_count()
        report, checks = self.selftest()
        self.assertTrue(report["passed"], report)
        self.assertEqual([c["name"] for c in report["checks"]], ALL_CHECKS)
        for name in ALL_CHECKS:
            expected = "skipped" if name == "key" else "pass"
            self.assertEqual(checks[name]["result"], expected, checks[name])
        self.assertIn("Virtual PCD 00 00", checks["reader"]["detail"])
        self.assertEqual(checks["pin"]["detail"], "10 of 10 tries left")
        self.assertIn("no PIN given", checks["key"]["detail"])
        self.assertIn("trust anchor", checks["chain"]["detail"])
        self.assertIn("OCSP " + self.pki.ocsp_url, checks["revocation"]["detail"])
        # The card was asked (SELECT, VERIFY without data = status only); no PIN reached it.
        verifies = self.verify_lines(before)
        self.assertTrue(verifies, "the card check asks the card")
        self.assertTrue(all("redacted" not in line for line in verifies), verifies)
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_empty_body_is_the_same_as_no_pin(self):
        self.use_card("good")
        r = self.client.request("POST", f"/v1/cards/{self.card_id}/selftest", raw_body=b"",
                                headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual({c["name"]: c["result"] for c in r.json()["checks"]}["key"], "skipped")

    def test_with_the_pin_the_card_signature_verifies_with_the_certificate(self):
        self.use_card("good")
        report, checks = self.selftest({"pin": DEMO_PIN})
        self.assertTrue(report["passed"], report)
        self.assertEqual(checks["key"]["result"], "pass", checks["key"])
        self.assertIn("verifies with certificate 'sign'", checks["key"]["detail"])
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_a_wrong_pin_fails_the_key_check_with_the_tries_left(self):
        self.use_card("good")
        report, checks = self.selftest({"pin": "0000"})
        self.assertFalse(report["passed"])
        self.assertEqual(checks["key"]["result"], "fail")
        self.assertIn("wrong PIN: 9 tries left", checks["key"]["detail"])
        for name in ("reader", "card", "pin", "certificate:sign", "chain", "revocation"):
            self.assertEqual(checks[name]["result"], "pass", checks[name])
        self.assertEqual(self.pin_status()["triesLeft"], 9)
        self.restore_pin()

    def test_a_revoked_certificate_fails_the_revocation_check(self):
        self.use_card("revoked")
        report, checks = self.selftest()
        self.assertFalse(report["passed"])
        self.assertEqual(checks["chain"]["result"], "pass")
        self.assertEqual(checks["revocation"]["result"], "fail")
        self.assertIn("keyCompromise", checks["revocation"]["detail"])
        self.use_card("good")

    def test_an_expired_certificate_fails_the_chain_and_skips_revocation(self):
        self.use_card("expired")
        report, checks = self.selftest()
        self.assertFalse(report["passed"])
        self.assertEqual(checks["certificate:sign"]["result"], "pass")
        self.assertEqual(checks["chain"]["result"], "fail")
        self.assertIn("expired", checks["chain"]["detail"])
        self.assertEqual(checks["revocation"]["result"], "skipped")
        self.use_card("good")

    def test_without_revocation_evidence_the_revocation_check_fails(self):
        self.use_card("good")
        self.pki.stop_ocsp()
        self.pki.stop_crl()
        self.restart_daemon()
        report, checks = self.selftest()
        self.assertFalse(report["passed"])
        self.assertEqual(checks["revocation"]["result"], "fail")
        self.assertIn("responderDown", checks["revocation"]["detail"])

    def test_bad_input_and_absent_cards_are_refused_before_the_card(self):
        before = self.vcard.apdu_count()
        r = self.client.post(f"/v1/cards/{self.card_id}/selftest", {"pin": 1234})
        self.assertProblem(r, 400, "BAD_REQUEST")
        r = self.client.request("POST", f"/v1/cards/{self.card_id}/selftest", raw_body=b"{", headers={"Content-Type": "application/json"})
        self.assertProblem(r, 400, "BAD_REQUEST")
        self.assertProblem(self.client.post("/v1/cards/0000000000000000/selftest", {}), 404, "CARD_NOT_FOUND")
        self.assertEqual(self.vcard.apdu_count(), before)
        self.assertProblem(self.client.get(f"/v1/cards/{self.card_id}/selftest"), 405, "METHOD_NOT_ALLOWED")


class SelfTestCliTest(SelfTestCase):
    def inkan(self, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN_DIR / "inkan"), "--state-dir", str(self.daemon.state), "--port", str(self.daemon.port),
                               "--card", self.card_id, *args],
                              input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120)

    def assertExit(self, result: subprocess.CompletedProcess, code: int):
        self.assertEqual(result.returncode, code, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")

    def test_selftest_prints_one_line_per_check_and_passes(self):
        result = self.inkan("selftest")
        self.assertExit(result, EXIT_OK)
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["RESULT", "CHECK", "DETAIL"])
        rows = {line.split()[1]: line.split()[0] for line in lines[1:] if line.strip() and not line.startswith("Self-test")}
        self.assertEqual(list(rows), ALL_CHECKS)
        self.assertEqual(rows["key"], "SKIP")
        self.assertEqual(rows["chain"], "PASS")
        self.assertIn(f"Self-test passed for card {self.card_id}: 7 passed, 0 failed, 1 skipped", result.stdout)

    def test_selftest_with_pin_reads_the_pin_from_stdin(self):
        result = self.inkan("selftest", "--with-pin", stdin=DEMO_PIN + "\n")
        self.assertExit(result, EXIT_OK)
        key = next(line for line in result.stdout.splitlines() if line.split()[1:2] == ["key"])
        self.assertTrue(key.startswith("PASS"), key)

    def test_selftest_with_a_wrong_pin_exits_6_and_says_the_tries_left(self):
        result = self.inkan("selftest", "--with-pin", stdin="0000\n")
        self.assertExit(result, EXIT_CHECK_FAILED)
        key = next(line for line in result.stdout.splitlines() if line.split()[1:2] == ["key"])
        self.assertTrue(key.startswith("FAIL"), key)
        self.assertIn("9 tries left", key)
        self.assertIn("Self-test FAILED", result.stdout)
        self.restore_pin()

    def test_selftest_json_is_the_api_report(self):
        self.use_card("revoked")
        result = self.inkan("selftest", "--json")
        self.assertExit(result, EXIT_CHECK_FAILED)
        report = json.loads(result.stdout)
        self.assertFalse(report["passed"])
        self.assertEqual({c["name"]: c["result"] for c in report["checks"]}["revocation"], "fail")
        self.use_card("good")

    def test_selftest_with_pin_and_no_pin_entered_is_a_usage_error(self):
        result = self.inkan("selftest", "--with-pin", stdin="\n")
        self.assertExit(result, EXIT_USAGE)
