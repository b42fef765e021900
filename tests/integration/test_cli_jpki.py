"""The `inkan` command line on the virtual My Number card (inkan-vcard --profile
jpki, docs/jpki.md) through the real stack: both PINs with their own counters,
formats and lock rules, the signing certificate the card shows only after its
PIN, and signing with the auth key chosen by --certificate (checked with the
openssl command). PINs go on stdin, never in argv.
"""

from __future__ import annotations

import json
import subprocess
import unittest

from harness import JPKI_CARD_ARGS, JPKI_DEMO_AUTH_PIN, JPKI_DEMO_SIGN_PIN, JpkiCardState
from test_cli import EXIT_API, EXIT_OK, EXIT_PIN, EXIT_USAGE, CliStackTestCase, describe


class JpkiCliTest(JpkiCardState, CliStackTestCase):
    vcard_args = JPKI_CARD_ARGS

    def test_pin_status_lists_both_pins_with_their_rules(self):
        result = self.inkan("pin", "status")
        self.assertExit(result, EXIT_OK)
        out = result.stdout
        self.assertIn("PIN sign (", out)
        self.assertIn("PIN auth (", out)
        self.assertIn("5 of 5 tries left", out)
        self.assertIn("3 of 3 tries left", out)
        self.assertIn("6 to 16 characters A-Z 0-9", out)
        self.assertIn("4 digits", out)
        self.assertIn("municipal office", out)
        self.assertNotIn("Unblock code", out)  # the card has none

        result = self.inkan("pin", "status", "--pin", "auth")
        self.assertExit(result, EXIT_OK)
        self.assertIn("PIN auth", result.stdout)
        self.assertNotIn("PIN sign", result.stdout)
        result = self.inkan("pin", "status", "--pin", "auth", "--json")
        self.assertEqual(json.loads(result.stdout), self.client.get(f"/v1/cards/{self.card_id}/pins/auth").json())
        result = self.inkan("pin", "status", "--pin", "user")
        self.assertExit(result, EXIT_USAGE)
        self.assertIn("sign, auth", result.stderr)

    def test_cards_lists_both_pins_and_the_locked_certificate(self):
        result = self.inkan("cards", card=False)
        self.assertExit(result, EXIT_OK)
        self.assertIn("sign: 5 of 5 tries left; auth: 3 of 3 tries left", result.stdout)
        self.assertIn(f"PINs on {self.card_id}", result.stdout)
        self.assertIn("issuer only", result.stdout)
        self.assertRegex(result.stdout, r"\bsign\s+\(read after PIN sign is verified\)")
        self.assertRegex(result.stdout, r"\bauth\b.*days left\s+auth")

    def test_changing_the_auth_pin_and_back(self):
        before = self.vcard.apdu_count()
        result = self.inkan("pin", "change", "--pin", "auth", stdin=f"{JPKI_DEMO_AUTH_PIN}\n4321\n")
        self.assertExit(result, EXIT_OK)
        self.assertIn("PIN changed (3 of 3 tries left)", result.stdout)
        self.assertGreater(self.vcard.apdu_count(), before)
        r = self.client.post(f"/v1/cards/{self.card_id}/pins/auth/verify", {"pin": "4321"})
        self.assertEqual(r.status, 200, r)
        # The sign PIN was not touched.
        self.assertEqual(self.client.post(f"/v1/cards/{self.card_id}/pins/sign/verify", {"pin": JPKI_DEMO_SIGN_PIN}).status, 200)
        # A new PIN outside the auth PIN's format is refused before the card.
        result = self.inkan("pin", "change", "--pin", "auth", stdin="4321\n12345\n")
        self.assertNotEqual(result.returncode, EXIT_OK, describe(result))
        self.assertIn("PIN_FORMAT", result.stderr)
        result = self.inkan("pin", "change", "--pin", "auth", stdin=f"4321\n{JPKI_DEMO_AUTH_PIN}\n")
        self.assertExit(result, EXIT_OK)
        self.assertEqual(self.tries_in_state(), {"auth": 3, "sign": 5})
        self.assertNotIn("4321", self.vcard.log.read_text())

    def test_pin_verify_names_the_pin_and_a_wrong_one_spends_its_try_only(self):
        result = self.inkan("pin", "verify", "--pin", "sign", stdin="WRONG1\n")
        self.assertExit(result, EXIT_PIN)
        self.assertIn("PIN_INCORRECT", result.stderr)
        self.assertEqual(self.tries_in_state(), {"auth": 3, "sign": 4})
        result = self.inkan("pin", "verify", "--pin", "sign", stdin=f"{JPKI_DEMO_SIGN_PIN}\n")
        self.assertExit(result, EXIT_OK)
        self.assertIn("PIN verified (5 of 5 tries left)", result.stdout)

    def test_sign_with_the_auth_certificate_verifies_with_openssl(self):
        document = self.work / "auth-signed.txt"
        document.write_text("利用者証明 by the inkan command\n", encoding="utf-8")
        result = self.inkan("sign", document, "--certificate", "auth", stdin=f"{JPKI_DEMO_AUTH_PIN}\n")
        self.assertExit(result, EXIT_OK)
        certificate = self.work / "auth-signed.txt.cert.pem"
        pubkey = self.work / "auth-pubkey.pem"
        subprocess.run(["openssl", "x509", "-in", str(certificate), "-pubkey", "-noout", "-out", str(pubkey)], check=True)
        verified = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(pubkey), "-signature",
                                   str(document) + ".sig", str(document)], capture_output=True, text=True)
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)
        self.assertIn("Verified OK", verified.stdout)
        # The certificate written is the card's auth certificate.
        subject = subprocess.run(["openssl", "x509", "-in", str(certificate), "-noout", "-subject"], capture_output=True, text=True)
        api = {c["id"]: c for c in self.client.get(f"/v1/cards/{self.card_id}").json()["certificates"]}
        self.assertTrue(api["auth"]["readable"])
        self.assertEqual(self.tries_in_state(), {"auth": 3, "sign": 5})
        self.assertTrue(subject.stdout.strip())

    def test_sign_by_default_asks_for_the_sign_pin(self):
        document = self.work / "sign-signed.txt"
        document.write_text("電子署名 by the inkan command\n", encoding="utf-8")
        # The auth PIN is not a sign PIN: refused by format, before the card.
        result = self.inkan("sign", document, stdin=f"{JPKI_DEMO_AUTH_PIN}\n")
        self.assertIn("PIN_FORMAT", result.stderr, describe(result))
        result = self.inkan("sign", document, stdin=f"{JPKI_DEMO_SIGN_PIN}\n")
        self.assertExit(result, EXIT_OK)
        self.assertEqual(self.tries_in_state(), {"auth": 3, "sign": 5})

    def test_the_low_tries_warning_uses_each_pins_own_maximum_and_names_the_municipal_office(self):
        # 3 of 5 sign tries: above the 2 the guard keeps, so no warning.
        self.set_tries(sign=3)
        result = self.inkan("pin", "verify", "--pin", "sign", stdin=f"{JPKI_DEMO_SIGN_PIN}\n")
        self.assertExit(result, EXIT_OK)
        self.assertNotIn("warning", result.stderr)
        # 2 of 5: warned, with who resets it, and acknowledged to the guard.
        self.set_tries(sign=2)
        result = self.inkan("pin", "verify", "--pin", "sign", stdin=f"{JPKI_DEMO_SIGN_PIN}\n")
        self.assertExit(result, EXIT_OK)
        self.assertIn("only 2 tries left before the card locks the sign PIN", result.stderr)
        self.assertIn("5 in all", result.stderr)
        self.assertIn("municipal office", result.stderr)
        # 2 of 3 auth tries: no warning (the guard keeps the last one); 1 of 3: warned.
        self.set_tries(auth=2)
        result = self.inkan("pin", "verify", "--pin", "auth", stdin=f"{JPKI_DEMO_AUTH_PIN}\n")
        self.assertExit(result, EXIT_OK)
        self.assertNotIn("warning", result.stderr)
        self.set_tries(auth=1)
        result = self.inkan("pin", "verify", "--pin", "auth", stdin="9999\n")
        self.assertExit(result, EXIT_PIN)
        self.assertIn("only 1 try left before the card locks the auth PIN", result.stderr)
        self.assertIn("municipal office", result.stderr)
        self.assertTrue(json.loads(self.inkan("pin", "status", "--pin", "auth", "--json").stdout)["blocked"])
        # Blocked: refused before asking, and the way out is the municipal office.
        before = self.vcard.apdu_count()
        result = self.inkan("pin", "verify", "--pin", "auth", stdin=f"{JPKI_DEMO_AUTH_PIN}\n")
        self.assertExit(result, EXIT_PIN)
        self.assertIn("PIN_BLOCKED", result.stderr)
        self.assertIn("municipal office", result.stderr)
        self.assertFalse(any("<redacted:" in line for line in self.vcard.apdu_lines()[before:]))
        result = self.inkan("pin", "status")
        self.assertIn("PIN auth", result.stdout)
        self.assertRegex(result.stdout, r"PIN auth .*: blocked — the card cannot unblock it")

    def test_unblock_is_refused_before_anything_is_asked(self):
        before = self.vcard.apdu_count()
        for args in (("pin", "unblock", "--pin", "sign"), ("pin", "unblock")):
            result = self.inkan(*args, stdin="12345678\nNEW123\nNEW123\n")
            self.assertExit(result, EXIT_API)
            self.assertIn("UNSUPPORTED_OPERATION", result.stderr)
            self.assertIn("municipal office", result.stderr)
        self.assertEqual(self.vcard.apdu_count(), before)


if __name__ == "__main__":
    unittest.main()
