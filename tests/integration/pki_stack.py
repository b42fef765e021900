"""The test PKI of tests/pki/make-test-pki.sh and the servers that publish its
revocation data, for the certificate and self-test integration tests.

Everything is real and on loopback: the PKI is made by the script at test time
with free ports baked into the leaves' AIA (OCSP) and CDP (CRL) URLs, the OCSP
responder is `openssl ocsp` answering from the issuing CA's database, the CRL
is served by `python3 -m http.server`. Cases a live responder never produces
(a replayed nonce, a response that is days old) come from a static responder
replaying a response made with the openssl command, or from `openssl ocsp`
run under faketime.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

from harness import ARTIFACTS, Client, StackTestCase, free_port, port_listening, wait_for

PKI_SCRIPT_DIR = Path(__file__).resolve().parents[1] / "pki"

# One serial for every card of a test class: swapping certificates keeps the card id.
CARD_SERIAL = "1A2B3C4D5E6F7081"

# The registry fields the test PKI's leaves carry (tests/pki/openssl.cnf [corp_info]).
CORPORATE_NAME = "株式会社印鑑試験"
REGISTERED_NUMBER = "012345678901"
HEAD_OFFICE = "東京都千代田区霞が関一丁目１番１号"
REPRESENTATIVE_NAME = "印鑑 太郎"
REPRESENTATIVE_TITLE = "代表取締役"
REGISTRY_OFFICE = "東京法務局（試験）"
REGISTRAR = "東京法務局登記官（試験）"
REGISTRY_POLICY = "1.2.392.100300.1.3.4"


class Server:
    """A child process serving on a loopback port; stopped (and reaped) by stop()."""

    def __init__(self, args: list[str], port: int, log: Path, banner: str | None = None):
        self.port = port
        self.log = log
        with open(log, "ab") as out:
            # Its own process group: a wrapper (faketime) and what it runs stop together.
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        # `openssl ocsp` serves one connection at a time and a bare TCP probe
        # that sends nothing wedges it: wait for its banner instead.
        if banner:
            wait_for(lambda: self._alive() and banner in log.read_text(errors="replace"), 15, what=f"{args[0]} to listen on {port}")
        else:
            wait_for(lambda: self._alive() and port_listening(port), 15, what=f"{args[0]} to listen on {port}")

    def _alive(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"server on port {self.port} exited with {self.proc.returncode}:\n{self.log.read_text(errors='replace')}")
        return True

    def stop(self):
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class TestPki:
    """The generated PKI, its ports and the servers currently publishing for it."""

    def __init__(self, work: Path):
        self.work = work
        self.dir = work / "pki"
        self.ocsp_port = free_port()
        self.crl_port = free_port()
        while self.crl_port == self.ocsp_port:
            self.crl_port = free_port()
        result = subprocess.run([str(PKI_SCRIPT_DIR / "make-test-pki.sh"), str(self.dir), str(self.ocsp_port), str(self.crl_port)],
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise AssertionError(f"make-test-pki.sh failed:\n{result.stderr}")
        self.ocsp: Server | None = None
        self.ocsp_kind = ""  # "signer", "no-eku", "other-ca", "stale", "static"
        self.crl: Server | None = None
        self._logs = 0

    # --- material ---------------------------------------------------------

    @property
    def trust_dir(self) -> Path:
        return self.dir / "trust"

    @property
    def ocsp_url(self) -> str:
        return f"http://127.0.0.1:{self.ocsp_port}/"

    @property
    def crl_url(self) -> str:
        return f"http://127.0.0.1:{self.crl_port}/intermediate.crl"

    def leaf_pem(self, name: str) -> Path:
        return self.dir / "leaves" / f"{name}.pem"

    def leaf_der(self, name: str) -> bytes:
        return (self.dir / "leaves" / f"{name}.der").read_bytes()

    def serial_of(self, name: str) -> str:
        """The leaf's serial as the API writes it: upper-case hex, no separators."""
        out = subprocess.run(["openssl", "x509", "-in", str(self.leaf_pem(name)), "-noout", "-serial"],
                             capture_output=True, text=True, check=True).stdout
        return out.strip().split("=", 1)[1].upper()

    def vcard_args(self, leaf: str, ca: str = "intermediate.pem") -> list[str]:
        """inkan-vcard arguments for a card holding `leaf` with its key and `ca`
        as its EF C002, under CARD_SERIAL."""
        return ["--key", str(self.dir / "private" / f"{leaf}.key"), "--cert", str(self.leaf_pem(leaf)),
                "--ca-cert", str(self.dir / ca), "--serial", CARD_SERIAL]

    def inkand_config(self, path: Path, **overrides) -> Path:
        """An inkand config file: trust anchors = the PKI's trust/, short revocation timeouts, no dialogs."""
        config = {"trustAnchorsDir": str(self.trust_dir), "revocation": {"timeoutSeconds": 2}, "pinentryProgram": None}
        config.update(overrides)
        path.write_text(json.dumps(config, ensure_ascii=False))
        return path

    # --- servers ----------------------------------------------------------

    def _log(self, name: str) -> Path:
        self._logs += 1
        return self.work / f"{name}-{self._logs}.log"

    def start_ocsp(self, signer: str = "signer", days_ago: int | None = None) -> Server:
        """`openssl ocsp` for the issuing CA on the AIA port, signing with
        ocsp/<signer>.pem ("signer": authorized; "no-eku", "other-ca": not).
        `days_ago`: run it that many days in the past (faketime), so that its
        answers are stale (nextUpdate is one day after their thisUpdate)."""
        self.stop_ocsp()
        args = ["openssl", "ocsp", "-index", str(self.dir / "ca" / "index.txt"), "-port", str(self.ocsp_port),
                "-CA", str(self.dir / "intermediate.pem"), "-rsigner", str(self.dir / "ocsp" / f"{signer}.pem"),
                "-rkey", str(self.dir / "private" / f"ocsp-{signer}.key"), "-ndays", "1"]
        if days_ago is not None:
            if not shutil.which("faketime"):
                raise AssertionError("faketime is missing: scripts/install-deps.sh installs it")
            args = ["faketime", f"{days_ago} days ago"] + args
        self.ocsp = Server(args, self.ocsp_port, self._log("ocsp"), banner="waiting for OCSP client connections")
        self.ocsp_kind = signer if days_ago is None else "stale"
        return self.ocsp

    def start_static_ocsp(self, response: Path) -> Server:
        """A responder on the AIA port that answers every request with `response`."""
        self.stop_ocsp()
        self.ocsp = Server(["python3", str(PKI_SCRIPT_DIR / "static_ocsp_responder.py"), str(self.ocsp_port), str(response)],
                           self.ocsp_port, self._log("static-ocsp"))
        self.ocsp_kind = "static"
        return self.ocsp

    def premade_response(self, leaf: str, tag: str, nonce: bool = True) -> Path:
        """An OCSP response for `leaf` to a request made here (with its own nonce)."""
        request = self.work / f"{tag}.req"
        response = self.work / f"{tag}.resp"
        subprocess.run(["openssl", "ocsp", "-issuer", str(self.dir / "intermediate.pem"), "-cert", str(self.leaf_pem(leaf)),
                        "-nonce" if nonce else "-no_nonce", "-reqout", str(request)], check=True, capture_output=True)
        subprocess.run(["openssl", "ocsp", "-index", str(self.dir / "ca" / "index.txt"), "-CA", str(self.dir / "intermediate.pem"),
                        "-rsigner", str(self.dir / "ocsp" / "signer.pem"), "-rkey", str(self.dir / "private" / "ocsp-signer.key"),
                        "-reqin", str(request), "-respout", str(response), "-ndays", "1"], check=True, capture_output=True)
        return response

    def stop_ocsp(self):
        if self.ocsp:
            self.ocsp.stop()
            self.ocsp = None
            self.ocsp_kind = ""
            # The port is reused by the next responder: wait until it is free.
            wait_for(lambda: not port_listening(self.ocsp_port), 10, what="the OCSP port to close")

    def start_crl(self) -> Server:
        if not self.crl:
            self.crl = Server(["python3", "-m", "http.server", str(self.crl_port), "--bind", "127.0.0.1",
                               "--directory", str(self.dir / "www")], self.crl_port, self._log("crl"))
        return self.crl

    def stop_crl(self):
        if self.crl:
            self.crl.stop()
            self.crl = None

    def stop(self):
        self.stop_ocsp()
        self.stop_crl()

    def remove(self):
        if os.environ.get("INKAN_KEEP_ARTIFACTS") != "1":
            shutil.rmtree(self.work, ignore_errors=True)



_shared_pki: TestPki | None = None


def shared_pki() -> TestPki:
    """One PKI per test process (making it takes seconds); removed at exit."""
    global _shared_pki
    if _shared_pki is None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        _shared_pki = TestPki(Path(tempfile.mkdtemp(prefix="test-pki-", dir=ARTIFACTS)))
        atexit.register(_shared_pki.remove)
        atexit.register(_shared_pki.stop)
    return _shared_pki


class CertificateStackTestCase(StackTestCase):
    """A stack whose virtual card holds a leaf of the test PKI (its issuer in
    EF C002), with the OCSP responder and the CRL server running and inkand
    configured to trust the PKI's root."""

    leaf = "good"
    config_overrides: dict = {}

    @classmethod
    def setUpClass(cls):
        cls.pki = shared_pki()
        cls.pki.start_ocsp()
        cls.pki.start_crl()
        config = cls.pki.inkand_config(cls.pki.work / f"{cls.__name__}-inkand.json", **cls.config_overrides)
        cls.inkand_args = ("--config", str(config))
        cls.vcard_args = tuple(cls.pki.vcard_args(cls.leaf))
        cls.current_card = (cls.leaf, "intermediate.pem")
        super().setUpClass()

    def setUp(self):
        # A test that broke a server for its own case leaves the next one the normal set.
        if self.pki.ocsp_kind != "signer":
            self.pki.start_ocsp()
        self.pki.start_crl()

    @classmethod
    def use_card(cls, leaf: str, ca: str = "intermediate.pem"):
        """Make the class's card one holding `leaf` (same card serial, so the same card id)."""
        if cls.current_card == (leaf, ca):
            return
        cls.current_card = None  # unknown until the new card is listed
        cls.replace_vcard(cls.pki.vcard_args(leaf, ca))
        expected = cls.pki.serial_of(leaf)

        def shows_leaf():
            r = cls.client.get("/v1/cards")
            cards = r.json().get("cards", []) if r.status == 200 else []
            return any(c["id"] == cls.card_id and c["certificates"] and c["certificates"][0]["serialNumber"] == expected
                       for c in cards)
        wait_for(shows_leaf, 20, what=f"inkand to list the card with the {leaf} certificate")
        cls.current_card = (leaf, ca)

    @classmethod
    def restart_daemon(cls):
        """A fresh inkand: nothing of earlier revocation answers is cached."""
        cls.daemon.stop()
        cls.daemon.start()
        cls.client = Client(cls.daemon)
        cls.card_id = cls.wait_for_card()

    def validation(self, cert: str = "sign", at: str | None = None) -> dict:
        path = f"/v1/cards/{self.card_id}/certificates/{cert}/validation"
        if at is not None:
            path += "?at=" + urllib.parse.quote(at, safe="")
        r = self.client.get(path)
        self.assertEqual(r.status, 200, r)
        return r.json()
