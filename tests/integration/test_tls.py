"""The local TLS set-up and the daemon's files."""

import socket
import ssl
import stat
import subprocess
import unittest

from harness import Client, NotApplicable, StackTestCase


class TlsTest(StackTestCase):
    def leaf_text(self):
        return subprocess.run(["openssl", "x509", "-noout", "-text", "-in", str(self.daemon.state / "tls" / "server.pem")],
                              capture_output=True, text=True, check=True).stdout

    def test_leaf_is_ecdsa_for_loopback_names_only(self):
        text = self.leaf_text()
        self.assertIn("id-ecPublicKey", text)
        self.assertIn("prime256v1", text)
        self.assertIn("DNS:localhost", text)
        self.assertIn("IP Address:127.0.0.1", text)
        self.assertIn("IP Address:0:0:0:0:0:0:0:1", text)
        self.assertIn("TLS Web Server Authentication", text)
        days = subprocess.run(["openssl", "x509", "-noout", "-checkend", str(826 * 86400), "-in",
                               str(self.daemon.state / "tls" / "server.pem")], capture_output=True)
        self.assertNotEqual(days.returncode, 0, "the leaf must not be valid for more than 825 days")

    def test_leaf_chains_to_the_local_ca(self):
        r = subprocess.run(["openssl", "verify", "-CAfile", str(self.daemon.ca_file), "-purpose", "sslserver",
                            str(self.daemon.state / "tls" / "server.pem")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_ca_private_key_is_not_kept_and_secrets_are_private(self):
        names = sorted(p.name for p in (self.daemon.state / "tls").iterdir())
        self.assertEqual(names, ["ca.pem", "server-key.pem", "server.pem"])
        ca = (self.daemon.ca_file).read_text()
        self.assertNotIn("PRIVATE KEY", ca)
        for secret in (self.daemon.state / "token", self.daemon.state / "tls" / "server-key.pem"):
            self.assertEqual(stat.S_IMODE(secret.stat().st_mode), 0o600, secret)
        self.assertEqual(len(self.daemon.token), 64)

    def test_localhost_name_verifies(self):
        client = Client(self.daemon, host=f"localhost:{self.daemon.port}", server_hostname="localhost")
        self.assertEqual(client.get("/v1/status").status, 200)

    def test_ipv6_loopback_when_available(self):
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError:
            raise NotApplicable("no IPv6 loopback on this machine")
        client = Client(self.daemon, host=f"[::1]:{self.daemon.port}", server_hostname="::1")
        self.assertEqual(client.get("/v1/status").status, 200)

    def test_old_tls_versions_are_refused(self):
        ctx = self.daemon.ssl_context()
        # Let the client offer TLS 1.0/1.1 (its defaults would refuse them), so only the server can say no.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaises((ssl.SSLError, OSError)):
            with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1"):
                    pass

    def test_restart_reuses_token_and_ca(self):
        token, ca = self.daemon.token, self.daemon.ca_file.read_bytes()
        self.assertEqual(self.daemon.stop(), 0)
        self.daemon.start()
        self.assertEqual(self.daemon.token, token)
        self.assertEqual(self.daemon.ca_file.read_bytes(), ca)
        self.assertEqual(Client(self.daemon).get("/v1/status").status, 200)


if __name__ == "__main__":
    unittest.main()
