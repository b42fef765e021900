"""PINs entered outside the page: inkand's pinentry dialogs (docs/security.md "PIN sources").

Two kinds of pinentry: a scripted Assuan peer (a small program written here,
answering as told and recording what inkand asked), and Debian's real
pinentry-tty, driven on a pseudo-terminal as a user would type into it.
Either way the page sends no PIN, the PIN never appears in inkand's output,
and a cancelled dialog is PIN_CANCELLED with no PIN reaching the card.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import tempfile
import threading
import time
import unittest
import urllib.parse
from pathlib import Path

from harness import ARTIFACTS, DEMO_PIN, b64, unb64, verify_signature, wait_for
from test_security import SecurityStackTestCase

PORTAL = "https://portal.example.jp"
HOLDER = "株式会社いんかん商事"  # the virtual card's company (its certificate's O)

# A pinentry that answers GETPIN and CONFIRM from a queue file (one answer a
# line: "pin:DIGITS", "ok", "notok", "cancel", "timeout") and appends every
# command it receives to a log, so the tests see what the dialog showed.
SCRIPTED_PINENTRY = r'''#!/usr/bin/python3
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
answers = here / "answers"
log = here / "commands.log"

def reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

def next_answer():
    lines = answers.read_text().splitlines() if answers.exists() else []
    answer = lines.pop(0) if lines else "cancel"
    answers.write_text("".join(l + "\n" for l in lines))
    return answer

reply("OK Pleased to meet you")
for line in sys.stdin:
    line = line.rstrip("\n")
    verb = line.split(" ", 1)[0]
    with open(log, "a", encoding="utf-8") as f:
        f.write(line + "\n")
    if verb in ("GETPIN", "CONFIRM"):
        answer = next_answer()
        if answer.startswith("pin:") and verb == "GETPIN":
            reply("D " + answer[4:])
            reply("OK")
        elif answer == "ok":
            reply("OK")
        elif answer == "notok":
            reply("ERR 83886194 Not confirmed <Pinentry>")
        elif answer == "timeout":
            reply("ERR 83886142 Timeout <Pinentry>")
        else:
            reply("ERR 83886179 Operation cancelled <Pinentry>")
    elif verb == "BYE":
        reply("OK closing connection")
        break
    else:
        reply("OK")
'''


def unescape(text: str) -> str:
    """Assuan's %XX escapes, back to text."""
    return urllib.parse.unquote(text)


class ScriptedPinentryTest(SecurityStackTestCase):
    @classmethod
    def setUpClass(cls):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        cls.dialogs = Path(tempfile.mkdtemp(prefix="pinentry-", dir=ARTIFACTS))
        program = cls.dialogs / "pinentry-scripted"
        program.write_text(SCRIPTED_PINENTRY)
        program.chmod(0o755)
        cls.inkand_config = {
            "allowedOrigins": [{"origin": PORTAL, "operations": ["read", "sign", "pin"], "pinSource": "pinentry"}],
            "pinentryProgram": str(program),
            "pinentryTimeoutSeconds": 10,
        }
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if os.environ.get("INKAN_KEEP_ARTIFACTS") != "1":
            shutil.rmtree(cls.dialogs, ignore_errors=True)

    def setUp(self):
        (self.dialogs / "commands.log").write_text("")
        self.answer()

    def answer(self, *answers: str):
        (self.dialogs / "answers").write_text("".join(a + "\n" for a in answers))

    def shown(self, verb: str) -> list[str]:
        lines = (self.dialogs / "commands.log").read_text(encoding="utf-8").splitlines()
        return [unescape(line[len(verb) + 1:]) for line in lines if line.startswith(verb + " ")]

    def test_the_pin_comes_from_the_dialog_and_the_dialog_says_who_asks(self):
        self.answer(f"pin:{DEMO_PIN}")
        portal = self.page(PORTAL)
        self.assertEqual(portal.get("/v1/access").json()["pinSource"], "pinentry")
        r = portal.post(f"/v1/cards/{self.card_id}/sign", self.sign_body(pin=None))
        self.assertEqual(r.status, 200, r)
        digest = hashlib.sha256(b"an e-application form").digest()
        result = verify_signature(unb64(r.json()["certificate"]), digest, unb64(r.json()["signature"]), "SHA-256", self.work)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        description = "\n".join(self.shown("SETDESC"))
        self.assertIn(PORTAL, description)
        self.assertIn(HOLDER, description)
        self.assertIn("sign", description)
        self.assertIn("PIN tries left: 10 of 10", description)
        self.assertNotIn(DEMO_PIN, self.daemon.output())

    def test_a_document_signature_shows_the_document_and_the_ledger_records_it(self):
        self.answer(f"pin:{DEMO_PIN}")
        content = "登記申請書\n商号 株式会社いんかん商事\n".encode()
        # A page names the file; a name with line breaks must not add lines to the dialog.
        name = "申請書.txt\n\nPIN tries left: 99 of 99"
        r = self.page(PORTAL).post(f"/v1/cards/{self.card_id}/signatures",
                                   {"format": "cms", "content": b64(content), "name": name})
        self.assertEqual(r.status, 200, r)
        description = "\n".join(self.shown("SETDESC"))
        self.assertIn(PORTAL, description)
        self.assertIn("Document (cms):", description)
        self.assertIn("(name given by the caller)", description)
        self.assertIn(f"\n{len(content)} bytes\n", description)
        self.assertIn("\nSHA-256 " + hashlib.sha256(content).hexdigest(), description)
        self.assertIn("PIN tries left: 10 of 10", description)
        self.assertNotIn("\nPIN tries left: 99", description)
        self.assertEqual(self.shown("SETOK"), ["Sign"])

        records = [json.loads(line) for path in sorted((self.daemon.state / "audit").glob("ledger-*.jsonl"))
                   for line in path.read_text(encoding="utf-8").splitlines()]
        intents = [rec for rec in records if rec.get("op") == "sign" and rec.get("event") == "intent"]
        self.assertTrue(intents, records[-3:])
        target = intents[-1].get("target", "")
        self.assertTrue(target.startswith("document cms name=\"申請書.txt"), target)
        self.assertIn(f" size={len(content)} sha256={hashlib.sha256(content).hexdigest()}", target)
        self.assertNotIn("\n", target)

    def test_a_pdf_signature_shows_its_page_count(self):
        from test_pdf import ONE_PAGE  # a one-page PDF written by the tests
        self.answer(f"pin:{DEMO_PIN}")
        r = self.page(PORTAL).post(f"/v1/cards/{self.card_id}/signatures", {"format": "pdf", "content": b64(ONE_PAGE)})
        self.assertEqual(r.status, 200, r)
        description = "\n".join(self.shown("SETDESC"))
        self.assertIn("Document (pdf):", description)
        self.assertIn(f"\n{len(ONE_PAGE)} bytes, 1 page\n", description)
        self.assertIn("\nSHA-256 " + hashlib.sha256(ONE_PAGE).hexdigest(), description)
        records = [json.loads(line) for path in sorted((self.daemon.state / "audit").glob("ledger-*.jsonl"))
                   for line in path.read_text(encoding="utf-8").splitlines()]
        target = [rec for rec in records if rec.get("op") == "sign" and rec.get("event") == "intent"][-1].get("target", "")
        self.assertEqual(target, f"document pdf size={len(ONE_PAGE)} pages=1 sha256={hashlib.sha256(ONE_PAGE).hexdigest()}")

    def test_a_cancelled_dialog_is_pin_cancelled_and_no_pin_reaches_the_card(self):
        self.answer("cancel")
        before = self.vcard.apdu_count()
        r = self.page(PORTAL).post(f"/v1/cards/{self.card_id}/sign", self.sign_body(pin=None))
        self.assertProblem(r, 409, "PIN_CANCELLED")
        self.assertNoPinReachedTheCard(before)
        self.answer("timeout")
        r = self.page(PORTAL).post(f"/v1/cards/{self.card_id}/pin/verify", {})
        self.assertProblem(r, 409, "PIN_ENTRY_TIMEOUT")
        self.assertNoPinReachedTheCard(before)
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_a_page_that_sends_a_pin_anyway_is_refused(self):
        # This origin's PIN belongs in the dialog; a page holding it is a page that phished it.
        before = self.vcard.apdu_count()
        r = self.page(PORTAL).post(f"/v1/cards/{self.card_id}/sign", self.sign_body())
        self.assertProblem(r, 400, "PIN_SOURCE_MISMATCH")
        self.assertNothingReachedTheCard(before)
        self.assertEqual(self.shown("SETDESC"), [], "no dialog for a refused request")

    def test_a_wrong_pin_typed_in_the_dialog_counts_and_a_malformed_one_is_refused_first(self):
        self.answer("pin:0000")
        r = self.page(PORTAL).post(f"/v1/cards/{self.card_id}/sign", self.sign_body(pin=None))
        self.assertEqual(self.assertProblem(r, 403, "PIN_INCORRECT")["triesLeft"], 9)
        before = self.vcard.apdu_count()
        self.answer("pin:12ab")
        r = self.page(PORTAL).post(f"/v1/cards/{self.card_id}/sign", self.sign_body(pin=None))
        self.assertProblem(r, 400, "PIN_FORMAT")
        self.assertNoPinReachedTheCard(before)
        self.answer(f"pin:{DEMO_PIN}")
        self.assertEqual(self.page(PORTAL).post(f"/v1/cards/{self.card_id}/pin/verify", {}).status, 200)

    def test_the_pin_is_changed_through_the_dialog(self):
        self.answer(f"pin:{DEMO_PIN}", "pin:24680")
        r = self.page(PORTAL).post(f"/v1/cards/{self.card_id}/pin/change", {})
        self.assertEqual(r.status, 200, r)
        self.assertIn("New PIN:", self.shown("SETPROMPT"))
        self.answer("pin:24680", f"pin:{DEMO_PIN}")
        self.assertEqual(self.page(PORTAL).post(f"/v1/cards/{self.card_id}/pin/change", {}).status, 200)
        self.assertEqual(self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN}).status, 200)

    def test_a_pairing_is_confirmed_or_denied_in_the_dialog(self):
        self.answer("ok")
        asked = self.page("https://confirmed.example").post("/v1/pairings", {}).json()
        wait_for(lambda: self.page("https://confirmed.example").get(f"/v1/pairings/{asked['id']}").json()["status"] == "approved",
                 15, what="the dialog's approval")
        confirm = "\n".join(self.shown("SETDESC"))
        self.assertIn("https://confirmed.example", confirm)
        self.assertIn(asked["code"], confirm)
        access = self.page("https://confirmed.example").get("/v1/access").json()
        self.assertEqual((access["standing"], access["pinSource"]), ("paired", "pinentry"))

        self.answer("notok")
        denied = self.page("https://denied.example").post("/v1/pairings", {}).json()
        wait_for(lambda: self.page("https://denied.example").get(f"/v1/pairings/{denied['id']}").json()["status"] == "denied",
                 15, what="the dialog's denial")

        # Dismissed ("not now", or a pinentry that cannot show itself): still pending, for `inkan pair approve`.
        self.answer("cancel")
        pending = self.page("https://later.example").post("/v1/pairings", {}).json()
        wait_for(lambda: (self.dialogs / "commands.log").read_text().splitlines().count("CONFIRM") >= 3, 15,
                 what="the third dialog")
        time.sleep(0.5)  # inkand takes the dismissal in
        self.assertEqual(self.page("https://later.example").get(f"/v1/pairings/{pending['id']}").json()["status"], "pending")


class PinentryTtyTest(SecurityStackTestCase):
    """Debian's pinentry-tty on a pseudo-terminal: the dialog a user of a text console sees."""

    PINENTRY_TTY = Path("/usr/bin/pinentry-tty")

    @classmethod
    def setUpClass(cls):
        if not cls.PINENTRY_TTY.exists():
            raise unittest.SkipTest("pinentry-tty is not installed (scripts/install-deps.sh installs it)")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        cls.dialogs = Path(tempfile.mkdtemp(prefix="pinentry-tty-", dir=ARTIFACTS))
        cls.master, cls.slave = os.openpty()
        program = cls.dialogs / "pinentry-on-pty"
        program.write_text(f"#!/bin/sh\nexec {cls.PINENTRY_TTY} --ttyname {os.ttyname(cls.slave)} \"$@\"\n")
        program.chmod(0o755)
        cls.inkand_config = {
            "allowedOrigins": [{"origin": PORTAL, "pinSource": "pinentry"}],
            "pinentryProgram": str(program),
            "pinentryTimeoutSeconds": 20,
        }
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        os.close(cls.master)
        os.close(cls.slave)
        if os.environ.get("INKAN_KEEP_ARTIFACTS") != "1":
            shutil.rmtree(cls.dialogs, ignore_errors=True)

    def type_on_terminal(self, keys: bytes, transcript: list[bytes], timeout=20.0):
        """Waits for pinentry-tty's prompt on the terminal, then types `keys`."""
        deadline = time.monotonic() + timeout
        seen = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                seen += os.read(self.master, 4096)
                if seen.rstrip().endswith(b"PIN:"):
                    os.write(self.master, keys)
                    break
        transcript.append(seen)

    def sign_with_terminal(self, keys: bytes):
        transcript: list[bytes] = []
        user = threading.Thread(target=self.type_on_terminal, args=(keys, transcript))
        user.start()
        try:
            r = self.page(PORTAL).post(f"/v1/cards/{self.card_id}/sign", self.sign_body(pin=None))
        finally:
            user.join()
        return r, transcript[0].decode(errors="replace")

    def test_the_user_types_the_pin_into_pinentry_tty(self):
        r, screen = self.sign_with_terminal(DEMO_PIN.encode() + b"\r")
        self.assertEqual(r.status, 200, r)
        self.assertIn(PORTAL, screen)
        self.assertIn(HOLDER, screen)
        self.assertIn("PIN tries left: 10 of 10", screen)
        self.assertNotIn(DEMO_PIN, screen, "the terminal must not echo the PIN")
        self.assertNotIn(DEMO_PIN, self.daemon.output())

    def test_ctrl_d_in_pinentry_tty_cancels(self):
        before = self.vcard.apdu_count()
        r, _ = self.sign_with_terminal(b"\x04")
        self.assertProblem(r, 409, "PIN_CANCELLED")
        self.assertNoPinReachedTheCard(before)


if __name__ == "__main__":
    unittest.main()
