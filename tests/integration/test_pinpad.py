"""The PIN typed on the reader's own PIN pad (docs/security.md "Where the PIN comes from").

The card sits in tools/vpinpad, a virtual reader with a PIN pad that the real
pcscd loads as a driver: inkand asks it with SCardControl (PC/SC part 10
VERIFY_PIN_DIRECT / MODIFY_PIN_DIRECT), the reader takes what the user
"types" from a keypad file, builds the command and sends it to the virtual
card. The page sends no PIN and inkand never sees one.
"""

from __future__ import annotations

import fcntl
import hashlib
import ssl
import subprocess
import threading
import unittest

from harness import DEMO_PIN, DEMO_UNBLOCK, b64, run_inkan, unb64, verify_signature, wait_for
from test_security import VERIFY_WITH_PIN, SecurityStackTestCase

PAD_PORTAL = "https://pad.example.jp"  # its PIN is typed on the reader
PORTAL = "https://portal.example.jp"   # sends the PIN in the request (the default)
CHANGE_WITH_PINS = " 0024008120"       # CHANGE REFERENCE DATA with two 16-byte blocks
UNBLOCK_WITH_PINS = " 002C008120"      # RESET RETRY COUNTER with two 16-byte blocks


class PinpadReaderTest(SecurityStackTestCase):
    pinpad_reader = True
    inkand_config = {
        "allowedOrigins": [
            {"origin": PAD_PORTAL, "operations": ["read", "sign", "pin"], "pinSource": "pinpad"},
            PORTAL,
        ],
        "pinentryProgram": None,
    }

    def type_on_keypad(self, *entries: str):
        """What the user types on the reader, one entry (then OK) a line; the
        reader takes lines under the same lock."""
        with open(self.keypad, "a") as keypad:
            fcntl.flock(keypad, fcntl.LOCK_EX)
            keypad.write("".join(entry + "\n" for entry in entries))

    def keypad_left(self) -> str:
        return self.keypad.read_text() if self.keypad.exists() else ""

    def pad_sign(self, text=b"an e-application form"):
        digest = hashlib.sha256(text).digest()
        body = {"digest": b64(digest), "digestAlgorithm": "SHA-256"}
        return digest, self.page(PAD_PORTAL).post(f"/v1/cards/{self.card_id}/sign", body)

    def entries_awaited(self) -> int:
        """How many PIN entries the reader has waited for (its lines in pcscd's log)."""
        return (self.work / "pcscd.log").read_text(errors="replace").count("waiting up to")

    def sign_while_the_reader_waits(self, text: bytes):
        """Starts a page's signature and returns once the reader waits for the PIN:
        the thread, and a dict that gets the answer as "r"."""
        result = {}
        before = self.entries_awaited()
        thread = threading.Thread(target=lambda: result.setdefault("r", self.pad_sign(text)[1]))
        thread.start()
        wait_for(lambda: self.entries_awaited() > before, 20, what="the reader to wait for the PIN")
        return thread, result

    def tearDown(self):
        self.keypad.write_text("")
        self.restore_pin()

    def test_1_status_and_cards_show_the_pin_pad(self):
        reader = next(r for r in self.client.get("/v1/status").json()["readers"] if r.get("cardId") == self.card_id)
        self.assertTrue(reader["name"].startswith("Inkan Virtual PinPad"), reader)
        self.assertTrue(reader["pinpad"])
        card = self.page(PAD_PORTAL).get(f"/v1/cards/{self.card_id}").json()
        self.assertTrue(card["pinpad"])
        access = self.page(PAD_PORTAL).get("/v1/access").json()
        self.assertEqual(access["pinSource"], "pinpad")
        # inkan status marks the reader.
        status = run_inkan("--state-dir", self.daemon.state, "--port", self.daemon.port, "status")
        self.assertEqual(status.returncode, 0, status.stderr)
        line = next(line for line in status.stdout.splitlines() if self.card_id in line)
        self.assertTrue(line.startswith("Inkan Virtual PinPad") and line.rstrip().endswith("yes"), line)

    def test_2_a_page_signs_with_the_pin_typed_on_the_reader(self):
        self.type_on_keypad(DEMO_PIN)
        before = self.vcard.apdu_count()
        digest, r = self.pad_sign()
        self.assertEqual(r.status, 200, r)
        answer = r.json()
        verified = verify_signature(unb64(answer["certificate"]), digest, unb64(answer["signature"]), "SHA-256", self.work)
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)
        # The reader sent the VERIFY with the PIN (redacted in the card's log), then the signature.
        sent = "\n".join(self.new_apdus(before))
        self.assertIn(VERIFY_WITH_PIN, sent)
        self.assertIn(" 002A9E9A", sent)
        self.assertEqual(self.keypad_left(), "", "the reader took the entry")
        self.assertIn("sign (PIN pad): ok", self.daemon.output())
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_3_the_page_may_not_send_a_pin(self):
        before = self.vcard.apdu_count()
        body = self.sign_body(pin=DEMO_PIN)
        self.assertProblem(self.page(PAD_PORTAL).post(f"/v1/cards/{self.card_id}/sign", body), 400, "PIN_SOURCE_MISMATCH")
        self.assertNothingReachedTheCard(before)

    def test_4_a_wrong_pin_typed_on_the_pad_spends_one_try(self):
        self.type_on_keypad("9999")
        _, r = self.pad_sign()
        self.assertEqual(self.assertProblem(r, 403, "PIN_INCORRECT")["triesLeft"], 9)
        self.assertEqual(self.pin_status()["triesLeft"], 9)

    def test_5_cancel_timeout_and_a_too_short_pin_spend_nothing(self):
        before = self.vcard.apdu_count()
        for entry, status, code in (("CANCEL", 409, "PIN_CANCELLED"), ("TIMEOUT", 409, "PIN_ENTRY_TIMEOUT"),
                                    ("12", 400, "PIN_FORMAT")):
            with self.subTest(entry=entry):
                self.type_on_keypad(entry)
                _, r = self.pad_sign()
                self.assertProblem(r, status, code)
        self.assertNotIn(VERIFY_WITH_PIN, "\n".join(self.new_apdus(before)), "the reader sent no VERIFY")
        self.assertNotIn(" 002A9E9A", "\n".join(self.new_apdus(before)))
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_6_the_request_waits_while_the_user_types(self):
        thread, result = self.sign_while_the_reader_waits(b"typed late")
        self.assertNotIn("r", result)
        self.type_on_keypad(DEMO_PIN)
        thread.join(40)
        self.assertEqual(result["r"].status, 200, result["r"])

    def test_7_the_pin_change_happens_on_the_pad(self):
        before = self.vcard.apdu_count()
        self.type_on_keypad(DEMO_PIN, "24680", "24680")
        r = self.page(PAD_PORTAL).post(f"/v1/cards/{self.card_id}/pin/change", {})
        self.assertEqual(r.status, 200, r)
        self.assertIn(CHANGE_WITH_PINS, "\n".join(self.new_apdus(before)))
        # The new PIN works, typed on the pad; the old one does not (from a page that sends PINs).
        portal = self.page(PORTAL)
        old = portal.post(f"/v1/cards/{self.card_id}/sign", self.sign_body(pin=DEMO_PIN))
        self.assertEqual(self.assertProblem(old, 403, "PIN_INCORRECT")["triesLeft"], 9)
        self.type_on_keypad("24680")
        self.assertEqual(self.pad_sign()[1].status, 200)
        # New PINs typed differently: nothing reaches the card.
        before = self.vcard.apdu_count()
        self.type_on_keypad("24680", "1111", "2222")
        r = self.page(PAD_PORTAL).post(f"/v1/cards/{self.card_id}/pin/change", {})
        self.assertProblem(r, 400, "PIN_FORMAT")
        self.assertNotIn(CHANGE_WITH_PINS, "\n".join(self.new_apdus(before)))
        self.type_on_keypad("24680", DEMO_PIN, DEMO_PIN)
        self.assertEqual(self.page(PAD_PORTAL).post(f"/v1/cards/{self.card_id}/pin/change", {}).status, 200)

    def test_8_the_pin_guard_reads_the_counter_before_the_pad_is_asked(self):
        for _ in range(7):
            self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": "0000", "acknowledgeLowTries": True})
        self.assertEqual(self.pin_status()["triesLeft"], 3)
        waiting_before = self.entries_awaited()
        self.type_on_keypad(DEMO_PIN)
        _, r = self.pad_sign()
        self.assertEqual(self.assertProblem(r, 409, "PIN_GUARD")["triesLeft"], 3)
        self.assertEqual(self.keypad_left(), DEMO_PIN + "\n", "the reader was never asked for the PIN")
        self.assertEqual(self.entries_awaited(), waiting_before)

    def test_9_a_blocked_pin_is_unblocked_on_the_pad(self):
        for _ in range(10):
            self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": "0000", "acknowledgeLowTries": True})
        self.assertTrue(self.pin_status()["blocked"])
        before = self.vcard.apdu_count()
        self.type_on_keypad(DEMO_UNBLOCK, DEMO_PIN, DEMO_PIN)
        r = self.page(PAD_PORTAL).post(f"/v1/cards/{self.card_id}/pin/unblock", {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"triesLeft": 10, "maxTries": 10, "blocked": False})
        sent = "\n".join(self.new_apdus(before))
        self.assertIn(" 00200082 ", sent, "the unblock code's counter is read first")
        self.assertIn(UNBLOCK_WITH_PINS, sent)

    def test_10_nothing_typed_reaches_inkands_output(self):
        self.type_on_keypad("8642")
        self.pad_sign()
        self.assertNotIn("8642", self.daemon.output())
        self.assertNotIn("8642", (self.work / "pcscd.log").read_text(errors="replace"))
        self.assertNotIn("38363432", self.vcard.log.read_text())  # "8642" in hex


    def test_11_the_card_pulled_out_while_the_reader_waits_is_card_removed(self):
        thread, result = self.sign_while_the_reader_waits(b"pulled out")
        self.vcard.remove()
        thread.join(40)
        self.assertProblem(result["r"], 409, "CARD_REMOVED")
        wait_for(lambda: self.client.get(f"/v1/cards/{self.card_id}").status == 404, 20, what="the card gone")
        self.vcard.insert()
        wait_for(lambda: self.client.get(f"/v1/cards/{self.card_id}").status == 200, 20, what="the card back")
        self.type_on_keypad(DEMO_PIN)
        self.assertEqual(self.pad_sign(b"back again")[1].status, 200)


    def inkan(self, *args) -> subprocess.CompletedProcess:
        return run_inkan("--state-dir", self.daemon.state, "--port", self.daemon.port, "--card", self.card_id, *args)

    def test_12_inkan_signs_and_changes_the_pin_on_the_pad(self):
        document = self.work / "form.xml"
        document.write_text("<申請書>法人設立</申請書>")
        self.type_on_keypad(DEMO_PIN)
        result = self.inkan("sign", document, "--pinpad")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Type the PIN for card", result.stderr)
        self.assertIn("PIN pad", result.stderr)
        signature = (self.work / "form.xml.sig").read_bytes()
        pem = (self.work / "form.xml.cert.pem").read_text()
        verified = verify_signature(ssl.PEM_cert_to_DER_cert(pem), hashlib.sha256(document.read_bytes()).digest(), signature,
                                    "SHA-256", self.work)
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)

        self.type_on_keypad(DEMO_PIN, "13579", "13579")
        result = self.inkan("pin", "change", "--pinpad")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("PIN changed", result.stdout)
        self.type_on_keypad("13579", DEMO_PIN, DEMO_PIN)
        self.assertEqual(self.inkan("pin", "change", "--pinpad").returncode, 0)

        # Cancel on the pad: the CLI says so and spends nothing.
        self.type_on_keypad("CANCEL")
        result = self.inkan("sign", document, "--pinpad")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("PIN_CANCELLED", result.stderr)
        self.assertEqual(self.pin_status()["triesLeft"], 10)


class NoPinpadTest(SecurityStackTestCase):
    """vpcd has no PIN pad: an origin whose PIN belongs on one is refused before the card is asked."""

    inkand_config = {
        "allowedOrigins": [{"origin": PAD_PORTAL, "operations": ["read", "sign", "pin"], "pinSource": "pinpad"}],
        "pinentryProgram": None,
    }

    def test_a_reader_without_a_pin_pad_is_pinpad_unavailable(self):
        card = self.page(PAD_PORTAL).get(f"/v1/cards/{self.card_id}").json()
        self.assertFalse(card["pinpad"])
        before = self.vcard.apdu_count()
        r = self.page(PAD_PORTAL).post(f"/v1/cards/{self.card_id}/sign", self.sign_body(pin=None))
        self.assertProblem(r, 503, "PINPAD_UNAVAILABLE")
        # The local client asking for the PIN pad gets the same answer.
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pinpad": True})
        self.assertProblem(r, 503, "PINPAD_UNAVAILABLE")
        self.assertNothingReachedTheCard(before)


if __name__ == "__main__":
    unittest.main()
