"""Who may connect at all (docs/security.md "Other users are refused at the door", "Connection limit").

inkand admits only connections whose socket belongs to its own OS user, before TLS: curl run as
`nobody`, with a readable copy of the token and the CA, gets no TLS and no HTTP status, and the
virtual card's APDU log shows that nothing reached the card; the same curl as the test's own user
signs. Idle connections and half-finished TLS handshakes give way to a newcomer when inkand is full.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import BIN_DIR, DEMO_PIN, StackTestCase, b64, run_inkan, wait_for

OTHER_USER, OTHER_GROUP = "nobody", "nogroup"
# curl(1) "EXIT CODES" 35: "A TLS/SSL connect error. The SSL handshake failed."
CURL_TLS_CONNECT_ERROR = 35
# The first bytes of a TLS ClientHello (RFC 8446 §5.1, §4.1.2): a handshake record announcing
# 512 bytes, of which only the handshake header and the legacy version follow.
PARTIAL_CLIENT_HELLO = bytes.fromhex("1603010200" "010001fc" "0303")
EXIT_UNREACHABLE = 2  # client-sdk/cli/exit_code.hpp
HOARDED = 100  # of each kind, as the issue measured it
MAX_CONNECTIONS, RESERVED = 64, 8  # api/server.hpp ServerOptions


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def closed_by_server(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:  # reset
        return True


class OtherUserTest(StackTestCase):
    loot: Path | None = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # What a thief of the token would hold: readable copies of the token (as a header for
        # curl) and of the CA, and the request body, in a directory `nobody` can enter.
        cls.loot = Path(tempfile.mkdtemp(prefix="inkan-stolen-"))
        cls.loot.chmod(0o755)
        (cls.loot / "auth").write_text(f"Authorization: Bearer {cls.daemon.token}\n")
        shutil.copy(cls.daemon.ca_file, cls.loot / "ca.pem")
        body = {"digest": b64(hashlib.sha256(b"a stolen token").digest()), "digestAlgorithm": "SHA-256", "pin": DEMO_PIN}
        (cls.loot / "sign.json").write_text(json.dumps(body))
        # ... and as a state directory for the inkan CLI.
        (cls.loot / "state" / "tls").mkdir(parents=True)
        (cls.loot / "state" / "token").write_text(cls.daemon.token)
        shutil.copy(cls.daemon.ca_file, cls.loot / "state" / "tls" / "ca.pem")
        for path in cls.loot.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)

    @classmethod
    def tearDownClass(cls):
        if cls.loot:
            shutil.rmtree(cls.loot, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("running curl as another user needs root")

    def curl_sign(self, as_other_user: bool, host="127.0.0.1", connect_to: str | None = None) -> subprocess.CompletedProcess:
        """POST /v1/cards/ID/sign with the token; stdout is the HTTP status (000: none)."""
        port = self.daemon.port
        command = ["curl", "-q", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
                   "--cacert", str(self.loot / "ca.pem"), "-H", f"@{self.loot / 'auth'}",
                   "-H", "Content-Type: application/json", "-H", "Inkan-Client: curl",
                   "--data", f"@{self.loot / 'sign.json'}", f"https://{host}:{port}/v1/cards/{self.card_id}/sign"]
        if connect_to:
            command[1:1] = ["--connect-to", f"{host}:{port}:{connect_to}:{port}"]
        if as_other_user:
            command = ["setpriv", f"--reuid={OTHER_USER}", f"--regid={OTHER_GROUP}", "--clear-groups"] + command
        return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd="/")

    def assertClosedBeforeTls(self, result: subprocess.CompletedProcess):
        self.assertEqual(result.stdout, "000", result)
        self.assertEqual(result.returncode, CURL_TLS_CONNECT_ERROR, result)

    def test_another_users_curl_with_the_token_is_closed_before_tls(self):
        uid = pwd.getpwnam(OTHER_USER).pw_uid
        addresses = [("127.0.0.1", None), ("127.0.0.1", "[::ffff:127.0.0.1]")]  # AF_INET, and AF_INET6 mapped
        if ipv6_loopback():
            addresses.append(("[::1]", None))
        for host, connect_to in addresses:
            with self.subTest(host=host, connect_to=connect_to):
                before_apdus, before_log = self.vcard.apdu_count(), len(self.daemon.output())
                self.assertClosedBeforeTls(self.curl_sign(as_other_user=True, host=host, connect_to=connect_to))
                self.assertEqual(self.vcard.apdu_lines()[before_apdus:], [], "nothing may reach the card")
                log = self.daemon.output()[before_log:]
                self.assertIn(f"of uid {uid}: inkand serves only uid {os.geteuid()}", log)
                self.assertNotIn(self.daemon.token, log)
                # The control: the same curl as inkand's own user signs.
                mine = self.curl_sign(as_other_user=False, host=host, connect_to=connect_to)
                self.assertEqual((mine.returncode, mine.stdout), (0, "200"), mine)
                self.assertGreater(self.vcard.apdu_count(), before_apdus)

    def test_the_cli_of_another_user_says_why_it_cannot_connect(self):
        before = self.vcard.apdu_count()
        result = subprocess.run(["setpriv", f"--reuid={OTHER_USER}", f"--regid={OTHER_GROUP}", "--clear-groups",
                                 str(BIN_DIR / "inkan"), "--port", str(self.daemon.port), "--state-dir",
                                 str(self.loot / "state"), "cards"],
                                capture_output=True, text=True, timeout=60, cwd="/", stdin=subprocess.DEVNULL)
        self.assertEqual(result.returncode, EXIT_UNREACHABLE, result)
        self.assertIn("serves only the OS user it runs as", result.stderr)
        self.assertEqual(self.vcard.apdu_lines()[before:], [])
        # The same state directory works for inkand's own user.
        mine = run_inkan("--port", self.daemon.port, "--state-dir", self.loot / "state", "cards")
        self.assertEqual(mine.returncode, 0, mine)


class ConnectionFloodTest(StackTestCase):
    def hoard(self) -> list[socket.socket]:
        held = []
        for i in range(2 * HOARDED):
            sock = socket.create_connection(("127.0.0.1", self.daemon.port), timeout=5)
            if i >= HOARDED:
                sock.sendall(PARTIAL_CLIENT_HELLO)
            held.append(sock)
        return held

    def test_idle_connections_and_half_finished_handshakes_do_not_lock_out_a_client(self):
        held = self.hoard()
        try:
            # inkand has seen them all: at most the pending share of the slots is still open.
            wait_for(lambda: sum(closed_by_server(s) for s in held) >= len(held) - (MAX_CONNECTIONS - RESERVED), 20,
                     what="inkand to close the oldest idle connections")
            r = self.client.get("/v1/status")  # with the token
            self.assertEqual(r.status, 200, r)
            # The oldest gave way; the newest (half a ClientHello) are still held open.
            self.assertTrue(closed_by_server(held[0]))
            self.assertFalse(closed_by_server(held[-1]))
            self.assertIn("closed the oldest connection that had sent no request", self.daemon.output())
            self.assertEqual(self.client.get(f"/v1/cards/{self.card_id}").status, 200)
        finally:
            for sock in held:
                with contextlib.suppress(OSError):
                    sock.close()
        self.assertEqual(self.client.get("/v1/status").status, 200)


if __name__ == "__main__":
    unittest.main()
