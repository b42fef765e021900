"""Cards and services come and go; inkand follows without a restart."""

import concurrent.futures
import hashlib
import time
import unittest

from harness import VPCD_PORT_2, StackTestCase, VirtualCard, unb64, verify_signature, wait_for


def security_environments_set(vcard):
    return sum(1 for line in vcard.apdu_lines() if " 002241B6" in line)


def wait_until_signing(vcard, mse_before):
    """Return while the card is computing a signature (its --latency-ms keeps it busy).

    The card logs an APDU when it answers, so a new MSE SET line, which comes right
    before PSO COMPUTE DIGITAL SIGNATURE, marks the start of the slow part."""
    wait_for(lambda: security_environments_set(vcard) > mse_before, 10, interval=0.01,
             what="the signature to start on the card")
    time.sleep(0.3)


class HotplugTest(StackTestCase):
    # A signature takes 1.5 s on this card, so it can be pulled out mid-operation.
    vcard_args = ("--latency-ms", "1500")

    def listed_ids(self):
        r = self.client.get("/v1/cards")
        return [c["id"] for c in r.json()["cards"]] if r.status == 200 else None

    def wait_listed(self, present: bool, card_id=None):
        card_id = card_id or self.card_id
        wait_for(lambda: (card_id in (self.listed_ids() or [])) == present, 20,
                 what=f"card {card_id} to be {'listed' if present else 'gone'}")

    def assert_signs(self, card_id=None):
        digest = hashlib.sha256(b"after hot-plug").digest()
        r = self.sign(digest, card_id=card_id)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        result = verify_signature(unb64(body["certificate"]), digest, unb64(body["signature"]), "SHA-256", self.work)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_1_card_removed_during_signing_then_reinserted(self):
        mse_before = security_environments_set(self.vcard)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = pool.submit(self.sign, hashlib.sha256(b"pulled out").digest())
            wait_until_signing(self.vcard, mse_before)
            self.vcard.remove()
            r = pending.result(30)
        self.assertProblem(r, 409, "CARD_REMOVED")
        self.wait_listed(False)
        self.assertProblem(self.client.get(f"/v1/cards/{self.card_id}/pin"), 404, "CARD_NOT_FOUND")
        status = self.client.get("/v1/status").json()
        self.assertFalse(any(reader.get("cardId") == self.card_id for reader in status["readers"]))

        self.vcard.insert()
        self.wait_listed(True)
        self.assert_signs()

    def test_2_pcscd_restart_is_survived(self):
        self.pcscd.restart()  # skips when pcscd is not ours
        # The card reconnects by itself to the new pcscd; inkand re-establishes its context.
        self.wait_listed(True)
        wait_for(lambda: self.client.get("/v1/status").json()["pcscAvailable"], 20, what="pcscAvailable again")
        self.assert_signs()

    def test_3_pcscd_down_is_reported(self):
        if not self.pcscd.owned:
            self.skipTest("pcscd was not started by the tests")
        self.pcscd.stop()
        try:
            wait_for(lambda: self.client.get("/v1/status").json()["pcscAvailable"] is False, 20, what="pcscAvailable false")
            self.assertEqual(self.listed_ids(), [])
            # The card is gone with pcscd; asking for it names the cause, not the card.
            self.assertProblem(self.client.get(f"/v1/cards/{self.card_id}/pin"), 503, "PCSC_UNAVAILABLE")
            self.assertProblem(self.client.get(f"/v1/cards/{self.card_id}"), 503, "PCSC_UNAVAILABLE")
        finally:
            self.pcscd.start()
        self.wait_listed(True)
        self.assert_signs()

    def test_4_same_card_in_another_reader_keeps_its_id(self):
        self.vcard.stop()
        self.wait_listed(False)
        moved = VirtualCard(self.work, name="vcard", port=VPCD_PORT_2)  # same state dir: the same card
        moved.start()
        try:
            self.wait_listed(True)
            card = self.client.get(f"/v1/cards/{self.card_id}").json()
            self.assertIn("01", card["reader"].split()[-1])
            self.assert_signs()
        finally:
            moved.stop()
        self.vcard.start()
        self.wait_listed(True)

    def test_5_another_card_gets_another_id_and_fresh_certificates(self):
        old_der = unb64(self.client.get(f"/v1/cards/{self.card_id}/certificates/sign").json()["der"])
        self.vcard.stop()
        self.wait_listed(False)
        other = VirtualCard(self.work, name="other")  # another state dir: another key, certificate and serial
        other.start()
        try:
            other_id = wait_for(lambda: next(iter(self.listed_ids() or []), None), 20, what="the other card")
            self.assertNotEqual(other_id, self.card_id)
            new_der = unb64(self.client.get(f"/v1/cards/{other_id}/certificates/sign").json()["der"])
            self.assertNotEqual(new_der, old_der)
            self.assert_signs(card_id=other_id)
        finally:
            other.stop()
        self.vcard.start()
        self.wait_listed(True)


class ShutdownTest(StackTestCase):
    vcard_args = ("--latency-ms", "1500")

    def test_sigterm_finishes_the_running_signature_then_exits(self):
        mse_before = security_environments_set(self.vcard)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pending = pool.submit(self.sign, hashlib.sha256(b"finish me").digest())
            wait_until_signing(self.vcard, mse_before)
            started = time.monotonic()
            self.daemon.proc.send_signal(15)
            r = pending.result(30)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.daemon.proc.wait(15), 0)
        self.assertLess(time.monotonic() - started, 15)


if __name__ == "__main__":
    unittest.main()
