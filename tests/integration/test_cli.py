"""The `inkan` command-line client against the real stack (pcscd + vpcd + inkan-vcard + inkand).

Every command is run as a user would run it: a subprocess with arguments, PINs
on stdin (never in argv), results checked on stdout, stderr, the exit code and
the files written. Signatures are checked with the openssl command.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pty
import select
import shutil
import ssl
import subprocess
import signal
import tempfile
import termios
import time
import unittest
from pathlib import Path

from harness import (ARTIFACTS, BIN_DIR, DEMO_PIN, DEMO_UNBLOCK, StackTestCase, free_port, run_inkan,
                     run_on_terminal)

INKAN = BIN_DIR / "inkan"
NICKNAME = "inkan local CA"

# The documented exit codes (docs/cli.md).
EXIT_OK, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_API, EXIT_PIN, EXIT_LOCAL = 0, 1, 2, 3, 4, 5


def describe(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def certutil(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["certutil", *map(str, args)], capture_output=True, text=True)


def make_ca(directory: Path, name: str) -> Path:
    """A self-signed CA certificate at <directory>/tls/ca.pem, as inkand lays it out."""
    (directory / "tls").mkdir(parents=True, exist_ok=True)
    ca = directory / "tls" / "ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(directory / "ca.key"),
                    "-subj", f"/CN={name}", "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-out", str(ca)], check=True, capture_output=True)
    return ca


def pem_to_der(pem: str) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem)


class CliStackTestCase(StackTestCase):
    """A stack and the `inkan` command pointed at its inkand."""

    def inkan(self, *args, stdin: str | None = None, card=True) -> subprocess.CompletedProcess:
        options = ["--state-dir", self.daemon.state, "--port", self.daemon.port]
        if card:
            options += ["--card", self.card_id]
        return run_inkan(*options, *args, stdin=stdin)

    def assertExit(self, result: subprocess.CompletedProcess, code: int):
        self.assertEqual(result.returncode, code, describe(result))

    def restore_pin(self):
        """Back to 10 tries with the demo PIN, whatever a test left behind."""
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN, "acknowledgeLowTries": True})
        if r.status != 200:
            self.client.post(f"/v1/cards/{self.card_id}/pin/unblock", {"unblockCode": DEMO_UNBLOCK, "newPin": DEMO_PIN})
        self.assertEqual(self.pin_status()["triesLeft"], 10)


class ReadingTest(CliStackTestCase):
    """Commands that only read: status, cards, cert show/export, pin status."""

    def test_status_shows_the_reader_holding_our_card(self):
        result = self.inkan("status", card=False)
        self.assertExit(result, EXIT_OK)
        self.assertIn("PC/SC", result.stdout)
        self.assertIn("available", result.stdout)
        line = next(line for line in result.stdout.splitlines() if self.card_id in line)
        self.assertIn("present", line)
        self.assertIn("3B888001494E4B414E5643316E", line)

    def test_status_json_is_the_api_answer(self):
        result = self.inkan("status", "--json", card=False)
        self.assertExit(result, EXIT_OK)
        self.assertEqual(json.loads(result.stdout), self.client.get("/v1/status").json())

    def test_cards_table_shows_label_pin_and_certificates(self):
        result = self.inkan("cards", card=False)
        self.assertExit(result, EXIT_OK)
        self.assertIn(self.card_id, result.stdout)
        self.assertIn("10 of 10 tries left", result.stdout)
        self.assertIn("株式会社いんかん商事", result.stdout)
        self.assertRegex(result.stdout, r"\bsign\b.*\d+ days left")
        self.assertRegex(result.stdout, r"\bca\b")

    def test_cards_json_is_the_api_answer(self):
        result = self.inkan("--json", "cards", card=False)
        self.assertExit(result, EXIT_OK)
        self.assertEqual(json.loads(result.stdout), self.client.get("/v1/cards").json())

    def test_global_options_work_after_the_command_too(self):
        result = run_inkan("cards", "--json", "--port", self.daemon.port, "--state-dir", self.daemon.state)
        self.assertExit(result, EXIT_OK)
        self.assertIn("cards", json.loads(result.stdout))

    def test_state_dir_comes_from_the_environment_when_not_given(self):
        result = run_inkan("--port", self.daemon.port, "status", "--json", env_extra={"INKAN_STATE_DIR": str(self.daemon.state)})
        self.assertExit(result, EXIT_OK)
        result = run_inkan("--port", self.daemon.port, "status", "--json", env_extra={"XDG_STATE_HOME": str(self.work / "elsewhere")})
        self.assertExit(result, EXIT_UNREACHABLE)
        self.assertIn(str(self.work / "elsewhere" / "inkan"), result.stderr)

    def test_the_only_card_is_chosen_and_several_need_card(self):
        cards = self.client.get("/v1/cards").json()["cards"]
        result = self.inkan("pin", "status", card=False)
        if len(cards) == 1:
            self.assertExit(result, EXIT_OK)
            self.assertIn("10 of 10 tries left", result.stdout)
        else:  # another test run's card is in slot 1: the choice must be the user's
            self.assertExit(result, EXIT_USAGE)
            self.assertIn("--card", result.stderr)
            for card in cards:
                self.assertIn(card["id"], result.stderr)

    def test_unknown_card_is_an_api_error_with_the_code(self):
        result = run_inkan("--state-dir", self.daemon.state, "--port", self.daemon.port, "--card", "0000000000000000", "pin", "status")
        self.assertExit(result, EXIT_API)
        self.assertIn("CARD_NOT_FOUND", result.stderr)

    def test_card_id_cannot_escape_its_path_segment(self):
        result = run_inkan("--state-dir", self.daemon.state, "--port", self.daemon.port, "--card", "../status", "pin", "status", "--json")
        self.assertExit(result, EXIT_API)
        self.assertIn(json.loads(result.stdout)["code"], ("NOT_FOUND", "CARD_NOT_FOUND"))

    def test_cert_show_prints_subject_issuer_serial_validity_and_fingerprint(self):
        api = self.client.get(f"/v1/cards/{self.card_id}/certificates/sign").json()
        result = self.inkan("cert", "show")
        self.assertExit(result, EXIT_OK)
        self.assertIn(api["subject"], result.stdout)
        self.assertIn(api["issuer"], result.stdout)
        self.assertIn(api["serialNumber"], result.stdout)
        self.assertIn(api["notAfter"][:10], result.stdout)
        self.assertRegex(result.stdout, r"\(\d+ days left\)")
        fingerprint = hashlib.sha256(base64.b64decode(api["der"])).hexdigest().upper()
        self.assertIn(":".join(fingerprint[i:i + 2] for i in range(0, len(fingerprint), 2)), result.stdout)

    def test_cert_show_of_the_ca_and_json(self):
        result = self.inkan("cert", "show", "ca", "--json")
        self.assertExit(result, EXIT_OK)
        self.assertEqual(json.loads(result.stdout), self.client.get(f"/v1/cards/{self.card_id}/certificates/ca").json())

    def test_cert_show_of_an_unknown_certificate_is_not_found(self):
        result = self.inkan("cert", "show", "nope")
        self.assertExit(result, EXIT_API)
        self.assertIn("NOT_FOUND", result.stderr)
        result = self.inkan("cert", "show", "nope", "--json")
        self.assertEqual(json.loads(result.stdout)["code"], "NOT_FOUND")

    def test_cert_export_pem_to_stdout_and_der_to_a_file(self):
        der = base64.b64decode(self.client.get(f"/v1/cards/{self.card_id}/certificates/sign").json()["der"])
        result = self.inkan("cert", "export")
        self.assertExit(result, EXIT_OK)
        self.assertTrue(result.stdout.startswith("-----BEGIN CERTIFICATE-----"), result.stdout)
        self.assertEqual(pem_to_der(result.stdout), der)

        out = self.work / "exported.der"
        result = self.inkan("cert", "export", "sign", "--der", "-o", out)
        self.assertExit(result, EXIT_OK)
        self.assertEqual(out.read_bytes(), der)

        pem = self.work / "exported-ca.pem"
        self.assertExit(self.inkan("cert", "export", "ca", "-o", pem), EXIT_OK)
        check = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-subject"], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertIn("inkan Demo Registrar CA", check.stdout)

    def test_cert_export_into_a_missing_directory_is_a_local_error(self):
        result = self.inkan("cert", "export", "-o", self.work / "no" / "such" / "dir" / "c.pem")
        self.assertExit(result, EXIT_LOCAL)
        self.assertIn("cannot write", result.stderr)

    def test_pin_status_text_and_json(self):
        result = self.inkan("pin", "status")
        self.assertExit(result, EXIT_OK)
        self.assertIn("PIN: 10 of 10 tries left", result.stdout)
        self.assertIn("Unblock code: 10 of 10 tries left", result.stdout)
        result = self.inkan("pin", "status", "--json")
        self.assertEqual(json.loads(result.stdout), {"triesLeft": 10, "maxTries": 10, "blocked": False})


class SigningTest(CliStackTestCase):
    def setUp(self):
        self.document = self.work / f"{self._testMethodName}.txt"
        self.document.write_text("登記事項証明書の交付請求\n" * 1000, encoding="utf-8")

    def tearDown(self):
        self.restore_pin()

    def verify_with_openssl(self, document: Path, signature: Path, certificate: Path, md="-sha256") -> subprocess.CompletedProcess:
        pubkey = self.work / "pubkey.pem"
        extracted = subprocess.run(["openssl", "x509", "-in", certificate, "-pubkey", "-noout", "-out", pubkey], capture_output=True, text=True)
        self.assertEqual(extracted.returncode, 0, extracted.stderr)
        return subprocess.run(["openssl", "dgst", md, "-verify", pubkey, "-signature", signature, document], capture_output=True, text=True)

    def test_sign_writes_signature_and_certificate_that_openssl_verifies(self):
        result = self.inkan("sign", self.document, stdin=DEMO_PIN + "\n")
        self.assertExit(result, EXIT_OK)
        signature = Path(str(self.document) + ".sig")
        certificate = Path(str(self.document) + ".cert.pem")
        self.assertIn(str(signature), result.stdout)
        self.assertIn(str(certificate), result.stdout)
        self.assertEqual(len(signature.read_bytes()), 256)
        verified = self.verify_with_openssl(self.document, signature, certificate)
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)
        self.assertIn("Verified OK", verified.stdout)
        # The check can fail: a changed document does not verify.
        self.document.write_text("改ざんされた文書", encoding="utf-8")
        self.assertNotEqual(self.verify_with_openssl(self.document, signature, certificate).returncode, 0)
        # The written certificate is the card's signing certificate.
        api = self.client.get(f"/v1/cards/{self.card_id}/certificates/sign").json()
        self.assertEqual(pem_to_der(certificate.read_text()), base64.b64decode(api["der"]))

    def test_sign_with_sha512_and_output_option(self):
        signature = self.work / "custom.sig"
        result = self.inkan("sign", self.document, "--digest-algorithm", "SHA-512", "-o", signature, stdin=DEMO_PIN + "\n")
        self.assertExit(result, EXIT_OK)
        self.assertIn(str(signature), result.stdout)
        verified = self.verify_with_openssl(self.document, signature, Path(str(self.document) + ".cert.pem"), "-sha512")
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)

    def test_sign_json_prints_the_api_answer_and_still_writes_the_files(self):
        result = self.inkan("sign", self.document, "--json", stdin=DEMO_PIN + "\n")
        self.assertExit(result, EXIT_OK)
        answer = json.loads(result.stdout)
        self.assertEqual(answer["signatureAlgorithm"], "RSASSA-PKCS1-v1_5-SHA-256")
        self.assertEqual(answer["certificateId"], "sign")
        self.assertEqual(base64.b64decode(answer["signature"]), Path(str(self.document) + ".sig").read_bytes())

    def test_pin_never_appears_in_the_output(self):
        result = self.inkan("sign", self.document, stdin="8642\n")
        self.assertExit(result, EXIT_PIN)
        self.assertNotIn("8642", result.stdout + result.stderr)
        result = self.inkan("sign", self.document, stdin=DEMO_PIN + "\n")
        self.assertExit(result, EXIT_OK)
        self.assertNotIn(DEMO_PIN, result.stdout + result.stderr)

    def test_wrong_pin_exits_4_and_says_how_many_tries_are_left(self):
        result = self.inkan("sign", self.document, stdin="9999\n")
        self.assertExit(result, EXIT_PIN)
        self.assertIn("PIN_INCORRECT", result.stderr)
        self.assertIn("wrong PIN — 9 tries left before the card locks", result.stderr)
        self.assertFalse(Path(str(self.document) + ".sig").exists(), "no signature file after a refused PIN")
        self.assertEqual(self.pin_status()["triesLeft"], 9)
        result = self.inkan("sign", self.document, "--json", stdin="9999\n")
        self.assertExit(result, EXIT_PIN)
        problem = json.loads(result.stdout)
        self.assertEqual((problem["code"], problem["triesLeft"]), ("PIN_INCORRECT", 8))

    def test_missing_document_fails_before_the_card_is_touched(self):
        before = self.vcard.apdu_count()
        result = self.inkan("sign", self.work / "no-such-file.pdf", stdin=DEMO_PIN + "\n")
        self.assertExit(result, EXIT_LOCAL)
        self.assertIn("no-such-file.pdf", result.stderr)
        self.assertEqual(self.vcard.apdu_count(), before)

    def test_no_pin_on_stdin_cancels_without_spending_a_try(self):
        result = self.inkan("sign", self.document, stdin="")
        self.assertExit(result, EXIT_USAGE)
        self.assertIn("PIN", result.stderr)
        self.assertEqual(self.pin_status()["triesLeft"], 10)
        self.assertExit(self.inkan("sign", self.document, stdin="\n"), EXIT_USAGE)
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_unknown_digest_algorithm_is_a_usage_error(self):
        result = self.inkan("sign", self.document, "--digest-algorithm", "MD5", stdin=DEMO_PIN + "\n")
        self.assertExit(result, EXIT_USAGE)

    def test_unwritable_signature_file_fails_before_the_card_is_touched(self):
        before = self.vcard.apdu_count()
        result = self.inkan("sign", self.document, "-o", self.work / "missing-dir" / "x.sig", stdin=DEMO_PIN + "\n")
        self.assertExit(result, EXIT_LOCAL)
        self.assertIn("missing-dir", result.stderr)
        self.assertEqual(self.vcard.apdu_count(), before)


class PinTest(CliStackTestCase):
    def tearDown(self):
        self.restore_pin()

    def verify(self, pin):
        # Spending the last tries is this test's purpose: say so to inkand's PIN guard.
        return self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": pin, "acknowledgeLowTries": True})

    def test_pin_change_reads_current_and_new_pin_from_stdin_lines(self):
        result = self.inkan("pin", "change", stdin=f"{DEMO_PIN}\n24680\n")
        self.assertExit(result, EXIT_OK)
        self.assertIn("PIN changed", result.stdout)
        self.assertIn("10 of 10 tries left", result.stdout)
        self.assertEqual(self.verify("24680").status, 200)
        self.assertEqual(self.verify(DEMO_PIN).status, 403)
        result = self.inkan("pin", "change", "--json", stdin=f"24680\n{DEMO_PIN}\n")
        self.assertExit(result, EXIT_OK)
        self.assertEqual(json.loads(result.stdout)["triesLeft"], 10)
        self.assertEqual(self.verify(DEMO_PIN).status, 200)

    def test_pin_change_with_a_wrong_current_pin_exits_4(self):
        result = self.inkan("pin", "change", stdin="0000\n24680\n")
        self.assertExit(result, EXIT_PIN)
        self.assertIn("wrong PIN — 9 tries left", result.stderr)
        self.assertEqual(self.verify(DEMO_PIN).status, 200, "the PIN must be unchanged")

    def test_pin_change_to_an_invalid_pin_is_refused_by_inkand(self):
        result = self.inkan("pin", "change", stdin=f"{DEMO_PIN}\n12\n")
        self.assertExit(result, EXIT_API)
        self.assertIn("PIN_FORMAT", result.stderr)

    def test_pin_change_warns_when_few_tries_are_left(self):
        for _ in range(7):
            self.verify("0000")
        self.assertEqual(self.pin_status()["triesLeft"], 3)
        result = self.inkan("pin", "change", stdin=f"{DEMO_PIN}\n{DEMO_PIN}\n")
        self.assertExit(result, EXIT_OK)
        self.assertIn("3 tries left before the card locks", result.stderr)
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_blocked_pin_unblocked_with_the_unblock_code_from_stdin(self):
        for _ in range(10):
            self.verify("0000")
        result = self.inkan("pin", "status")
        self.assertExit(result, EXIT_OK)
        self.assertIn("blocked", result.stdout)
        self.assertTrue(json.loads(self.inkan("pin", "status", "--json").stdout)["blocked"])
        # Signing and changing refuse at once, without asking for a PIN (stdin is empty).
        document = self.work / "blocked.txt"
        document.write_text("x")
        for command in (["sign", document], ["pin", "change"]):
            with self.subTest(command=command[0]):
                result = self.inkan(*command)
                self.assertExit(result, EXIT_PIN)
                self.assertIn("blocked", result.stderr)
                self.assertIn("inkan pin unblock", result.stderr)
                result = self.inkan(*command, "--json")
                self.assertExit(result, EXIT_PIN)
                self.assertEqual(json.loads(result.stdout)["code"], "PIN_BLOCKED")
        # A wrong unblock code has its own counter.
        result = self.inkan("pin", "unblock", stdin="87654321\n1357\n")
        self.assertExit(result, EXIT_PIN)
        self.assertIn("wrong unblock code — 9 tries left", result.stderr)
        result = self.inkan("pin", "unblock", stdin=f"{DEMO_UNBLOCK}\n{DEMO_PIN}\n")
        self.assertExit(result, EXIT_OK)
        self.assertIn("PIN unblocked", result.stdout)

    def test_unblocking_warns_at_the_unblock_codes_last_tries_and_then_goes_ahead(self):
        for _ in range(7):
            self.client.post(f"/v1/cards/{self.card_id}/pin/unblock", {"unblockCode": "87654321", "newPin": DEMO_PIN})
        self.assertEqual(self.client.get(f"/v1/cards/{self.card_id}/unblock-code").json()["triesLeft"], 3)
        self.assertIn("Unblock code: 3 of 10 tries left", self.inkan("pin", "status").stdout)
        result = self.inkan("pin", "unblock", stdin=f"{DEMO_UNBLOCK}\n{DEMO_PIN}\n")
        self.assertExit(result, EXIT_OK)
        self.assertIn("only 3 tries left of the unblock code", result.stderr)
        self.assertEqual(self.client.get(f"/v1/cards/{self.card_id}/unblock-code").json()["triesLeft"], 10)
        self.assertEqual(self.pin_status(), {"triesLeft": 10, "maxTries": 10, "blocked": False})

    def test_pin_change_without_the_new_pin_sends_nothing(self):
        before = self.vcard.apdu_count()
        result = self.inkan("pin", "change", stdin=f"{DEMO_PIN}\n")
        self.assertExit(result, EXIT_USAGE)
        self.assertEqual(self.pin_status()["triesLeft"], 10)
        self.assertNotIn(" 0024", "\n".join(self.vcard.apdu_lines()[before:]), "no CHANGE REFERENCE DATA may reach the card")


class TerminalTest(CliStackTestCase):
    """On a terminal the secrets are asked without echo, new PINs twice."""

    def tearDown(self):
        self.restore_pin()

    def options(self):
        return ["--state-dir", self.daemon.state, "--port", self.daemon.port, "--card", self.card_id]

    def test_sign_asks_the_pin_without_echo(self):
        document = self.work / "terminal.txt"
        document.write_text("signed on a terminal")
        code, shown = run_on_terminal(*self.options(), "sign", document, answers=[DEMO_PIN])
        self.assertEqual(code, EXIT_OK, shown)
        self.assertIn(f"PIN for card {self.card_id}: ", shown)
        self.assertNotIn(DEMO_PIN, shown)
        self.assertIn(f"{document}.sig", shown)

    def test_pin_change_asks_the_new_pin_twice(self):
        code, shown = run_on_terminal(*self.options(), "pin", "change", answers=[DEMO_PIN, "24680", "24680"])
        self.assertEqual(code, EXIT_OK, shown)
        for prompt in ("Current PIN: ", "New PIN: ", "New PIN again: "):
            self.assertIn(prompt, shown)
        self.assertNotIn("24680", shown)
        self.assertIn("PIN changed", shown)
        self.assertEqual(self.client.post(f"/v1/cards/{self.card_id}/pin/change", {"pin": "24680", "newPin": DEMO_PIN}).status, 200)

    def test_new_pins_that_differ_send_nothing(self):
        before = self.vcard.apdu_count()
        code, shown = run_on_terminal(*self.options(), "pin", "change", answers=[DEMO_PIN, "24680", "24681"])
        self.assertEqual(code, EXIT_USAGE, shown)
        self.assertIn("differ", shown)
        self.assertNotIn(" 0024", "\n".join(self.vcard.apdu_lines()[before:]), "no CHANGE REFERENCE DATA may reach the card")

    def test_ctrl_c_at_the_prompt_restores_the_echo(self):
        pid, master = pty.fork()
        if pid == 0:
            os.execv(str(INKAN), [str(INKAN), *map(str, self.options()), "pin", "unblock"])
        try:
            shown = b""
            deadline = time.monotonic() + 30
            while not shown.endswith(b": ") and time.monotonic() < deadline:
                if select.select([master], [], [], 0.5)[0]:
                    shown += os.read(master, 4096)
            self.assertTrue(shown.endswith(b"Unblock code: "), shown)
            self.assertFalse(termios.tcgetattr(master)[3] & termios.ECHO, "echo must be off at the prompt")
            os.write(master, b"\x03")  # Ctrl-C
            _, status = os.waitpid(pid, 0)
            self.assertTrue(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT, status)
            self.assertTrue(termios.tcgetattr(master)[3] & termios.ECHO, "echo must be back after Ctrl-C")
        finally:
            os.close(master)

    def test_empty_pin_cancels(self):
        code, shown = run_on_terminal(*self.options(), "pin", "unblock", answers=[""])
        self.assertEqual(code, EXIT_USAGE, shown)
        self.assertIn("nothing was sent", shown)


class SlowCardTest(CliStackTestCase):
    """A card that takes 1.5 s to sign: the user is told what is going on."""

    vcard_args = ("--latency-ms", "1500")

    def test_slow_signing_shows_progress_on_stderr(self):
        document = self.work / "slow.txt"
        document.write_text("slow")
        result = self.inkan("sign", document, stdin=DEMO_PIN + "\n")
        self.assertExit(result, EXIT_OK)
        self.assertIn("signing on the card…", result.stderr)
        self.assertNotIn("signing on the card", result.stdout)


class TrustWithDaemonTest(CliStackTestCase):
    def test_trust_install_puts_inkands_own_ca_into_an_nss_db(self):
        db = self.work / "nssdb"
        db.mkdir()
        certutil("-N", "--empty-password", "-d", f"sql:{db}")
        result = self.inkan("trust", "install", "--nssdb", db, card=False)
        self.assertExit(result, EXIT_OK)
        listed = certutil("-L", "-d", f"sql:{db}", "-n", NICKNAME, "-a")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual(pem_to_der(listed.stdout), pem_to_der(self.daemon.ca_file.read_text()))


class UnreachableTest(unittest.TestCase):
    """Exit 2 and a message that says what is wrong and how to fix it."""

    @classmethod
    def setUpClass(cls):
        if not INKAN.exists():
            raise AssertionError(f"{INKAN} is missing: run `make build` first")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        cls.work = Path(tempfile.mkdtemp(prefix="UnreachableTest-", dir=ARTIFACTS))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_inkand_not_running_exits_2_and_says_so(self):
        state = self.work / "state"
        make_ca(state, "inkan test CA")
        (state / "token").write_text("0" * 64)
        result = run_inkan("--state-dir", state, "--port", free_port(), "status")
        self.assertEqual(result.returncode, EXIT_UNREACHABLE, describe(result))
        self.assertIn("inkand is not running", result.stderr)
        self.assertIn("--port", result.stderr)

    def test_state_dir_without_token_exits_2_and_says_where_it_looked(self):
        state = self.work / "empty-state"
        state.mkdir()
        make_ca(state, "inkan test CA")
        result = run_inkan("--state-dir", state, "cards")
        self.assertEqual(result.returncode, EXIT_UNREACHABLE, describe(result))
        self.assertIn(str(state / "token"), result.stderr)
        self.assertIn("start inkand", result.stderr)


class UntrustedTlsTest(CliStackTestCase):
    """A CA file that did not issue the daemon's certificate: TLS is not trusted, nothing is sent."""

    def test_foreign_ca_is_reported_as_tls_not_trusted(self):
        state = self.work / "foreign-state"
        make_ca(state, "not inkand's CA")
        shutil.copy(self.daemon.state / "token", state / "token")
        result = run_inkan("--state-dir", state, "--port", self.daemon.port, "status")
        self.assertEqual(result.returncode, EXIT_UNREACHABLE, describe(result))
        self.assertIn("TLS not trusted", result.stderr)
        self.assertIn("--state-dir", result.stderr)


class UsageTest(unittest.TestCase):
    COMMANDS = [[], ["status"], ["cards"], ["cert"], ["cert", "show"], ["cert", "export"], ["pin"], ["pin", "status"],
                ["pin", "change"], ["pin", "unblock"], ["sign"], ["trust"], ["trust", "install"], ["trust", "uninstall"],
                ["trust", "status"], ["console"]]

    def test_every_command_has_help(self):
        for command in self.COMMANDS:
            with self.subTest(command=command):
                result = run_inkan(*command, "--help")
                self.assertEqual(result.returncode, EXIT_OK, describe(result))
                self.assertIn("Usage:", result.stdout)
        self.assertIn("Exit codes", run_inkan("--help").stdout)

    def test_usage_errors_exit_1(self):
        for args in ([], ["cert"], ["sign"], ["frobnicate"], ["--port", "0", "status"], ["--port", "x", "status"],
                     ["status", "--no-such-option"], ["trust"]):
            with self.subTest(args=args):
                result = run_inkan(*args)
                self.assertEqual(result.returncode, EXIT_USAGE, describe(result))

    def test_there_is_no_pin_option(self):
        for args in (["sign", "doc", "--pin", "1234"], ["pin", "change", "--pin", "1234"], ["pin", "change", "1234", "5678"]):
            with self.subTest(args=args):
                self.assertEqual(run_inkan(*args).returncode, EXIT_USAGE)


class TrustTest(unittest.TestCase):
    """trust install/status/uninstall into scratch NSS databases (never the system store)."""

    def setUp(self):
        if shutil.which("certutil") is None:
            self.skipTest("certutil (libnss3-tools) is not installed")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix="TrustTest-", dir=ARTIFACTS))
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.state = self.work / "state"
        self.ca = make_ca(self.state, "inkan Local CA test")
        self.db = self.work / "nssdb"
        self.db.mkdir()
        created = certutil("-N", "--empty-password", "-d", f"sql:{self.db}")
        self.assertEqual(created.returncode, 0, created.stderr)

    def trust(self, *args) -> subprocess.CompletedProcess:
        return run_inkan("--state-dir", self.state, "trust", *args, "--nssdb", self.db)

    def listed(self) -> str:
        return certutil("-L", "-d", f"sql:{self.db}").stdout

    def test_install_status_uninstall_round_trip(self):
        result = self.trust("status")
        self.assertEqual(result.returncode, EXIT_OK, describe(result))
        self.assertIn("not installed", result.stdout)
        self.assertIn(str(self.db), result.stdout)

        result = self.trust("install")
        self.assertEqual(result.returncode, EXIT_OK, describe(result))
        self.assertIn(f"trusted in NSS database {self.db}", result.stdout)
        line = next(line for line in self.listed().splitlines() if line.startswith(NICKNAME))
        self.assertEqual(line.split()[-1], "C,,", "trusted to issue server certificates, nothing else")
        exported = certutil("-L", "-d", f"sql:{self.db}", "-n", NICKNAME, "-a").stdout
        self.assertEqual(pem_to_der(exported), pem_to_der(self.ca.read_text()))

        result = self.trust("status")
        self.assertRegex(result.stdout, rf"{self.db}\s+trusted")
        status = json.loads(run_inkan("--json", "--state-dir", self.state, "trust", "status", "--nssdb", self.db).stdout)
        self.assertEqual([(p["kind"], p["path"], p["state"]) for p in status["places"]], [("nssdb", str(self.db), "trusted")])
        self.assertTrue(status["ca"]["present"])

        result = self.trust("install")
        self.assertEqual(result.returncode, EXIT_OK, describe(result))
        self.assertIn("already trusted", result.stdout)
        self.assertEqual(self.listed().count(NICKNAME), 1)

        result = self.trust("uninstall")
        self.assertEqual(result.returncode, EXIT_OK, describe(result))
        self.assertIn(f"removed from NSS database {self.db}", result.stdout)
        self.assertNotIn(NICKNAME, self.listed())
        result = self.trust("uninstall")
        self.assertEqual(result.returncode, EXIT_OK, describe(result))
        self.assertIn("not in", result.stdout)
        self.assertIn("not installed", self.trust("status").stdout)

    def test_install_replaces_an_outdated_ca_of_the_same_name(self):
        old = make_ca(self.work / "old", "an earlier inkand CA")
        certutil("-A", "-d", f"sql:{self.db}", "-t", "C,,", "-n", NICKNAME, "-i", old)
        self.assertIn("outdated", self.trust("status").stdout)
        result = self.trust("install")
        self.assertEqual(result.returncode, EXIT_OK, describe(result))
        exported = certutil("-L", "-d", f"sql:{self.db}", "-n", NICKNAME, "-a").stdout
        self.assertEqual(pem_to_der(exported), pem_to_der(self.ca.read_text()))
        self.assertEqual(self.listed().count(NICKNAME), 1)

    def test_other_certificates_in_the_db_are_left_alone(self):
        other = make_ca(self.work / "other", "someone else's CA")
        certutil("-A", "-d", f"sql:{self.db}", "-t", "C,,", "-n", "inkan local CA 2", "-i", other)
        self.assertEqual(self.trust("install").returncode, EXIT_OK)
        self.assertEqual(self.trust("uninstall").returncode, EXIT_OK)
        self.assertIn("inkan local CA 2", self.listed())

    def test_missing_nss_database_is_a_local_error(self):
        result = run_inkan("--state-dir", self.state, "trust", "install", "--nssdb", self.work / "no-db")
        self.assertEqual(result.returncode, EXIT_LOCAL, describe(result))
        self.assertIn("certutil -N", result.stderr)

    def test_install_without_a_local_ca_exits_2(self):
        result = run_inkan("--state-dir", self.work / "never-started", "trust", "install", "--nssdb", self.db)
        self.assertEqual(result.returncode, EXIT_UNREACHABLE, describe(result))
        self.assertIn("start inkand", result.stderr)
        self.assertNotIn(NICKNAME, self.listed())


if __name__ == "__main__":
    unittest.main()
