"""GET /v1/events on the real stack, and `inkan events` following it.

The virtual card is pulled out and put back, its PIN is run out and unblocked,
readers reconnect with Last-Event-ID; every event is read from the stream as a
browser would read it with fetch() streaming (docs/events.md).
"""

import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

from event_stream import EventStream
from harness import BIN_DIR, DEMO_PIN, DEMO_UNBLOCK, StackTestCase, wait_for

PORTAL = "https://portal.example"
CLIENT = {"Inkan-Client": "inkan integration tests"}



class EventsTest(StackTestCase):
    @classmethod
    def setUpClass(cls):
        # With a warning period longer than the virtual card's 27-month certificate,
        # every insertion also announces certificate-expiring.
        cls.config_dir = Path(tempfile.mkdtemp(prefix="inkan-events-config-"))
        config = cls.config_dir / "inkand.json"
        config.write_text(json.dumps({"certificateExpiryWarningDays": 1000, "pinentryProgram": None}))
        cls.inkand_args = ("--config", str(config), "--allow-origin", PORTAL)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.config_dir, ignore_errors=True)

    def open_stream(self, **kw) -> EventStream:
        stream = EventStream(self.daemon, **kw)
        self.addCleanup(stream.close)
        return stream

    def opened(self, **kw) -> EventStream:
        """A stream that is ready: its first block (retry and the current id) has been read."""
        stream = self.open_stream(**kw)
        self.assertEqual(stream.status, 200, stream.body() if stream.status != 200 else "")
        first = stream.next_block()
        self.assertEqual(first.retry, 2000)
        return stream

    def remove_card(self):
        self.vcard.remove()
        wait_for(lambda: not any(c["id"] == self.card_id for c in self.client.get("/v1/cards").json()["cards"]),
                 20, what="the card to be gone")

    def insert_card(self):
        self.vcard.insert()
        self.wait_for_card()

    # --- the stream itself ---------------------------------------------------------

    def test_stream_is_text_event_stream_starting_with_retry_and_the_current_id(self):
        stream = self.open_stream()
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.headers["Content-Type"], "text/event-stream")
        self.assertEqual(stream.headers["Cache-Control"], "no-store")
        self.assertEqual(stream.headers["Transfer-Encoding"], "chunked")
        first = stream.next_block()
        self.assertEqual(first.retry, 2000)
        self.assertTrue(first.id and first.id.isdigit(), first)
        self.assertFalse(first.is_event)

    def test_card_removal_and_reinsertion_are_announced_live(self):
        stream = self.opened()
        self.vcard.remove()
        removed = stream.wait_for("card-removed")
        self.assertEqual(removed.data["cardId"], self.card_id)
        self.assertTrue(removed.data["reader"].endswith(" 00 00"))

        self.vcard.insert()
        inserted = stream.wait_for("card-inserted")
        self.assertEqual(inserted.data["cardId"], self.card_id)
        self.assertTrue(inserted.data["supported"])
        self.assertEqual(inserted.data["profile"], "inkan-reference")
        self.assertTrue(inserted.data["label"])
        self.assertRegex(inserted.data["atr"], "^[0-9A-F]+$")
        # Announced after card-inserted: the card's certificate ends within the configured 1000 days.
        expiring = stream.wait_for("certificate-expiring", lambda d: d["certificateId"] == "sign")
        self.assertEqual(expiring.data["cardId"], self.card_id)
        self.assertGreater(expiring.data["daysLeft"], 700)
        cert = self.client.get(f"/v1/cards/{self.card_id}/certificates/sign").json()
        self.assertEqual(expiring.data["notAfter"], cert["notAfter"])
        self.assertGreater(int(expiring.id), int(inserted.id))
        self.wait_for_card()

    def test_ids_increase_and_many_readers_get_the_same_events(self):
        streams = [self.opened() for _ in range(4)]
        self.remove_card()
        self.insert_card()
        seen = []
        for stream in streams:
            removed = stream.wait_for("card-removed")
            inserted = stream.wait_for("card-inserted")
            self.assertLess(int(removed.id), int(inserted.id))
            seen.append((removed.id, inserted.id))
        self.assertEqual(len(set(seen)), 1, seen)

    def test_pin_operations_announce_the_tries_left_and_running_out_announces_pin_blocked(self):
        stream = self.opened()
        try:
            r = self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": "9999"}, headers=CLIENT)
            self.assertProblem(r, 403, "PIN_INCORRECT")
            status = stream.wait_for("pin-status")
            self.assertEqual(status.data, {"cardId": self.card_id, "pinId": "user", "operation": "verify", "triesLeft": 9, "maxTries": 10,
                                           "blocked": False})

            # Run out the PIN (acknowledging the last tries, which the PIN guard otherwise protects).
            for _ in range(9):
                self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": "9999", "acknowledgeLowTries": True},
                                 headers=CLIENT)
            self.assertTrue(self.pin_status()["blocked"])
            blocked = stream.wait_for("pin-blocked")
            self.assertEqual(blocked.data, {"cardId": self.card_id, "pinId": "user"})
        finally:
            r = self.client.post(f"/v1/cards/{self.card_id}/pin/unblock", {"unblockCode": DEMO_UNBLOCK, "newPin": DEMO_PIN},
                                 headers=CLIENT)
            self.assertEqual(r.status, 200, r)
        unblocked = stream.wait_for("pin-status", lambda d: d["operation"] == "unblock")
        self.assertEqual(unblocked.data["triesLeft"], 10)
        self.assertFalse(unblocked.data["blocked"])

    def test_heartbeat_comment_when_nothing_happens(self):
        stream = self.opened()
        started = time.monotonic()
        block = stream.next_block(timeout=20)
        self.assertEqual(block.comments, ["heartbeat"], block)
        self.assertFalse(block.is_event)
        self.assertGreater(time.monotonic() - started, 10)

    # --- resuming ------------------------------------------------------------------

    def test_a_reader_that_reconnects_with_last_event_id_gets_what_it_missed(self):
        stream = self.opened()
        seen = stream.last_id
        stream.close()

        self.remove_card()
        self.insert_card()

        resumed = self.open_stream(headers={"Last-Event-ID": seen})
        self.assertEqual(resumed.status, 200)
        first = resumed.next_block()
        self.assertEqual(first.retry, 2000)
        self.assertIsNone(first.id)  # a resuming reader keeps its own id
        missed = [resumed.next_event(5) for _ in range(2)]
        self.assertEqual([e.event for e in missed], ["card-removed", "card-inserted"])
        self.assertEqual(int(missed[0].id), int(seen) + 1)
        self.assertEqual(int(missed[1].id), int(seen) + 2)

    def test_a_last_event_id_that_is_too_old_or_unknown_gets_a_reset(self):
        for last_id, reason in (("1", "expired"), ("not-a-number", "invalid"), ("99999999999999999", "invalid")):
            with self.subTest(last_id=last_id):
                stream = self.open_stream(headers={"Last-Event-ID": last_id})
                self.assertEqual(stream.status, 200)
                reset = stream.next_event(5)
                self.assertEqual(reset.event, "reset")
                self.assertEqual(reset.data, {"reason": reason})
                self.assertTrue(reset.id.isdigit())
                stream.close()

    # --- the gate --------------------------------------------------------------------

    def test_without_token_the_stream_is_unauthorized(self):
        stream = self.open_stream(token=None)
        self.assertEqual(stream.status, 401)
        self.assertEqual(json.loads(stream.body())["code"], "UNAUTHORIZED")

    def test_a_foreign_origin_is_refused_even_with_the_token(self):
        stream = self.open_stream(headers={"Origin": "https://evil.example"})
        self.assertEqual(stream.status, 403)
        self.assertEqual(json.loads(stream.body())["code"], "ORIGIN_FORBIDDEN")
        self.assertNotIn("Access-Control-Allow-Origin", stream.headers)

    def test_an_allowed_origin_reads_the_stream_without_token(self):
        stream = self.open_stream(token=None, headers={"Origin": PORTAL})
        self.assertEqual(stream.status, 200)
        self.assertEqual(stream.headers["Access-Control-Allow-Origin"], PORTAL)
        self.assertEqual(stream.next_block().retry, 2000)

    # --- inkan events ------------------------------------------------------------------

    def run_cli_events(self, *args):
        """`inkan events` in the background, resuming from the current event id (so
        whatever happens from now on reaches it, however long it takes to connect).
        Returns the process and a list that fills with its stdout lines."""
        probe = self.opened()
        now = probe.last_id
        probe.close()
        proc = subprocess.Popen([str(BIN_DIR / "inkan"), "--port", str(self.daemon.port), "--state-dir", str(self.daemon.state),
                                 "events", "--last-event-id", now, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        def finish():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        self.addCleanup(finish)
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
        return proc, lines

    def test_cli_events_prints_json_lines_and_exits_0_on_ctrl_c(self):
        proc, lines = self.run_cli_events("--json")
        self.remove_card()
        self.insert_card()
        wait_for(lambda: any('"card-inserted"' in line for line in lines), 20, what="card-inserted from `inkan events`")
        events = [json.loads(line) for line in lines]
        types = [e["type"] for e in events]
        self.assertIn("card-removed", types)
        removed = events[types.index("card-removed")]
        self.assertIsInstance(removed["id"], int)
        self.assertEqual(removed["data"]["cardId"], self.card_id)
        inserted = events[types.index("card-inserted")]
        self.assertGreater(inserted["id"], removed["id"])

        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(10), 0, proc.stderr.read())

    def test_cli_events_prints_a_line_per_event_for_people(self):
        proc, lines = self.run_cli_events()
        self.remove_card()
        self.insert_card()
        wait_for(lambda: any(" inserted in " in line for line in lines), 20, what="a card-inserted line")
        text = "".join(lines)
        self.assertRegex(text, rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d  card {self.card_id} removed from '.* 00 00'")
        self.assertIn(f"card {self.card_id} inserted in ", text)
        self.assertIn("expires in", text)
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(10), 0)

    def test_cli_events_without_inkand_exits_2(self):
        r = subprocess.run([str(BIN_DIR / "inkan"), "--port", "1", "--state-dir", str(self.daemon.state), "events"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("not running", r.stderr)


if __name__ == "__main__":
    unittest.main()
