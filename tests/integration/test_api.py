"""The HTTPS API over the real stack: every endpoint, signatures checked by openssl."""

import hashlib
import ssl
import unittest

from harness import DIGESTS, StackTestCase, b64, unb64, verify_signature


class ApiTest(StackTestCase):
    def test_status_lists_the_reader_with_the_card(self):
        r = self.client.get("/v1/status")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.content_type, "application/json")
        status = r.json()
        self.assertTrue(status["pcscAvailable"])
        self.assertTrue(status["version"])
        with_card = [reader for reader in status["readers"] if reader.get("cardId") == self.card_id]
        self.assertEqual(len(with_card), 1, status)
        self.assertTrue(with_card[0]["cardPresent"])
        self.assertEqual(with_card[0]["atr"], "3B888001494E4B414E5643316E")

    def test_cards_describe_the_reference_card(self):
        card = self.client.get("/v1/cards").json()["cards"][0]
        self.assertEqual(card["profile"], "inkan-reference")
        self.assertEqual(card["pin"], {"triesLeft": 10, "maxTries": 10, "blocked": False})
        self.assertIn("Virtual PCD", card["reader"])
        self.assertTrue(card["label"])
        ids = [c["id"] for c in card["certificates"]]
        self.assertIn("sign", ids)
        sign_cert = next(c for c in card["certificates"] if c["id"] == "sign")
        self.assertIn("株式会社いんかん商事", sign_cert["subject"])
        self.assertRegex(sign_cert["serialNumber"], r"^[0-9A-F]+$")
        self.assertRegex(sign_cert["notAfter"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        one = self.client.get(f"/v1/cards/{self.card_id}")
        self.assertEqual(one.status, 200, one)
        self.assertEqual(one.json()["id"], self.card_id)

    def test_certificate_der_is_the_card_certificate_and_reads_are_cached(self):
        first = self.client.get(f"/v1/cards/{self.card_id}/certificates/sign")
        self.assertEqual(first.status, 200, first)
        der = unb64(first.json()["der"])
        pem = ssl.DER_cert_to_PEM_cert(der)
        self.assertIn("BEGIN CERTIFICATE", pem)
        before = self.vcard.apdu_count()
        again = self.client.get(f"/v1/cards/{self.card_id}/certificates/sign")
        self.assertEqual(unb64(again.json()["der"]), der)
        self.client.get("/v1/cards")
        self.client.get("/v1/status")
        self.assertEqual(self.vcard.apdu_count(), before, "cached reads must not reach the card")

    def test_unknown_certificate_and_card_are_not_found(self):
        self.assertProblem(self.client.get(f"/v1/cards/{self.card_id}/certificates/nope"), 404, "NOT_FOUND")
        self.assertProblem(self.client.get("/v1/cards/0000000000000000/pin"), 404, "CARD_NOT_FOUND")
        self.assertProblem(self.client.get("/v1/nothing-here"), 404, "NOT_FOUND")

    def test_signature_for_every_digest_algorithm_verifies_with_openssl(self):
        for algorithm, hash_fn in DIGESTS.items():
            with self.subTest(algorithm=algorithm):
                digest = hash_fn(f"e-application form for {algorithm}".encode()).digest()
                r = self.sign(digest, algorithm)
                self.assertEqual(r.status, 200, r)
                body = r.json()
                self.assertEqual(body["signatureAlgorithm"], f"RSASSA-PKCS1-v1_5-{algorithm}")
                self.assertEqual(body["certificateId"], "sign")
                signature = unb64(body["signature"])
                self.assertEqual(len(signature), 256)
                result = verify_signature(unb64(body["certificate"]), digest, signature, algorithm, self.work)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertIn("Signature Verified Successfully", result.stdout)
                # A different digest must not verify with that signature: the check can fail.
                other = hash_fn(b"another document").digest()
                self.assertNotEqual(verify_signature(unb64(body["certificate"]), other, signature, algorithm, self.work).returncode, 0)

    def test_sign_rejects_bad_input_before_the_card(self):
        before = self.vcard.apdu_count()
        digest = hashlib.sha256(b"x").digest()
        cases = [
            ({"digest": b64(digest), "digestAlgorithm": "MD5", "pin": "1234"}, 400, "UNSUPPORTED_ALGORITHM"),
            ({"digest": b64(digest[:31]), "digestAlgorithm": "SHA-256", "pin": "1234"}, 400, "BAD_REQUEST"),
            ({"digest": b64(digest), "digestAlgorithm": "SHA-384", "pin": "1234"}, 400, "BAD_REQUEST"),
            ({"digest": "not base64!!", "digestAlgorithm": "SHA-256", "pin": "1234"}, 400, "BAD_REQUEST"),
            ({"digestAlgorithm": "SHA-256", "pin": "1234"}, 400, "BAD_REQUEST"),
            ({"digest": 12, "digestAlgorithm": "SHA-256"}, 400, "BAD_REQUEST"),
            ({"digest": b64(digest), "digestAlgorithm": "SHA-256", "pin": "12a4"}, 400, "PIN_FORMAT"),
            ({"digest": b64(digest), "digestAlgorithm": "SHA-256", "pin": "12"}, 400, "PIN_FORMAT"),
        ]
        for body, status, code in cases:
            with self.subTest(body=body):
                self.assertProblem(self.client.post(f"/v1/cards/{self.card_id}/sign", body), status, code)
        self.assertProblem(self.client.request("POST", f"/v1/cards/{self.card_id}/sign", raw_body=b"{not json",
                                               headers={"Content-Type": "application/json"}), 400, "BAD_REQUEST")
        self.assertEqual(self.vcard.apdu_count(), before, "invalid requests must not reach the card")

    def test_sign_without_pin_is_refused_by_the_card(self):
        r = self.sign(hashlib.sha256(b"no pin").digest(), pin=None)
        self.assertProblem(r, 403, "PIN_REQUIRED")

    def test_verify_then_sign_without_pin_signs_once(self):
        self.assertEqual(self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": "1234"}).status, 200)
        self.assertEqual(self.sign(hashlib.sha256(b"one").digest(), pin=None).status, 200)
        self.assertProblem(self.sign(hashlib.sha256(b"two").digest(), pin=None), 403, "PIN_REQUIRED")


class GateTest(StackTestCase):
    """Requests that must not reach the card: the virtual card's APDU log stays unchanged."""

    def test_missing_or_wrong_token_is_unauthorized(self):
        from harness import Client
        before = self.vcard.apdu_count()
        for token in (None, "", "0" * 64, self.daemon.token[:-1]):
            with self.subTest(token=token):
                client = Client(self.daemon, token=token)
                r = client.get(f"/v1/cards/{self.card_id}/pin")
                self.assertProblem(r, 401, "UNAUTHORIZED")
                r = client.post(f"/v1/cards/{self.card_id}/sign", {"digest": b64(bytes(32)), "digestAlgorithm": "SHA-256", "pin": "1234"})
                self.assertProblem(r, 401, "UNAUTHORIZED")
        self.assertEqual(self.vcard.apdu_count(), before)

    def test_foreign_host_is_refused_and_nothing_reaches_the_card(self):
        from harness import Client
        before = self.vcard.apdu_count()
        port = self.daemon.port
        for host in (f"evil.example:{port}", f"127.0.0.1:{port + 1}", "127.0.0.1", f"localhost.:{port}",
                     f"127.0.0.1:{port}.evil.example", f"attacker.localhost:{port}", f"0.0.0.0:{port}"):
            with self.subTest(host=host):
                client = Client(self.daemon, host=host)
                self.assertProblem(client.get(f"/v1/cards/{self.card_id}/pin"), 403, "HOST_FORBIDDEN")
                r = client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": "1234"})
                self.assertProblem(r, 403, "HOST_FORBIDDEN")
        self.assertEqual(self.vcard.apdu_count(), before)
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_allowed_host_names(self):
        from harness import Client
        for host in (f"127.0.0.1:{self.daemon.port}", f"localhost:{self.daemon.port}", f"LOCALHOST:{self.daemon.port}"):
            with self.subTest(host=host):
                self.assertEqual(Client(self.daemon, host=host).get("/v1/status").status, 200)

    def test_unknown_origin_is_refused(self):
        before = self.vcard.apdu_count()
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": "1234"},
                             headers={"Origin": "https://evil.example", "Inkan-Client": "1"})
        self.assertProblem(r, 403, "ORIGIN_FORBIDDEN")
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))
        self.assertEqual(self.vcard.apdu_count(), before)

    def test_form_posts_are_refused(self):
        before = self.vcard.apdu_count()
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            with self.subTest(ctype=ctype):
                r = self.client.request("POST", f"/v1/cards/{self.card_id}/pin/verify", raw_body=b'{"pin":"1234"}',
                                        headers={"Content-Type": ctype})
                self.assertProblem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        self.assertEqual(self.vcard.apdu_count(), before)

    def test_oversized_body_is_refused(self):
        r = self.client.request("POST", f"/v1/cards/{self.card_id}/sign", raw_body=b"{" + b" " * (70 * 1024) + b"}",
                                headers={"Content-Type": "application/json"})
        self.assertProblem(r, 413, "PAYLOAD_TOO_LARGE")

    def test_security_headers(self):
        r = self.client.get("/v1/status")
        self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff")
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        self.assertIn("frame-ancestors 'none'", r.headers.get("Content-Security-Policy", ""))


if __name__ == "__main__":
    unittest.main()
