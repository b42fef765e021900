"""PKCS#12 files as credentials (docs/credentials.md): the 商業登記電子証明書 as a
.p12 file, imported into inkand and used through the same API as a card.

The files are made by `openssl pkcs12 -export`, in OpenSSL 3's default
(AES-256, PBKDF2) and its -legacy mode (RC2-40 / 3DES, as older Windows exports);
every signature is verified with OpenSSL against the file's certificate.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import threading
import time

from event_stream import EventStream
from harness import Client, StackTestCase, b64, run_inkan, unb64, verify_signature

PASSWORD = "correct horse 1"


class FileCredentialTest(StackTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.files = cls.work / "p12"
        cls.files.mkdir()
        key, cert = cls.files / "key.pem", cls.files / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                        "-days", "30", "-subj", "/C=JP/O=株式会社いんかん商事/CN=代表取締役 印鑑 太郎", "-utf8"],
                       check=True, capture_output=True)
        cls.certificate = subprocess.run(["openssl", "x509", "-in", str(cert), "-outform", "DER"], check=True,
                                         capture_output=True).stdout
        for mode, extra in (("modern", []), ("legacy", ["-legacy"])):
            subprocess.run(["openssl", "pkcs12", "-export", *extra, "-inkey", str(key), "-in", str(cert),
                            "-out", str(cls.files / f"{mode}.p12"), "-passout", f"pass:{PASSWORD}"],
                           check=True, capture_output=True)
        key.unlink()

    def import_file(self, mode: str, password: str = PASSWORD):
        return self.client.post("/v1/credentials", {"pkcs12": b64((self.files / f"{mode}.p12").read_bytes()),
                                                    "password": password})

    def sign_with(self, card_id: str, password: str, data: bytes = b"inkan: signed with a file"):
        return self.client.post(f"/v1/cards/{card_id}/sign", {"digest": b64(hashlib.sha256(data).digest()),
                                                              "digestAlgorithm": "SHA-256", "pin": password})

    def test_both_encryptions_import_list_and_sign(self):
        for mode in ("modern", "legacy"):
            with self.subTest(mode=mode):
                r = self.import_file(mode)
                self.assertEqual(r.status, 201, r)
                card = r.json()["card"]
                self.assertEqual((card["reader"], card["profile"]), ("file", "pkcs12"))
                self.assertEqual(card["label"], "代表取締役 印鑑 太郎")
                self.assertEqual(card["pins"][0]["id"], "password")
                self.assertEqual(card["pins"][0]["maxTries"], 10)
                listed = [c["id"] for c in self.client.get("/v1/cards").json()["cards"]]
                self.assertIn(card["id"], listed)
                self.assertIn(self.card_id, listed, "the card in the reader is listed beside the file")
                digest = hashlib.sha256(b"inkan: signed with a file").digest()
                r = self.sign_with(card["id"], PASSWORD)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(unb64(r.json()["certificate"]), self.certificate)
                v = verify_signature(self.certificate, digest, unb64(r.json()["signature"]), "SHA-256", self.work)
                self.assertEqual(v.returncode, 0, v.stdout + v.stderr)

    def test_stored_as_imported_private_to_the_user_and_never_in_the_clear(self):
        card_id = self.import_file("modern").json()["card"]["id"]
        keys = self.daemon.state / "keys"
        self.assertEqual(stat.S_IMODE(os.stat(keys).st_mode), 0o700)
        stored = keys / f"{card_id}.p12"
        self.assertEqual(stored.read_bytes(), (self.files / "modern.p12").read_bytes())
        for path in keys.iterdir():
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, path)
            self.assertNotIn(b"PRIVATE KEY", path.read_bytes())
        self.daemon.assert_secrets_not_written([PASSWORD])

    def test_a_wrong_password_spends_one_of_ten_tries_and_the_right_one_restores_them(self):
        card_id = self.import_file("modern").json()["card"]["id"]
        problem = self.assertProblem(self.sign_with(card_id, "wrong password"), 403, "PIN_INCORRECT")
        self.assertEqual(problem["triesLeft"], 9)
        self.assertEqual(self.client.get(f"/v1/cards/{card_id}/pin").json()["triesLeft"], 9)
        self.assertEqual(self.sign_with(card_id, PASSWORD).status, 200)
        self.assertEqual(self.client.get(f"/v1/cards/{card_id}/pin").json()["triesLeft"], 10)

    def test_the_guard_keeps_the_last_three_and_a_spent_counter_blocks(self):
        card_id = self.import_file("legacy").json()["card"]["id"]
        for left in range(9, 2, -1):
            self.assertEqual(self.assertProblem(self.sign_with(card_id, "nope"), 403, "PIN_INCORRECT")["triesLeft"], left)
        self.assertProblem(self.sign_with(card_id, PASSWORD), 409, "PIN_GUARD")
        body = {"digest": b64(hashlib.sha256(b"x").digest()), "digestAlgorithm": "SHA-256", "pin": "nope",
                "acknowledgeLowTries": True}
        for left in (2, 1):
            problem = self.assertProblem(self.client.post(f"/v1/cards/{card_id}/sign", body), 403, "PIN_INCORRECT")
            self.assertEqual(problem["triesLeft"], left)
        self.assertProblem(self.client.post(f"/v1/cards/{card_id}/sign", body), 423, "PIN_BLOCKED")
        self.assertProblem(self.sign_with(card_id, PASSWORD), 423, "PIN_BLOCKED")
        # Importing the file again resets the counter.
        self.assertEqual(self.import_file("legacy").status, 201)
        self.assertEqual(self.sign_with(card_id, PASSWORD).status, 200)

    def test_changing_the_password_rewrites_the_file(self):
        card_id = self.import_file("modern").json()["card"]["id"]
        r = self.client.post(f"/v1/cards/{card_id}/pin/change", {"pin": PASSWORD, "newPin": "new password 2"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.sign_with(card_id, "new password 2").status, 200)
        stored = self.daemon.state / "keys" / f"{card_id}.p12"
        out = subprocess.run(["openssl", "pkcs12", "-in", str(stored), "-passin", "pass:new password 2", "-info", "-noout"],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("AES-256-CBC", out.stderr + out.stdout)
        self.assertProblem(self.client.post(f"/v1/cards/{card_id}/pin/unblock", {"unblockCode": "x", "newPin": "y"}),
                           409, "UNSUPPORTED_OPERATION")
        self.client.post(f"/v1/cards/{card_id}/pin/change", {"pin": "new password 2", "newPin": PASSWORD})

    def test_bad_files_are_refused_and_leave_nothing(self):
        before = sorted(p.name for p in (self.daemon.state / "keys").iterdir()) if (self.daemon.state / "keys").exists() else []
        self.assertProblem(self.import_file("modern", "wrong"), 403, "PIN_INCORRECT")
        r = self.client.post("/v1/credentials", {"pkcs12": b64(b"\x30\x03\x02\x01\x00"), "password": PASSWORD})
        self.assertProblem(r, 400, "CREDENTIAL_INVALID")
        r = self.client.post("/v1/credentials", {"pkcs12": b64(self.certificate), "password": PASSWORD})
        self.assertProblem(r, 400, "CREDENTIAL_INVALID")
        after = sorted(p.name for p in (self.daemon.state / "keys").iterdir())
        self.assertEqual(after, before)

    def test_the_cli_imports_with_the_password_on_stdin_signs_and_removes(self):
        base = ["--state-dir", self.daemon.state, "--port", self.daemon.port]
        r = run_inkan(*base, "import", self.files / "legacy.p12", "--password-stdin", stdin=PASSWORD + "\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        card_id = r.stdout.split()[1]
        self.assertIn(card_id, [c["id"] for c in self.client.get("/v1/cards").json()["cards"]])
        self.assertNotIn(PASSWORD, r.stdout + r.stderr)
        document = self.work / "to-sign.txt"
        document.write_text("signed with the file through the CLI")
        r = run_inkan(*base, "--card", card_id, "sign", document, stdin=PASSWORD + "\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        v = verify_signature(self.certificate, hashlib.sha256(document.read_bytes()).digest(),
                             (self.work / "to-sign.txt.sig").read_bytes(), "SHA-256", self.work)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        # A wrong password: nothing stored, the CLI says why.
        r = run_inkan(*base, "import", self.files / "modern.p12", "--password-stdin", stdin="wrong\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("PIN_INCORRECT", r.stderr)
        # Removal asks first; --yes does not.
        r = run_inkan(*base, "import", "--remove", card_id, stdin="n\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(card_id, [c["id"] for c in self.client.get("/v1/cards").json()["cards"]])
        r = run_inkan(*base, "import", "--remove", card_id, "--yes")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn(card_id, [c["id"] for c in self.client.get("/v1/cards").json()["cards"]])

    def test_removed_and_not_for_web_pages(self):
        card_id = self.import_file("modern").json()["card"]["id"]
        page = self.client.post("/v1/credentials", {"pkcs12": b64(b"x"), "password": "x"},
                                headers={"Origin": "https://portal.example"})
        self.assertEqual(page.status, 403)
        r = self.client.request("DELETE", f"/v1/credentials/{card_id}", body={})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(card_id, [c["id"] for c in self.client.get("/v1/cards").json()["cards"]])
        self.assertFalse((self.daemon.state / "keys" / f"{card_id}.p12").exists())

    def test_the_event_stream_and_the_ledger_see_a_file_as_they_see_a_card(self):
        stream = EventStream(self.daemon)
        self.assertEqual(stream.status, 200)

        def next_of(*types):
            block = stream.next_event()
            while block.event not in types:
                block = stream.next_event()
            return block

        try:
            card_id = self.import_file("modern").json()["card"]["id"]
            inserted = next_of("card-inserted")
            self.assertEqual({k: inserted.data[k] for k in ("reader", "cardId", "profile", "supported")},
                             {"reader": "file", "cardId": card_id, "profile": "pkcs12", "supported": True})
            expiring = next_of("certificate-expiring", "certificate-expired")  # the test certificate lasts 30 days
            self.assertEqual((expiring.event, expiring.data["cardId"]), ("certificate-expiring", card_id))
            self.assertProblem(self.sign_with(card_id, "wrong password"), 403, "PIN_INCORRECT")
            status = next_of("pin-status")
            self.assertEqual((status.data["operation"], status.data["pinId"], status.data["triesLeft"]), ("sign", "password", 9))
            self.assertEqual(self.sign_with(card_id, PASSWORD).status, 200)
            self.assertEqual(next_of("pin-status").data["triesLeft"], 10)
            self.client.request("DELETE", f"/v1/credentials/{card_id}", body={})
            removed = next_of("card-removed")
            self.assertEqual(removed.data, {"reader": "file", "cardId": card_id})
        finally:
            stream.close()
        operations = [(op["operation"], op["result"], op["credential"]["kind"])
                      for op in self.client.get(f"/v1/audit?card={card_id}&limit=1000").json()["operations"]]
        self.assertEqual(operations[-4:], [("credential.import", "ok", "file"), ("sign", "PIN_INCORRECT", "file"),
                                           ("sign", "ok", "file"), ("credential.remove", "ok", "file")])
        imported = [op for op in self.client.get(f"/v1/audit?card={card_id}").json()["operations"]
                    if op["operation"] == "credential.import"][-1]
        digest = hashlib.sha256((self.files / "modern.p12").read_bytes()).hexdigest()
        self.assertEqual(imported["target"], f"pkcs12 size={(self.files / 'modern.p12').stat().st_size} sha256={digest}")

    def test_a_kill_during_a_password_change_leaves_the_old_or_the_new_password(self):
        card_id = self.import_file("modern").json()["card"]["id"]
        stored = self.daemon.state / "keys" / f"{card_id}.p12"

        def opens(password: str) -> bool:
            return subprocess.run(["openssl", "pkcs12", "-in", str(stored), "-passin", f"pass:{password}", "-noout"],
                                  capture_output=True).returncode == 0

        passwords = [PASSWORD, "new password 2"]
        current = PASSWORD
        changed = kept = 0
        try:
            for delay in (0.0, 0.001, 0.003, 0.006, 0.01, 0.02, 0.04, 0.08):
                new = passwords[1] if current == passwords[0] else passwords[0]
                client = Client(self.daemon)
                body = {"pin": current, "newPin": new}
                change = threading.Thread(target=lambda: self._ignore_errors(
                    lambda: client.post(f"/v1/cards/{card_id}/pin/change", body)))
                change.start()
                time.sleep(delay)
                self.daemon.stop(signal.SIGKILL)
                change.join(30)
                self.daemon.start()
                now = [p for p in passwords if opens(p)]
                self.assertEqual(len(now), 1, f"after a kill {delay}s into a change, the file opens with {len(now)} passwords")
                changed, kept = (changed + 1, kept) if now[0] == new else (changed, kept + 1)
                current = now[0]
                self.assertIn(card_id, [c["id"] for c in self.client.get("/v1/cards").json()["cards"]])
                self.assertEqual(self.sign_with(card_id, current).status, 200, f"usable after a kill {delay}s into a change")
            leftovers = [p.name for p in stored.parent.iterdir() if p.suffix not in (".p12", ".json")]
            self.assertEqual(leftovers, [], "an interrupted write's temporary file is cleared at the next start")
        finally:
            if current != PASSWORD:
                self.client.post(f"/v1/cards/{card_id}/pin/change", {"pin": current, "newPin": PASSWORD})
        print(f"\n  {changed} changes completed, {kept} interrupted before the rename", end=" ")

    @staticmethod
    def _ignore_errors(call):
        try:
            call()
        except Exception:
            pass  # the daemon was killed under the request


if __name__ == "__main__":
    import unittest
    unittest.main()
