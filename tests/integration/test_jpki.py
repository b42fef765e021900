"""inkand with the My Number card's JPKI application (profile "jpki"): the
virtual JPKI card that OpenSC accepts (test_jpki_opensc.py), on the real pcscd
+ vpcd, through the HTTPS API.

Both PINs and both keys, the signing certificate that only its PIN unlocks,
the PIN guard relative to each PIN's own maximum, and UNSUPPORTED_OPERATION
for what the card cannot do. What reached the card is read from its APDU log
and its state directory; every signature is verified with OpenSSL.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import subprocess
import unittest

from harness import (ARTIFACTS, JPKI_CARD_ARGS, JPKI_DEMO_AUTH_PIN, JPKI_DEMO_SIGN_PIN, JpkiCardState, StackTestCase,
                     b64, documented_apdus, unb64, verify_signature)

SELECT_AP = "00A4040C0AD392F000260100000001"
SELECT_SIGN_PIN = "00A4020C02001B"
SELECT_AUTH_PIN = "00A4020C020018"
SELECT_SIGN_KEY = "00A4020C02001A"
SELECT_AUTH_KEY = "00A4020C020017"
SELECT_SIGN_CERT = "00A4020C020001"
PIN_STATUS = "00200080"


class JpkiThroughInkandTest(JpkiCardState, StackTestCase):
    vcard_args = JPKI_CARD_ARGS

    # ---- helpers ------------------------------------------------------------------

    def card_certificate(self, name: str) -> bytes:
        return ssl.PEM_cert_to_DER_cert((self.vcard.state / f"jpki-{name}-cert.pem").read_text())

    def card(self) -> dict:
        r = self.client.get(f"/v1/cards/{self.card_id}")
        self.assertEqual(r.status, 200, r)
        return r.json()

    def sent_during(self, action):
        before = len(self.vcard.apdu_lines())
        result = action()
        return result, [line.split(" ", 1)[1] for line in self.vcard.apdu_lines()[before:]]

    # ---- listing ------------------------------------------------------------------

    def test_listed_with_both_pins_and_the_signing_certificate_locked(self):
        self.reinsert()
        card = self.card()
        self.assertEqual(card["profile"], "jpki")
        self.assertEqual(card["signingCertificate"], "sign")
        pins = {p["id"]: p for p in card["pins"]}
        self.assertEqual(list(pins), ["sign", "auth"])
        self.assertEqual(pins["sign"]["maxTries"], 5)
        self.assertEqual(pins["auth"]["maxTries"], 3)
        self.assertEqual(pins["sign"]["format"], {"minLength": 6, "maxLength": 16, "alphabet": "upper-alphanumeric"})
        self.assertEqual(pins["auth"]["format"], {"minLength": 4, "maxLength": 4, "alphabet": "digits"})
        self.assertFalse(pins["sign"]["unblockable"])
        self.assertFalse(pins["auth"]["unblockable"])
        # The default PIN of the single-PIN paths is the signing key's.
        self.assertEqual(card["pin"], {"triesLeft": 5, "maxTries": 5, "blocked": False})
        certificates = {c["id"]: c for c in card["certificates"]}
        self.assertEqual(set(certificates), {"sign", "sign-ca", "auth", "auth-ca"})
        self.assertFalse(certificates["sign"]["readable"])
        self.assertEqual(certificates["sign"]["readAfterPin"], "sign")
        self.assertEqual(certificates["sign"]["keyPin"], "sign")
        self.assertNotIn("subject", certificates["sign"])
        self.assertEqual(certificates["auth"]["keyPin"], "auth")
        self.assertTrue(certificates["auth"]["readable"])
        self.assertNotIn("keyPin", certificates["auth-ca"])

        r = self.client.get(f"/v1/cards/{self.card_id}/pins")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([p["id"] for p in r.json()["pins"]], ["sign", "auth"])

    def test_repeated_listings_send_no_apdu(self):
        _, sent = self.sent_during(lambda: [self.client.get(p) for p in
                                            ("/v1/cards", f"/v1/cards/{self.card_id}", "/v1/status",
                                             f"/v1/cards/{self.card_id}/pins")])
        self.assertEqual(sent, [])

    def test_one_pins_status_costs_three_apdus_and_no_try(self):
        r, sent = self.sent_during(lambda: self.client.get(f"/v1/cards/{self.card_id}/pins/auth"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["triesLeft"], 3)
        self.assertEqual(r.json()["label"], "user authentication PIN (利用者証明用パスワード)")
        self.assertEqual(sent, [f"{SELECT_AP} 9000", f"{SELECT_AUTH_PIN} 9000", f"{PIN_STATUS} 63C3"])
        self.assertProblem(self.client.get(f"/v1/cards/{self.card_id}/pins/user"), 404, "NOT_FOUND")

    # ---- signing ------------------------------------------------------------------

    def test_signs_with_the_sign_key_and_unlocks_its_certificate(self):
        self.reinsert()
        digest = hashlib.sha256(b"inkan: signed with the JPKI sign key through inkand").digest()
        r, sent = self.sent_during(lambda: self.sign(digest, pin=JPKI_DEMO_SIGN_PIN))
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["certificateId"], "sign")
        self.assertEqual(unb64(body["certificate"]), self.card_certificate("sign"))
        v = verify_signature(self.card_certificate("sign"), digest, unb64(body["signature"]), "SHA-256", self.work)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        # The PIN guard's read, the VERIFY, then the certificate it unlocked, then the signature.
        self.assertIn(f"{SELECT_SIGN_PIN} 9000", sent)
        self.assertIn(f"{PIN_STATUS} 63C5", sent)
        self.assertIn("0020008006<redacted:6> 9000", sent)
        self.assertIn(f"{SELECT_SIGN_CERT} 9000", sent)
        self.assertTrue(sent[-1].startswith("802A008033") and sent[-1].endswith(" 9000"), sent)
        self.assertEqual(sent[-2], f"{SELECT_SIGN_KEY} 9000")

        # Listed now, and cached for the insertion: the card is not read again.
        certificates = {c["id"]: c for c in self.card()["certificates"]}
        self.assertTrue(certificates["sign"]["readable"])
        self.assertIn("テスト 花子", certificates["sign"]["subject"])
        self.assertEqual(self.card()["label"], "テスト 花子 (TEST)")

        # A second signature: the profile's minimum plus the guard's one read.
        r, sent = self.sent_during(lambda: self.sign(digest, pin=JPKI_DEMO_SIGN_PIN))
        self.assertEqual(r.status, 200, r)
        self.assertEqual([line.split()[0] for line in sent],
                         [SELECT_AP, SELECT_SIGN_PIN, PIN_STATUS, "0020008006<redacted:6>", SELECT_SIGN_KEY,
                          sent[-1].split()[0]])
        self.assertTrue(sent[-1].startswith("802A0080"), sent)

    def test_signs_with_the_auth_key_by_its_certificate(self):
        digest = hashlib.sha384(b"inkan: client authentication with the JPKI auth key").digest()
        r, sent = self.sent_during(lambda: self.sign(digest, "SHA-384", pin=JPKI_DEMO_AUTH_PIN, certificate="auth"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["certificateId"], "auth")
        v = verify_signature(self.card_certificate("auth"), digest, unb64(r.json()["signature"]), "SHA-384", self.work)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        v = verify_signature(self.card_certificate("sign"), digest, unb64(r.json()["signature"]), "SHA-384", self.work)
        self.assertNotEqual(v.returncode, 0, "signed with the wrong key")
        self.assertIn(f"{SELECT_AUTH_PIN} 9000", sent)
        self.assertIn("0020008004<redacted:4> 9000", sent)
        self.assertEqual(sent[-2], f"{SELECT_AUTH_KEY} 9000")

    def test_a_pin_of_the_wrong_format_for_the_key_is_refused_before_the_card(self):
        digest = hashlib.sha256(b"x").digest()
        # The sign PIN is upper-case letters and digits, 6 to 16: the auth PIN is not one.
        r, sent = self.sent_during(lambda: self.sign(digest, pin=JPKI_DEMO_AUTH_PIN))
        self.assertProblem(r, 400, "PIN_FORMAT")
        r2, sent2 = self.sent_during(lambda: self.sign(digest, pin="abc123"))
        self.assertProblem(r2, 400, "PIN_FORMAT")
        self.assertEqual(sent + sent2, [])
        self.assertProblem(self.sign(digest, pin=JPKI_DEMO_SIGN_PIN, certificate="auth-ca"), 400, "BAD_REQUEST")

    def test_verify_then_sign_without_pin_uses_that_pins_key_only(self):
        r = self.client.post(f"/v1/cards/{self.card_id}/pins/auth/verify", {"pin": JPKI_DEMO_AUTH_PIN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"triesLeft": 3, "maxTries": 3, "blocked": False})
        digest = hashlib.sha256(b"after verify").digest()
        # The auth PIN's verification does not let the sign key sign.
        r, sent = self.sent_during(lambda: self.sign(digest, pin=None))
        self.assertProblem(r, 403, "PIN_REQUIRED")
        self.assertFalse(any(line.startswith("802A") for line in sent), sent)
        # Its own key it does, without a PIN, right after.
        self.client.post(f"/v1/cards/{self.card_id}/pins/auth/verify", {"pin": JPKI_DEMO_AUTH_PIN})
        r, sent = self.sent_during(lambda: self.sign(digest, pin=None, certificate="auth"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sent[:2], [f"{SELECT_AP} 9000", f"{SELECT_AUTH_KEY} 9000"])
        self.assertEqual(len(sent), 3, sent)

    # ---- APDU economy ------------------------------------------------------------------

    def test_apdu_economy_is_what_docs_benchmarks_says(self):
        digest = hashlib.sha256(b"economy").digest()
        self.take_card_out()
        before = len(self.vcard.apdu_lines())
        self.put_card_back()
        measured = {"jpki: reading an inserted card": len(self.vcard.apdu_lines()) - before}
        _, sent = self.sent_during(lambda: [self.client.get(p) for p in ("/v1/cards", f"/v1/cards/{self.card_id}",
                                                                         "/v1/status", f"/v1/cards/{self.card_id}/pins")])
        measured["jpki: card listings, PIN lists"] = len(sent)
        _, sent = self.sent_during(lambda: self.client.get(f"/v1/cards/{self.card_id}/pins/sign"))
        measured["jpki: one PIN's status"] = len(sent)
        r, sent = self.sent_during(lambda: self.sign(digest, pin=JPKI_DEMO_SIGN_PIN))
        self.assertEqual(r.status, 200, r)
        measured["jpki: first signature with the sign key after insertion, PIN given"] = len(sent)
        r, sent = self.sent_during(lambda: self.sign(digest, pin=JPKI_DEMO_SIGN_PIN))
        self.assertEqual(r.status, 200, r)
        measured["jpki: signature, PIN given"] = len(sent)
        r, sent = self.sent_during(lambda: self.sign(digest, pin=JPKI_DEMO_AUTH_PIN, certificate="auth"))
        self.assertEqual(r.status, 200, r)
        measured["jpki: signature with the auth key, PIN given"] = len(sent)
        (ARTIFACTS / "jpki-inkand-apdu-economy.json").write_text(json.dumps(measured, indent=2, ensure_ascii=False))
        # The profile's minimum (SELECT AP, SELECT PIN EF, VERIFY, SELECT key EF, 80 2A) plus the guard's read.
        self.assertEqual(measured["jpki: signature, PIN given"], 5 + 1)
        self.assertEqual(measured["jpki: card listings, PIN lists"], 0)
        for label, count in measured.items():
            self.assertEqual(documented_apdus(label), count, f"docs/benchmarks.md is stale; measured {measured}")

    # ---- document signatures ----------------------------------------------------------

    def test_a_cms_signature_uses_the_sign_key_once_its_certificate_is_read(self):
        self.reinsert()
        content = "JPKI: 申請書 signed as CMS".encode()
        body = {"format": "cms", "content": b64(content), "pin": JPKI_DEMO_SIGN_PIN}
        # The signing certificate is not readable yet, and the CMS names it: refused before the card.
        r, sent = self.sent_during(lambda: self.client.post(f"/v1/cards/{self.card_id}/signatures", body))
        problem = self.assertProblem(r, 403, "PIN_REQUIRED")
        self.assertIn("'sign'", problem["detail"])
        self.assertEqual(sent, [])
        self.assertEqual(self.client.post(f"/v1/cards/{self.card_id}/pins/sign/verify", {"pin": JPKI_DEMO_SIGN_PIN}).status, 200)
        r = self.client.post(f"/v1/cards/{self.card_id}/signatures", body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(unb64(r.json()["certificate"]), self.card_certificate("sign"))
        p7s, data, ca = self.work / "jpki.p7s", self.work / "jpki.txt", self.vcard.state / "jpki-sign-ca-cert.pem"
        p7s.write_bytes(unb64(r.json()["signature"]))
        data.write_bytes(content)
        v = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(p7s), "-content", str(data),
                            "-CAfile", str(ca), "-purpose", "any", "-out", os.devnull], capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)

    # ---- PIN stories --------------------------------------------------------------------

    def test_a_wrong_pin_spends_exactly_one_try_of_that_pin(self):
        for pin_id, wrong, left in (("sign", "WRONG1", 4), ("auth", "9999", 2)):
            with self.subTest(pin=pin_id):
                r, sent = self.sent_during(
                    lambda: self.client.post(f"/v1/cards/{self.card_id}/pins/{pin_id}/verify", {"pin": wrong}))
                problem = self.assertProblem(r, 403, "PIN_INCORRECT")
                self.assertEqual(problem["triesLeft"], left)
                presented = [line for line in sent if "<redacted:" in line]
                self.assertEqual(len(presented), 1, sent)
                self.assertTrue(presented[0].endswith(f" 63C{left}"), presented)
                self.assertNotIn(wrong, self.vcard.log.read_text())
                self.assertNotIn(wrong, self.daemon.output())
                r = self.client.get(f"/v1/cards/{self.card_id}/pins/{pin_id}")
                self.assertEqual(r.json()["triesLeft"], left)
        self.assertEqual(self.tries_in_state(), {"auth": 2, "sign": 4})

    def test_the_guard_keeps_the_last_two_sign_tries_and_the_last_auth_try(self):
        cases = (("sign", JPKI_DEMO_SIGN_PIN, {"sign": 2}, 2), ("auth", JPKI_DEMO_AUTH_PIN, {"auth": 1}, 1))
        for pin_id, pin, tries, left in cases:
            with self.subTest(pin=pin_id):
                self.set_tries(**tries)
                r, sent = self.sent_during(
                    lambda: self.client.post(f"/v1/cards/{self.card_id}/pins/{pin_id}/verify", {"pin": pin}))
                problem = self.assertProblem(r, 409, "PIN_GUARD")
                self.assertEqual(problem["triesLeft"], left)
                self.assertFalse(any("<redacted:" in line for line in sent), sent)
                self.assertEqual(sent[-1], f"{PIN_STATUS} 63C{left}")
                # The local client may acknowledge it; the right PIN restores the counter.
                r = self.client.post(f"/v1/cards/{self.card_id}/pins/{pin_id}/verify",
                                     {"pin": pin, "acknowledgeLowTries": True})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["triesLeft"], r.json()["maxTries"])
        # One more try than the guard keeps is still spent without acknowledgement.
        self.set_tries(sign=3)
        r = self.client.post(f"/v1/cards/{self.card_id}/pins/sign/verify", {"pin": JPKI_DEMO_SIGN_PIN})
        self.assertEqual(r.status, 200, r)

    def test_the_guard_protects_the_signing_keys_pin_on_sign(self):
        self.set_tries(sign=2)
        r, sent = self.sent_during(lambda: self.sign(hashlib.sha256(b"y").digest(), pin=JPKI_DEMO_SIGN_PIN))
        self.assertProblem(r, 409, "PIN_GUARD")
        self.assertFalse(any("<redacted:" in line or line.startswith("802A") for line in sent), sent)

    def test_a_blocked_pin_is_refused_without_being_sent(self):
        self.set_tries(auth=0)
        r, sent = self.sent_during(
            lambda: self.client.post(f"/v1/cards/{self.card_id}/pins/auth/verify", {"pin": JPKI_DEMO_AUTH_PIN}))
        problem = self.assertProblem(r, 423, "PIN_BLOCKED")
        self.assertIn("issuer", problem["detail"])
        self.assertFalse(any("<redacted:" in line for line in sent), sent)
        self.assertTrue(self.card()["pins"][1]["blocked"])

    def test_unblocking_is_unsupported_and_sends_nothing(self):
        for path, body in ((f"/v1/cards/{self.card_id}/pins/sign/unblock", {"unblockCode": "12345678", "newPin": "NEW123"}),
                           (f"/v1/cards/{self.card_id}/pin/unblock", {"unblockCode": "12345678", "newPin": "NEW123"})):
            r, sent = self.sent_during(lambda: self.client.post(path, body))
            self.assertProblem(r, 409, "UNSUPPORTED_OPERATION")
            self.assertEqual(sent, [])
        r, sent = self.sent_during(lambda: self.client.get(f"/v1/cards/{self.card_id}/unblock-code"))
        self.assertProblem(r, 409, "UNSUPPORTED_OPERATION")
        self.assertEqual(sent, [])

    def test_changing_the_auth_pin_and_back(self):
        base = f"/v1/cards/{self.card_id}/pins/auth/change"
        r = self.client.post(base, {"pin": JPKI_DEMO_AUTH_PIN, "newPin": "4321"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["triesLeft"], 3)
        self.assertProblem(self.client.post(base, {"pin": JPKI_DEMO_AUTH_PIN, "newPin": "1111"}), 403, "PIN_INCORRECT")
        self.assertProblem(self.client.post(base, {"pin": "4321", "newPin": "12345"}), 400, "PIN_FORMAT")
        r = self.client.post(base, {"pin": "4321", "newPin": JPKI_DEMO_AUTH_PIN, "acknowledgeLowTries": True})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.tries_in_state(), {"auth": 3, "sign": 5})


if __name__ == "__main__":
    unittest.main()
