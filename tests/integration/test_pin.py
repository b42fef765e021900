"""The PIN story on the real card: counters, blocking, unblocking, changing."""

import hashlib
import json
import unittest

from event_stream import EventStream
from harness import ARTIFACTS, DEMO_PIN, DEMO_UNBLOCK, StackTestCase, b64, documented_apdus, unb64, verify_signature

# docs/reference-card.md: SELECT of the application answering its FCI, and VERIFY without data.
SELECT_WITH_FCI = "00A4040007F0494E4B414E0100"
PIN_STATUS = "00200081"


def commands(log_lines: list[str]) -> list[str]:
    """The command APDUs (hex, PIN data redacted) of APDU log lines "<time> <command> <status word>"."""
    return [line.split()[1] for line in log_lines]


class PinStoryTest(StackTestCase):
    def verify(self, pin, acknowledge=False):
        body = {"pin": pin}
        if acknowledge:
            body["acknowledgeLowTries"] = True
        return self.client.post(f"/v1/cards/{self.card_id}/pin/verify", body)

    def test_1_status_reading_spends_no_try(self):
        for _ in range(3):
            self.assertEqual(self.pin_status(), {"triesLeft": 10, "maxTries": 10, "blocked": False})
        log = self.vcard.apdu_lines()
        pin_reads = [line for line in log if " 00200081 " in line]
        self.assertTrue(pin_reads, "PIN status must come from the card (VERIFY without data)")

    def test_2_wrong_pin_counts_down_and_right_pin_restores(self):
        problem = self.assertProblem(self.verify("9999"), 403, "PIN_INCORRECT")
        self.assertEqual(problem["triesLeft"], 9)
        problem = self.assertProblem(self.verify("99999"), 403, "PIN_INCORRECT")
        self.assertEqual(problem["triesLeft"], 8)
        self.assertEqual(self.pin_status()["triesLeft"], 8)
        # The cached card listing follows the PIN operations.
        card = self.client.get(f"/v1/cards/{self.card_id}").json()
        self.assertEqual(card["pin"]["triesLeft"], 8)
        r = self.verify(DEMO_PIN)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"triesLeft": 10, "maxTries": 10, "blocked": False})

    def test_3_no_pin_in_anything_inkand_writes(self):
        # PINs long and random enough never to occur by chance in a key, a token or a serial.
        pin, wrong = "80715926", "62951708"
        received = {}
        with EventStream(self.daemon) as events:
            answers = [
                self.client.post(f"/v1/cards/{self.card_id}/pin/change", {"pin": DEMO_PIN, "newPin": pin}),
                self.verify(wrong),
                self.verify(pin),
                self.client.post(f"/v1/cards/{self.card_id}/sign", {"digest": b64(hashlib.sha256(b"x").digest()),
                                                                    "digestAlgorithm": "SHA-256", "pin": pin}),
                self.client.post(f"/v1/cards/{self.card_id}/pin/change", {"pin": pin, "newPin": DEMO_PIN}),
            ]
            self.assertEqual([a.status for a in answers], [200, 403, 200, 200, 200], answers)
            for _ in range(2):  # both changes' events, so everything before them has been read too
                events.wait_for("pin-status", lambda data: data["operation"] == "change")
            received["event stream"] = events.raw
        received.update({f"answer {i}": a.body for i, a in enumerate(answers)})
        self.daemon.assert_secrets_not_written([pin, wrong], also=received)

    def test_4_change_pin(self):
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/change", {"pin": "0000", "newPin": "24680"})
        self.assertEqual(self.assertProblem(r, 403, "PIN_INCORRECT")["triesLeft"], 9)
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/change", {"pin": DEMO_PIN, "newPin": "12"})
        self.assertProblem(r, 400, "PIN_FORMAT")
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/change", {"pin": DEMO_PIN, "newPin": "24680"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["triesLeft"], 10)
        self.assertProblem(self.verify(DEMO_PIN), 403, "PIN_INCORRECT")
        self.assertEqual(self.verify("24680").status, 200)
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/change", {"pin": "24680", "newPin": DEMO_PIN})
        self.assertEqual(r.status, 200, r)

    def test_5_ten_wrong_pins_block_and_unblock_restores(self):
        for expected in range(9, 2, -1):
            problem = self.assertProblem(self.verify("0000"), 403, "PIN_INCORRECT")
            self.assertEqual(problem["triesLeft"], expected)
        # Three tries left: the PIN guard spends one only when the request says it means to.
        before = self.vcard.apdu_count()
        problem = self.assertProblem(self.verify("0000"), 409, "PIN_GUARD")
        self.assertEqual(problem["triesLeft"], 3)
        self.assertNotIn(" 0020008110", "\n".join(self.vcard.apdu_lines()[before:]), "no VERIFY with a PIN may reach the card")
        # The guard decided on the counter read by the operation itself, after its one SELECT.
        self.assertEqual(commands(self.vcard.apdu_lines()[before:]), [SELECT_WITH_FCI, PIN_STATUS])
        for expected in (2, 1):
            problem = self.assertProblem(self.verify("0000", acknowledge=True), 403, "PIN_INCORRECT")
            self.assertEqual(problem["triesLeft"], expected)
        self.assertProblem(self.verify("0000", acknowledge=True), 423, "PIN_BLOCKED")
        self.assertEqual(self.pin_status(), {"triesLeft": 0, "maxTries": 10, "blocked": True})
        # Blocked: even the right PIN is refused, and signing is refused.
        self.assertProblem(self.verify(DEMO_PIN, acknowledge=True), 423, "PIN_BLOCKED")
        self.assertProblem(self.sign(hashlib.sha256(b"blocked").digest()), 423, "PIN_BLOCKED")
        card = self.client.get(f"/v1/cards/{self.card_id}").json()
        self.assertTrue(card["pin"]["blocked"])
        # Wrong unblock code: refused with its own counter.
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/unblock", {"unblockCode": "87654321", "newPin": "1357"})
        problem = self.assertProblem(r, 403, "UNBLOCK_CODE_INCORRECT")
        self.assertEqual(problem["triesLeft"], 9)
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/unblock", {"unblockCode": "1234", "newPin": "1357"})
        self.assertProblem(r, 400, "PIN_FORMAT")
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/unblock", {"unblockCode": DEMO_UNBLOCK, "newPin": DEMO_PIN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"triesLeft": 10, "maxTries": 10, "blocked": False})
        self.assertEqual(self.sign(hashlib.sha256(b"usable again").digest()).status, 200)

    def test_6_pin_format_is_checked_before_the_card(self):
        before = self.vcard.apdu_count()
        for pin in ("", "123", "12345678901234567", "12a4", "１２３４", " 1234"):
            with self.subTest(pin=pin):
                self.assertProblem(self.verify(pin), 400, "PIN_FORMAT")
        self.assertProblem(self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": 1234}), 400, "BAD_REQUEST")
        self.assertProblem(self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {}), 400, "BAD_REQUEST")
        self.assertEqual(self.vcard.apdu_count(), before)

    def unblock(self, code, acknowledge=False):
        body = {"unblockCode": code, "newPin": DEMO_PIN}
        if acknowledge:
            body["acknowledgeLowTries"] = True
        return self.client.post(f"/v1/cards/{self.card_id}/pin/unblock", body)

    def test_7_the_unblock_codes_last_tries_are_guarded_and_its_counter_read_first(self):
        # The last test of the class: it leaves the card unusable for good, as a
        # real card whose unblock code is blocked.
        before = self.vcard.apdu_count()
        for expected in range(9, 2, -1):
            self.assertEqual(self.assertProblem(self.unblock("87654321"), 403, "UNBLOCK_CODE_INCORRECT")["triesLeft"], expected)
        # Its counter is read without spending a try (VERIFY 82 without data) before each attempt.
        self.assertIn(" 00200082 ", "\n".join(self.vcard.apdu_lines()[before:]))
        before = self.vcard.apdu_count()
        problem = self.assertProblem(self.unblock(DEMO_UNBLOCK), 409, "PIN_GUARD")
        self.assertEqual(problem["triesLeft"], 3)
        self.assertNotIn(" 002C008120", "\n".join(self.vcard.apdu_lines()[before:]), "no RESET RETRY COUNTER may reach the card")
        # Acknowledged, the right code still works and restores both counters.
        self.assertEqual(self.unblock(DEMO_UNBLOCK, acknowledge=True).status, 200)
        for expected in range(9, 0, -1):
            self.assertEqual(self.assertProblem(self.unblock("87654321", acknowledge=True), 403,
                                                "UNBLOCK_CODE_INCORRECT")["triesLeft"], expected)
        self.assertProblem(self.unblock("87654321", acknowledge=True), 423, "UNBLOCK_CODE_BLOCKED")
        before = self.vcard.apdu_count()
        self.assertProblem(self.unblock(DEMO_UNBLOCK, acknowledge=True), 423, "UNBLOCK_CODE_BLOCKED")
        self.assertNotIn(" 002C008120", "\n".join(self.vcard.apdu_lines()[before:]))


class OneTransactionTest(StackTestCase):
    """The counter the guard decides on and the command spending the try come from one
    transaction: after one SELECT, the counter read, then the PIN command."""

    def test_a_verification_selects_once_reads_the_counter_then_sends_the_pin(self):
        before = self.vcard.apdu_count()
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN})
        self.assertEqual(r.status, 200, r)
        sent = commands(self.vcard.apdu_lines()[before:])
        self.assertEqual(sent.count(SELECT_WITH_FCI), 1, sent)
        self.assertEqual(len([c for c in sent if c.startswith("00A4")]), 1, sent)
        # SELECT, the guard's read, the VERIFY with the PIN (redacted), the tries read back.
        self.assertEqual(len(sent), 4, sent)
        self.assertEqual(sent[:2], [SELECT_WITH_FCI, PIN_STATUS])
        self.assertTrue(sent[2].startswith("0020008110"), sent)
        self.assertEqual(sent[3], PIN_STATUS)

    def test_a_signature_with_pin_selects_once(self):
        digest = hashlib.sha256(b"one select").digest()
        before = self.vcard.apdu_count()
        r = self.sign(digest)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        result = verify_signature(unb64(body["certificate"]), digest, unb64(body["signature"]), "SHA-256", self.work)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        sent = commands(self.vcard.apdu_lines()[before:])
        self.assertEqual(len([c for c in sent if c.startswith("00A4")]), 1, sent)
        self.assertEqual(sent[:2], [SELECT_WITH_FCI, PIN_STATUS])
        self.assertTrue(sent[2].startswith("0020008110"), sent)
        self.assertTrue(sent[3].startswith("002241B6"), sent)  # MSE SET
        self.assertTrue(sent[4].startswith("002A9E9A"), sent)  # PSO COMPUTE DIGITAL SIGNATURE

    def test_apdu_economy_is_what_docs_benchmarks_says(self):
        self.take_card_out()
        before = self.vcard.apdu_count()
        self.put_card_back()
        measured = {"reference: reading an inserted card": self.vcard.apdu_count() - before}
        before = self.vcard.apdu_count()
        for path in ("/v1/cards", f"/v1/cards/{self.card_id}", "/v1/status", f"/v1/cards/{self.card_id}/pins"):
            self.assertEqual(self.client.get(path).status, 200)
        measured["reference: card listings, PIN lists"] = self.vcard.apdu_count() - before
        before = self.vcard.apdu_count()
        self.pin_status()
        measured["reference: one PIN's status"] = self.vcard.apdu_count() - before
        before = self.vcard.apdu_count()
        self.assertEqual(self.sign(hashlib.sha256(b"economy").digest()).status, 200)
        measured["reference: signature, PIN given"] = self.vcard.apdu_count() - before
        (ARTIFACTS / "reference-inkand-apdu-economy.json").write_text(json.dumps(measured, indent=2))
        self.assertEqual(measured["reference: card listings, PIN lists"], 0)
        for label, count in measured.items():
            self.assertEqual(documented_apdus(label), count, f"docs/benchmarks.md is stale; measured {measured}")


class CardWithFiveTriesTest(StackTestCase):
    """A card issued with 5 tries (not the usual 10): the answers are the card's, not a constant."""

    vcard_args = ("--max-tries", "5")

    def test_tries_left_and_maximum_come_from_the_card(self):
        fresh = {"triesLeft": 5, "maxTries": 5, "blocked": False}
        self.assertEqual(self.pin_status(), fresh)
        r = self.client.get(f"/v1/cards/{self.card_id}/unblock-code")
        self.assertEqual(r.json(), fresh, r)
        wrong = self.assertProblem(self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": "9999"}), 403,
                                   "PIN_INCORRECT")
        self.assertEqual(wrong["triesLeft"], 4)
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN})
        self.assertEqual((r.status, r.json()), (200, fresh))
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/change", {"pin": DEMO_PIN, "newPin": "24680"})
        self.assertEqual((r.status, r.json()), (200, fresh))
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/unblock", {"unblockCode": DEMO_UNBLOCK, "newPin": DEMO_PIN})
        self.assertEqual((r.status, r.json()), (200, fresh))
        r = self.sign(hashlib.sha256(b"five").digest())
        self.assertEqual(r.status, 200, r)
        card = self.client.get(f"/v1/cards/{self.card_id}").json()
        self.assertEqual(card["pin"], fresh)


if __name__ == "__main__":
    unittest.main()
