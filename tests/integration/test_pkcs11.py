"""PKCS#11 tokens as cards (docs/credentials.md "PKCS#11 tokens"), on real modules:

* SoftHSM2 (Debian `softhsm2`): tokens initialised by softhsm2-util in a private
  token directory (SOFTHSM2_CONF), a key and certificate of the test PKI (with
  the registry extensions) written by OpenSC's pkcs11-tool; listed, signing
  (verified by OpenSSL), a wrong PIN, a token deleted while inkand runs.
* OpenSC's opensc-pkcs11.so on the real pcscd + vpcd with the virtual JPKI
  card: the same card seen through its APDU profile and through PKCS#11.
* tests/fixtures/scripted_pkcs11.c: the PIN flags SoftHSM2 never sets (final
  try, locked) and a module that crashes or hangs in C_Sign.
* Start-up errors: a module path that is no file or no PKCS#11 module.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from harness import (ARTIFACTS, BIN_DIR, BUILD_DIR, JPKI_CARD_ARGS, JPKI_DEMO_AUTH_PIN, Client, Inkand, StackTestCase,
                     b64, unb64, verify_signature, wait_for)
from event_stream import EventStream
from pki_stack import CORPORATE_NAME, shared_pki

SOFTHSM = next((p for p in (Path("/usr/lib/softhsm/libsofthsm2.so"), Path("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"))
                if p.exists()), None)
OPENSC = Path("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so")
SCRIPTED = BUILD_DIR / "tests" / "fixtures" / "scripted_pkcs11.so"
USER_PIN = "27182818"
SO_PIN = "31415926"
CKF_USER_PIN_FINAL_TRY = 0x20000
CKF_USER_PIN_LOCKED = 0x40000


def require(*tools: str, files=()):
    missing = [t for t in tools if shutil.which(t) is None] + [str(f) for f in files if f is None or not Path(f).exists()]
    if missing:
        raise unittest.SkipTest(f"missing {', '.join(missing)} (scripts/install-deps.sh installs softhsm2 and opensc)")


def sign_body(data: bytes, pin: str | None, **extra) -> dict:
    body = {"digest": b64(hashlib.sha256(data).digest()), "digestAlgorithm": "SHA-256", **extra}
    if pin is not None:
        body["pin"] = pin
    return body


class SoftHsm:
    """A private SoftHSM2 token directory and the tools pointed at it."""

    def __init__(self, work: Path):
        self.dir = work / "softhsm-tokens"
        self.dir.mkdir(parents=True)
        self.conf = work / "softhsm2.conf"
        self.conf.write_text(f"directories.tokendir = {self.dir}\nobjectstore.backend = file\nlog.level = ERROR\n")
        self.env = dict(os.environ, SOFTHSM2_CONF=str(self.conf))

    def run(self, *args) -> subprocess.CompletedProcess:
        r = subprocess.run(list(args), capture_output=True, text=True, env=self.env, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"{args}\n{r.stdout}\n{r.stderr}")
        return r

    def init_token(self, label: str):
        self.run("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", USER_PIN, "--so-pin", SO_PIN)

    def write(self, label: str, key_pem: Path, cert_der: Path, work: Path):
        """The key and certificate as objects of the token, CKA_ID 01, by pkcs11-tool."""
        key_der = work / f"{label}-key.der"
        subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", str(key_pem), "-outform", "DER", "-out", str(key_der)],
                       check=True, capture_output=True)
        for path, kind in ((key_der, "privkey"), (cert_der, "cert")):
            self.run("pkcs11-tool", "--module", str(SOFTHSM), "--token-label", label, "--login", "--pin", USER_PIN,
                     "--write-object", str(path), "--type", kind, "--id", "01", "--label", "inkan")
        key_der.unlink()

    def delete(self, label: str):
        self.run("softhsm2-util", "--delete-token", "--token", label)


class SoftHsmTokenTest(StackTestCase):
    """inkand with SoftHSM2 as its one module, beside the card in the reader."""

    @classmethod
    def setUpClass(cls):
        require("softhsm2-util", "pkcs11-tool", files=(SOFTHSM,))
        cls.pki = shared_pki()
        cls.hsm_work = Path(tempfile.mkdtemp(prefix="softhsm-", dir=ARTIFACTS))
        cls.hsm = SoftHsm(cls.hsm_work)
        cls.certificate = cls.pki.leaf_der("good")
        cert_der = cls.hsm_work / "good.der"
        cert_der.write_bytes(cls.certificate)
        for label in ("inkan-main", "inkan-gone"):
            cls.hsm.init_token(label)
            cls.hsm.write(label, cls.pki.dir / "private" / "good.key", cert_der, cls.hsm_work)
        cls.inkand_args = ("--pkcs11-module", str(SOFTHSM))
        cls.inkand_env = {"SOFTHSM2_CONF": str(cls.hsm.conf)}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.hsm_work, ignore_errors=True)

    def tokens(self) -> list[dict]:
        r = self.client.get("/v1/cards")
        self.assertEqual(r.status, 200, r)
        return [c for c in r.json()["cards"] if c["profile"] == "pkcs11"]

    def token(self) -> dict:
        listed = wait_for(lambda: self.tokens() or None, 20, what="inkand to list the SoftHSM2 tokens")
        return listed[0]

    def test_each_token_with_key_and_certificate_is_listed_as_a_card_beside_the_reader(self):
        tokens = wait_for(lambda: len(self.tokens()) == 2 and self.tokens(), 20, what="both tokens listed")
        cards = self.client.get("/v1/cards").json()["cards"]
        self.assertIn(self.card_id, [c["id"] for c in cards], "the card in the reader is still listed")
        self.assertEqual(len({t["id"] for t in tokens}), 2, "two tokens, two ids")
        for token in tokens:
            self.assertTrue(token["reader"].startswith("SoftHSM slot"), token["reader"])
            self.assertEqual(token["signingCertificate"], "sign")
            sign = token["certificates"][0]
            self.assertEqual((sign["id"], sign["keyPin"]), ("sign", "user"))
            r = self.client.get(f"/v1/cards/{token['id']}/certificates/sign")
            self.assertEqual(unb64(r.json()["der"]), self.certificate)
            pin = token["pins"][0]
            self.assertEqual(pin["id"], "user")
            # SoftHSM2 tells no counter: unknown, not a guess.
            self.assertIsNone(pin["triesLeft"])
            self.assertIsNone(pin["maxTries"])
            self.assertIsNone(token["pin"]["triesLeft"])
            self.assertFalse(pin["blocked"])
        # The registry fields decoded from the certificate, as for a card.
        r = self.client.get(f"/v1/cards/{tokens[0]['id']}/certificates/sign")
        self.assertEqual(r.status, 200, r)
        self.assertIn(CORPORATE_NAME, r.body.decode())

    def test_signs_and_openssl_verifies_with_the_tokens_certificate(self):
        token = self.token()
        data = b"inkan: signed by a SoftHSM2 token\n"
        r = self.client.post(f"/v1/cards/{token['id']}/sign", sign_body(data, USER_PIN))
        self.assertEqual(r.status, 200, r)
        answer = r.json()
        self.assertEqual(unb64(answer["certificate"]), self.certificate)
        v = verify_signature(self.certificate, hashlib.sha256(data).digest(), unb64(answer["signature"]), "SHA-256", self.work)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        # SHA-384 and SHA-512 too: the DigestInfo is inkand's.
        for algorithm, hash_ in (("SHA-384", hashlib.sha384), ("SHA-512", hashlib.sha512)):
            r = self.client.post(f"/v1/cards/{token['id']}/sign",
                                 {"digest": b64(hash_(data).digest()), "digestAlgorithm": algorithm, "pin": USER_PIN})
            self.assertEqual(r.status, 200, r)
            v = verify_signature(self.certificate, hash_(data).digest(), unb64(r.json()["signature"]), algorithm, self.work)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.daemon.assert_secrets_not_written([USER_PIN])

    def test_a_wrong_pin_is_pin_incorrect_without_a_guessed_count(self):
        token = self.token()
        r = self.client.post(f"/v1/cards/{token['id']}/sign", sign_body(b"x", "99999999"))
        problem = self.assertProblem(r, 403, "PIN_INCORRECT")
        self.assertNotIn("triesLeft", problem)
        r = self.client.post(f"/v1/cards/{token['id']}/sign", sign_body(b"x", USER_PIN))
        self.assertEqual(r.status, 200, r)

    def test_a_signature_needs_the_pin_in_the_request(self):
        token = self.token()
        self.assertProblem(self.client.post(f"/v1/cards/{token['id']}/sign", sign_body(b"x", None)), 403, "PIN_REQUIRED")

    def test_pin_status_and_verification(self):
        token = self.token()
        r = self.client.get(f"/v1/cards/{token['id']}/pin")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"triesLeft": None, "maxTries": None, "blocked": False})
        r = self.client.post(f"/v1/cards/{token['id']}/pin/verify", {"pin": USER_PIN})
        self.assertEqual(r.status, 200, r)

    def test_z_a_token_deleted_while_inkand_runs_disappears(self):
        tokens = wait_for(lambda: len(self.tokens()) == 2 and self.tokens(), 20, what="both tokens listed")
        with EventStream(self.daemon) as stream:
            self.hsm.delete("inkan-gone")
            wait_for(lambda: len(self.tokens()) == 1, 20, what="inkand to see the SoftHSM2 token deleted")
            gone = [t["id"] for t in tokens if t["id"] not in [t2["id"] for t2 in self.tokens()]]
            self.assertEqual(len(gone), 1)
            # The stream says so too, as for a card taken out of its reader.
            removed = stream.wait_for("card-removed", lambda data: data.get("cardId") == gone[0])
            self.assertTrue(removed.data["reader"].startswith("SoftHSM slot"), removed.data)
        self.assertProblem(self.client.post(f"/v1/cards/{gone[0]}/sign", sign_body(b"x", USER_PIN)), 404, "CARD_NOT_FOUND")
        self.assertIn("is gone", self.daemon.output())


class ScriptedModuleTest(StackTestCase):
    """The flags and failures SoftHSM2 never shows, through a scripted module
    (tests/fixtures/scripted_pkcs11.c); each test starts an inkand of its own."""

    @classmethod
    def setUpClass(cls):
        if not SCRIPTED.exists():
            raise AssertionError(f"{SCRIPTED} is missing: run `make build` first")
        super().setUpClass()
        cls.cert = cls.work / "scripted-cert.der"
        key = cls.work / "scripted-key.pem"
        pem = cls.work / "scripted-cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(pem),
                        "-days", "30", "-subj", "/CN=scripted token", "-utf8"], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-in", str(pem), "-outform", "DER", "-out", str(cls.cert)], check=True)
        cls.extra: list[Inkand] = []

    @classmethod
    def tearDownClass(cls):
        for daemon in getattr(cls, "extra", []):
            daemon.stop()
        super().tearDownClass()

    def start(self, name: str, config: dict | None = None, **env) -> tuple[Inkand, Client, dict]:
        work = self.work / name
        work.mkdir()
        daemon = Inkand(work, extra_args=["--pkcs11-module", str(SCRIPTED)],
                        env={"SCRIPTED_P11_CERT": str(self.cert), **env})
        daemon.write_config({"pinentryProgram": None, **(config or {})})
        self.extra.append(daemon)
        daemon.start()
        client = Client(daemon)
        token = wait_for(lambda: next((c for c in client.get("/v1/cards").json()["cards"] if c["profile"] == "pkcs11"), None),
                         20, what="the scripted token listed")
        return daemon, client, token

    def helpers(self, daemon: Inkand) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(daemon.proc.pid), "-f", "inkan-p11-helper"], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def test_the_final_try_is_guarded_and_told(self):
        daemon, client, token = self.start("final", SCRIPTED_P11_FLAGS=hex(CKF_USER_PIN_FINAL_TRY))
        self.assertEqual((token["pins"][0]["triesLeft"], token["pins"][0]["maxTries"]), (1, None))
        problem = self.assertProblem(client.post(f"/v1/cards/{token['id']}/sign", sign_body(b"x", "1234")), 409, "PIN_GUARD")
        self.assertEqual(problem["triesLeft"], 1)
        # The local client may acknowledge it; the module then signs (the scripted one answers a device error).
        r = client.post(f"/v1/cards/{token['id']}/sign", sign_body(b"x", "1234", acknowledgeLowTries=True))
        self.assertProblem(r, 502, "CARD_ERROR")
        daemon.stop()

    def test_a_locked_pin_is_pin_blocked(self):
        daemon, client, token = self.start("locked", SCRIPTED_P11_FLAGS=hex(CKF_USER_PIN_LOCKED))
        self.assertTrue(token["pins"][0]["blocked"])
        self.assertEqual(token["pins"][0]["triesLeft"], 0)
        self.assertProblem(client.post(f"/v1/cards/{token['id']}/sign", sign_body(b"x", "1234")), 423, "PIN_BLOCKED")
        daemon.stop()

    def test_a_module_that_crashes_is_token_module_failed_and_inkand_serves_on(self):
        daemon, client, token = self.start("crash", SCRIPTED_P11_SIGN="abort")
        before = self.helpers(daemon)
        self.assertEqual(len(before), 1, before)
        self.assertProblem(client.post(f"/v1/cards/{token['id']}/sign", sign_body(b"x", "1234")), 502, "TOKEN_MODULE_FAILED")
        self.assertIsNone(daemon.proc.poll(), "inkand must survive its module")
        # A new helper is started for the next call (the poll makes one within seconds).
        after = wait_for(lambda: (h := self.helpers(daemon)) and h != before and h, 20, what="a new helper process")
        self.assertNotEqual(after, before)
        self.assertEqual(client.get(f"/v1/cards/{token['id']}/pin").status, 200)
        self.assertIn(token["id"], [c["id"] for c in client.get("/v1/cards").json()["cards"]])
        self.assertIn("scripted_pkcs11.so failed (its process ended)", daemon.output())
        daemon.stop()

    def test_a_module_that_hangs_is_stopped_after_the_timeout(self):
        daemon, client, token = self.start("hang", {"pkcs11TimeoutSeconds": 2}, SCRIPTED_P11_SIGN="hang")
        before = self.helpers(daemon)
        started = time.monotonic()
        self.assertProblem(client.post(f"/v1/cards/{token['id']}/sign", sign_body(b"x", "1234")), 502, "TOKEN_MODULE_FAILED")
        self.assertLess(time.monotonic() - started, 15)
        self.assertIsNone(daemon.proc.poll())
        wait_for(lambda: (h := self.helpers(daemon)) and h != before, 20, what="a new helper process")
        self.assertEqual(client.get(f"/v1/cards/{token['id']}/pin").status, 200)
        daemon.stop()

    def test_a_module_path_that_is_no_module_is_a_start_up_error_naming_it(self):
        library = next(p for p in (Path("/usr/lib/x86_64-linux-gnu/libpcsclite.so.1"), Path("/lib/x86_64-linux-gnu/libz.so.1"))
                       if p.exists())
        cases = [
            (["--pkcs11-module", str(self.work / "no-such-module.so")], None, "no-such-module.so is not a file"),
            (["--pkcs11-module", str(self.cert)], None, f"{self.cert} does not load"),
            (["--pkcs11-module", str(library)], None, "not a PKCS#11 module"),
            ([], {"pkcs11Modules": [str(self.work / "gone.so")]}, "gone.so is not a file"),
        ]
        for i, (args, config, message) in enumerate(cases):
            with self.subTest(args=args, config=config):
                work = self.work / f"bad-{i}"
                work.mkdir()
                daemon = Inkand(work, extra_args=args)
                daemon.write_config({"pinentryProgram": None, **(config or {})})
                daemon.start(wait=False)
                self.assertEqual(daemon.proc.wait(timeout=30), 1, daemon.output())
                self.assertIn(message, daemon.output())
                self.assertNotIn("inkand ready", daemon.output())


class OpenscJpkiTokenTest(StackTestCase):
    """The virtual JPKI card on pcscd + vpcd, seen by inkand twice: through its
    own APDU profile (`jpki`) and through OpenSC's PKCS#11 module (`pkcs11`)."""

    vcard_args = JPKI_CARD_ARGS

    @classmethod
    def setUpClass(cls):
        require("pkcs11-tool", files=(OPENSC,))
        cls.inkand_args = ("--pkcs11-module", str(OPENSC))
        super().setUpClass()

    def card_certificate(self, name: str) -> bytes:
        return ssl.PEM_cert_to_DER_cert((self.vcard.state / f"jpki-{name}-cert.pem").read_text())

    def pkcs11_tokens(self) -> list[dict]:
        return [c for c in self.client.get("/v1/cards").json()["cards"] if c["profile"] == "pkcs11"]

    def test_the_same_card_through_two_routes_gives_the_same_certificate(self):
        cards = self.client.get("/v1/cards").json()["cards"]
        jpki = next(c for c in cards if c["profile"] == "jpki")
        auth_by_apdu = unb64(self.client.get(f"/v1/cards/{jpki['id']}/certificates/auth").json()["der"])
        self.assertEqual(auth_by_apdu, self.card_certificate("auth"))
        tokens = wait_for(lambda: self.pkcs11_tokens() or None, 30, what="OpenSC's JPKI token listed")
        by_pkcs11 = [unb64(self.client.get(f"/v1/cards/{t['id']}/certificates/sign").json()["der"]) for t in tokens]
        self.assertIn(auth_by_apdu, by_pkcs11, "the authentication certificate, byte for byte, through OpenSC")

    def test_signs_through_opensc_with_the_auth_key_and_openssl_verifies(self):
        tokens = wait_for(lambda: self.pkcs11_tokens() or None, 30, what="OpenSC's JPKI token listed")
        auth = self.card_certificate("auth")
        token = next(t for t in tokens
                     if unb64(self.client.get(f"/v1/cards/{t['id']}/certificates/sign").json()["der"]) == auth)
        data = b"inkan: signed through OpenSC's PKCS#11 module\n"
        r = self.client.post(f"/v1/cards/{token['id']}/sign", sign_body(data, JPKI_DEMO_AUTH_PIN))
        self.assertEqual(r.status, 200, r)
        v = verify_signature(auth, hashlib.sha256(data).digest(), unb64(r.json()["signature"]), "SHA-256", self.work)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        # The card itself computed it: a COMPUTE DIGITAL SIGNATURE in its log.
        self.assertTrue(any(" 802A0080" in line for line in self.vcard.apdu_lines()))


if __name__ == "__main__":
    unittest.main()
