"""Certificates on the real stack: content, expiry, chain and revocation.

The virtual card holds certificates of a test PKI made at test time by
tests/pki/make-test-pki.sh: a registry-shaped root and issuing CA, leaves with
the three commercial-registry extensions (critical, Japanese values). inkand
trusts the PKI's root (config trustAnchorsDir), a real `openssl ocsp`
responder answers from the CA database and `python3 -m http.server` serves the
CRL, both on loopback ports named in the leaves' AIA and CDP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from datetime import datetime, timedelta, timezone

from harness import BIN_DIR
from pki_stack import (CORPORATE_NAME, HEAD_OFFICE, REGISTERED_NUMBER, REGISTRAR, REGISTRY_OFFICE, REGISTRY_POLICY,
                       REPRESENTATIVE_NAME, REPRESENTATIVE_TITLE, CertificateStackTestCase)

REGISTRY_OIDS = {"1.2.392.100300.1.1.1", "1.2.392.100300.1.1.2", "1.2.392.100300.1.1.3"}

# docs/cli.md exit codes.
EXIT_OK, EXIT_API, EXIT_CHECK_FAILED, EXIT_CHECK_INCONCLUSIVE = 0, 3, 6, 7


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


class CertificateContentTest(CertificateStackTestCase):
    """What the card's certificates say, decoded."""

    def test_certificate_resource_decodes_the_registry_extensions_in_japanese(self):
        r = self.client.get(f"/v1/cards/{self.card_id}/certificates/sign")
        self.assertEqual(r.status, 200, r)
        cert = r.json()

        registry = cert["registry"]
        self.assertEqual(registry["corporateName"], CORPORATE_NAME)
        self.assertEqual(registry["registeredNumber"], REGISTERED_NUMBER)
        self.assertEqual(registry["headOffice"], HEAD_OFFICE)  # a BMPString on the certificate
        self.assertEqual(registry["representativeName"], REPRESENTATIVE_NAME)
        self.assertEqual(registry["representativeTitle"], REPRESENTATIVE_TITLE)
        self.assertEqual(registry["registryOffice"], REGISTRY_OFFICE)
        self.assertEqual(registry["registrar"], REGISTRAR)
        self.assertEqual([p["oid"] for p in registry["policies"]], [REGISTRY_POLICY])
        self.assertEqual(registry["undecodable"], [])

        extensions = {e["oid"]: e for e in cert["extensions"]}
        for oid in REGISTRY_OIDS:
            self.assertTrue(extensions[oid]["critical"], oid)
            self.assertTrue(extensions[oid]["decoded"], oid)

    def test_certificate_resource_has_names_key_usages_urls_and_fingerprint(self):
        cert = self.client.get(f"/v1/cards/{self.card_id}/certificates/sign").json()
        der = base64.b64decode(cert["der"])
        self.assertEqual(der, self.pki.leaf_der("good"))
        self.assertEqual(cert["sha256Fingerprint"], hashlib.sha256(der).hexdigest().upper())
        self.assertEqual(cert["serialNumber"], self.pki.serial_of("good"))

        subject = {a["type"]: a["value"] for a in cert["subjectAttributes"]}
        self.assertEqual(subject["O"], CORPORATE_NAME)
        self.assertEqual(subject["CN"], "印鑑 太郎 有効")
        self.assertEqual(subject["C"], "JP")
        issuer = {a["type"]: a["value"] for a in cert["issuerAttributes"]}
        self.assertTrue(issuer["CN"].endswith("Issuing CA"), issuer)
        self.assertIn("CN=印鑑 太郎 有効", cert["subject"])

        self.assertEqual(cert["key"], {"type": "RSA", "bits": 2048, "curve": None})
        self.assertEqual(cert["keyUsage"], ["digitalSignature", "nonRepudiation"])
        self.assertEqual(cert["extendedKeyUsage"], [])
        self.assertEqual([p["oid"] for p in cert["policies"]], [REGISTRY_POLICY])
        self.assertEqual(cert["ocspUrls"], [self.pki.ocsp_url])
        self.assertEqual(cert["crlUrls"], [self.pki.crl_url])
        self.assertEqual(cert["caIssuersUrls"], [f"http://127.0.0.1:{self.pki.crl_port}/intermediate.cer"])
        self.assertEqual(cert["basicConstraints"]["ca"], False)
        self.assertEqual(cert["signatureAlgorithm"], "sha256WithRSAEncryption")
        self.assertFalse(cert["expired"])
        self.assertFalse(cert["notYetValid"])
        self.assertIn(cert["daysLeft"], (363, 364, 365))

    def test_cards_list_days_left_expiry_flags_and_the_company(self):
        cards = self.client.get("/v1/cards").json()["cards"]
        card = next(c for c in cards if c["id"] == self.card_id)
        sign, ca = card["certificates"]
        self.assertEqual(sign["id"], "sign")
        self.assertIn(sign["daysLeft"], (363, 364, 365))
        self.assertFalse(sign["expired"])
        self.assertFalse(sign["expiringSoon"])
        self.assertEqual(sign["registry"], {"corporateName": CORPORATE_NAME, "registeredNumber": REGISTERED_NUMBER})
        # The issuing CA (EF C002) carries no registry extension.
        self.assertEqual(ca["id"], "ca")
        self.assertNotIn("registry", ca)
        self.assertGreater(ca["daysLeft"], 3000)

    def test_status_flags_the_expiry_of_the_card_in_each_reader(self):
        status = self.client.get("/v1/status").json()
        reader = next(r for r in status["readers"] if r.get("cardId") == self.card_id)
        expiry = reader["certificateExpiry"]
        self.assertEqual(expiry["certificateId"], "sign")
        self.assertIn(expiry["daysLeft"], (363, 364, 365))
        self.assertFalse(expiry["expired"])
        self.assertFalse(expiry["expiringSoon"])

    def test_jpki_style_subject_alt_names_are_shown(self):
        self.use_card("jpki")
        cert = self.client.get(f"/v1/cards/{self.card_id}/certificates/sign").json()
        others = {o["oid"]: o["value"] for o in cert["subjectAltNames"]["otherName"]}
        self.assertEqual(others["1.2.392.200149.8.5.5.1"], "印鑑 花子")
        self.assertEqual(others["1.2.392.200149.8.5.5.4"], "19800101")
        self.assertIsNone(cert["registry"])
        self.use_card("good")

    def test_expired_certificate_is_flagged_expired_in_status_and_cards(self):
        self.use_card("expired")
        card = next(c for c in self.client.get("/v1/cards").json()["cards"] if c["id"] == self.card_id)
        self.assertTrue(card["certificates"][0]["expired"])
        self.assertFalse(card["certificates"][0]["expiringSoon"])
        self.assertLess(card["certificates"][0]["daysLeft"], 0)
        reader = next(r for r in self.client.get("/v1/status").json()["readers"] if r.get("cardId") == self.card_id)
        self.assertTrue(reader["certificateExpiry"]["expired"])
        self.use_card("good")


class ValidationTest(CertificateStackTestCase):
    """GET .../validation: the chain to the configured anchor, then revocation."""

    def test_good_certificate_is_valid_with_ocsp_evidence(self):
        self.use_card("good")
        v = self.validation()
        self.assertEqual(v["verdict"], "valid", v)
        self.assertEqual(v["cardId"], self.card_id)
        self.assertEqual(v["certificateId"], "sign")
        chain = v["chain"]
        self.assertTrue(chain["valid"])
        self.assertEqual(chain["reason"], "none")
        self.assertEqual(len(chain["certificates"]), 3)  # leaf, the card's issuing CA, the root
        self.assertEqual(chain["certificates"][0]["serialNumber"], self.pki.serial_of("good"))
        self.assertEqual([c["trustAnchor"] for c in chain["certificates"]], [False, False, True])
        rev = v["revocation"]
        self.assertEqual(rev["status"], "good")
        self.assertEqual(rev["source"], "ocsp")
        self.assertEqual(rev["url"], self.pki.ocsp_url)
        self.assertTrue(rev["thisUpdate"] and rev["nextUpdate"])
        self.assertIsNone(rev["reason"])
        # checkedAt is now when no `at` is given.
        self.assertLess(abs((parse_time(v["checkedAt"]) - datetime.now(timezone.utc)).total_seconds()), 120)

    def test_revoked_certificate_is_revoked_for_key_compromise(self):
        self.use_card("revoked")
        v = self.validation()
        self.assertEqual(v["verdict"], "revoked", v)
        self.assertTrue(v["chain"]["valid"])
        self.assertEqual(v["revocation"]["status"], "revoked")
        self.assertEqual(v["revocation"]["reason"], "keyCompromise")
        self.assertTrue(v["revocation"]["revocationTime"])

    def test_certificate_on_hold_is_suspended(self):
        self.use_card("hold")
        v = self.validation()
        self.assertEqual(v["verdict"], "suspended", v)
        self.assertEqual(v["revocation"]["status"], "suspended")
        self.assertEqual(v["revocation"]["reason"], "certificateHold")
        self.assertIn("休止", v["summary"])

    def test_expired_certificate_is_invalid_and_revocation_is_not_asked(self):
        self.use_card("expired")
        v = self.validation()
        self.assertEqual(v["verdict"], "invalid", v)
        self.assertFalse(v["chain"]["valid"])
        self.assertEqual(v["chain"]["reason"], "expired")
        self.assertFalse(v["revocation"]["checked"])
        self.assertEqual(v["revocation"]["status"], "unknown")
        self.assertEqual(v["revocation"]["cause"], "chainInvalid")

    def test_expired_certificate_was_valid_at_a_time_in_its_validity_period(self):
        self.use_card("expired")
        at = datetime.now(timezone.utc) - timedelta(days=200)
        v = self.validation(at=rfc3339(at))
        self.assertEqual(v["verdict"], "valid", v)
        self.assertEqual(v["checkedAt"], rfc3339(at))
        self.assertEqual(v["revocation"]["status"], "good")

    def test_at_accepts_an_offset_and_means_the_same_instant(self):
        self.use_card("expired")
        at = (datetime.now(timezone.utc) - timedelta(days=200)).replace(microsecond=0)
        v = self.validation(at=at.astimezone(timezone(timedelta(hours=9))).isoformat())
        self.assertEqual(v["checkedAt"], rfc3339(at))
        self.assertEqual(v["verdict"], "valid", v)

    def test_not_yet_valid_certificate_is_invalid(self):
        self.use_card("notyet")
        v = self.validation()
        self.assertEqual(v["verdict"], "invalid", v)
        self.assertEqual(v["chain"]["reason"], "notYetValid")

    def test_revoked_certificate_was_valid_before_its_revocation(self):
        self.use_card("revoked")
        revoked_at = parse_time(self.validation()["revocation"]["revocationTime"])
        before = revoked_at - timedelta(hours=2)  # the leaf is valid from a day before the PKI was made
        v = self.validation(at=rfc3339(before))
        self.assertEqual(v["verdict"], "valid", v)
        self.assertEqual(v["revocation"]["status"], "revoked")  # the evidence is today's
        after = self.validation(at=rfc3339(revoked_at + timedelta(minutes=1)))
        self.assertEqual(after["verdict"], "revoked", after)

    def test_a_time_before_the_certificate_began_is_invalid(self):
        self.use_card("good")
        v = self.validation(at=rfc3339(datetime.now(timezone.utc) - timedelta(days=3)))
        self.assertEqual(v["verdict"], "invalid", v)
        self.assertEqual(v["chain"]["reason"], "notYetValid")

    def test_malformed_at_is_a_bad_request(self):
        for at in ("yesterday", "2026-04-01", "2026-04-01T09:00:00", "2026-02-30T00:00:00Z", "2026-04-01T25:00:00Z",
                   "2026-04-01T09:00:00+0900", ""):
            with self.subTest(at=at):
                r = self.client.get(f"/v1/cards/{self.card_id}/certificates/sign/validation?at={at}")
                problem = self.assertProblem(r, 400, "BAD_REQUEST")
                self.assertIn("RFC 3339", problem["detail"])
        r = self.client.get(f"/v1/cards/{self.card_id}/certificates/sign/validation?at=2026-01-01T00:00:00Z&at=2026-01-02T00:00:00Z")
        self.assertProblem(r, 400, "BAD_REQUEST")

    def test_unknown_issuer_is_invalid(self):
        self.use_card("unknown-issuer", ca="other-ca.pem")
        v = self.validation()
        self.assertEqual(v["verdict"], "invalid", v)
        self.assertEqual(v["chain"]["reason"], "unknownIssuer")

    def test_unknown_critical_extension_is_invalid_while_the_registry_ones_are_handled(self):
        self.use_card("unknown-critical")
        v = self.validation()
        self.assertEqual(v["verdict"], "invalid", v)
        self.assertEqual(v["chain"]["reason"], "unhandledCriticalExtension")
        cert = self.client.get(f"/v1/cards/{self.card_id}/certificates/sign").json()
        unknown = next(e for e in cert["extensions"] if e["oid"] == "1.3.6.1.4.1.32473.1.1")
        self.assertTrue(unknown["critical"])

    def test_issuing_ca_on_the_card_chains_but_has_no_revocation_source(self):
        self.use_card("good")
        v = self.validation("ca")
        self.assertTrue(v["chain"]["valid"], v)
        # No AIA, no CDP: never "valid" without revocation evidence.
        self.assertEqual(v["verdict"], "unknown", v)
        self.assertEqual(v["revocation"]["cause"], "noSource")

    def test_unknown_certificate_and_card_are_not_found(self):
        self.assertProblem(self.client.get(f"/v1/cards/{self.card_id}/certificates/nope/validation"), 404, "NOT_FOUND")
        self.assertProblem(self.client.get("/v1/cards/0000000000000000/certificates/sign/validation"), 404, "CARD_NOT_FOUND")

    def test_certificate_replaced_on_reinsertion_is_shown_and_judged_anew(self):
        self.use_card("good")
        self.assertEqual(self.validation()["verdict"], "valid")  # the good certificate's OCSP answer is cached now
        card_id = self.card_id

        self.use_card("revoked")  # another certificate on a card with the same serial
        self.assertEqual(self.wait_for_card(), card_id)
        cert = self.client.get(f"/v1/cards/{card_id}/certificates/sign").json()
        self.assertEqual(base64.b64decode(cert["der"]), self.pki.leaf_der("revoked"))
        self.assertEqual(cert["serialNumber"], self.pki.serial_of("revoked"))
        v = self.validation()
        self.assertEqual(v["verdict"], "revoked", v)
        self.assertEqual(v["chain"]["certificates"][0]["serialNumber"], self.pki.serial_of("revoked"))


class RevocationSourcesTest(CertificateStackTestCase):
    """When the responder is down, lies or is stale: never "good" without evidence."""

    def fresh(self, crl: bool):
        """A daemon without cached answers, the CRL server up or down."""
        if crl:
            self.pki.start_crl()
        else:
            self.pki.stop_crl()
        self.restart_daemon()

    def test_responder_down_falls_back_to_the_crl(self):
        self.pki.stop_ocsp()
        self.fresh(crl=True)
        v = self.validation()
        self.assertEqual(v["verdict"], "valid", v)
        self.assertEqual(v["revocation"]["source"], "crl")
        self.assertEqual(v["revocation"]["url"], self.pki.crl_url)
        self.assertEqual([(a["method"], a["cause"]) for a in v["revocation"]["attempts"]],
                         [("ocsp", "responderDown"), ("crl", "none")])

    def test_responder_and_crl_down_is_unknown(self):
        self.pki.stop_ocsp()
        self.fresh(crl=False)
        v = self.validation()
        self.assertEqual(v["verdict"], "unknown", v)
        self.assertEqual(v["revocation"]["status"], "unknown")
        self.assertEqual(v["revocation"]["cause"], "responderDown")
        self.assertTrue(v["chain"]["valid"])

    def test_crl_gives_revoked_when_the_responder_is_down(self):
        self.use_card("revoked")
        self.pki.stop_ocsp()
        self.fresh(crl=True)
        v = self.validation()
        self.assertEqual(v["verdict"], "revoked", v)
        self.assertEqual(v["revocation"]["source"], "crl")
        self.assertEqual(v["revocation"]["reason"], "keyCompromise")
        self.use_card("good")

    def test_stale_ocsp_response_is_not_evidence(self):
        self.pki.start_ocsp(days_ago=3)  # its nextUpdate is two days past
        self.fresh(crl=False)
        v = self.validation()
        self.assertEqual(v["verdict"], "unknown", v)
        self.assertEqual(v["revocation"]["cause"], "stale")
        self.assertEqual(v["revocation"]["attempts"][0]["cause"], "stale")

    def test_response_with_another_requests_nonce_is_not_evidence(self):
        self.pki.start_static_ocsp(self.pki.premade_response("good", "foreign-nonce", nonce=True))
        self.fresh(crl=False)
        v = self.validation()
        self.assertEqual(v["verdict"], "unknown", v)
        self.assertEqual(v["revocation"]["cause"], "nonceMismatch")

    def test_response_signed_by_an_unauthorized_key_is_not_evidence(self):
        for signer in ("other-ca", "no-eku"):
            with self.subTest(signer=signer):
                self.pki.start_ocsp(signer=signer)
                self.fresh(crl=False)
                v = self.validation()
                self.assertEqual(v["verdict"], "unknown", v)
                self.assertEqual(v["revocation"]["cause"], "unauthorizedResponder")


class ExpiryWarningAndRevocationOffTest(CertificateStackTestCase):
    """certificateExpiryWarningDays and revocation.enabled from the config file."""

    config_overrides = {"certificateExpiryWarningDays": 400, "revocation": {"enabled": False}}

    def test_certificate_within_the_configured_days_is_expiring_soon(self):
        cards = self.client.get("/v1/cards").json()["cards"]
        sign = next(c for c in cards if c["id"] == self.card_id)["certificates"][0]
        self.assertTrue(sign["expiringSoon"])
        self.assertFalse(sign["expired"])
        reader = next(r for r in self.client.get("/v1/status").json()["readers"] if r.get("cardId") == self.card_id)
        self.assertTrue(reader["certificateExpiry"]["expiringSoon"])

    def test_with_revocation_off_a_valid_chain_is_valid_and_says_so(self):
        v = self.validation()
        self.assertEqual(v["verdict"], "valid", v)
        self.assertFalse(v["revocation"]["checked"])
        self.assertEqual(v["revocation"]["cause"], "disabled")
        self.assertIn("turned off", v["summary"])


class CertificateCliTest(CertificateStackTestCase):
    """`inkan cert show` and `inkan cert verify` on the test PKI."""

    def inkan(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN_DIR / "inkan"), "--state-dir", str(self.daemon.state), "--port", str(self.daemon.port),
                               "--card", self.card_id, *args],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)

    def assertExit(self, result: subprocess.CompletedProcess, code: int):
        self.assertEqual(result.returncode, code, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")

    def test_cert_show_prints_the_company_as_registered(self):
        self.use_card("good")
        result = self.inkan("cert", "show")
        self.assertExit(result, EXIT_OK)
        lines = result.stdout.splitlines()

        def value(label: str) -> str:
            line = next(l for l in lines if l.startswith(label))
            return line[len(label):].strip()
        self.assertEqual(value("商号 (corporate name)"), CORPORATE_NAME)
        self.assertEqual(value("会社法人等番号 (registered number)"), REGISTERED_NUMBER)
        self.assertEqual(value("代表者 (representative)"), REPRESENTATIVE_NAME)
        self.assertEqual(value("資格 (title)"), REPRESENTATIVE_TITLE)
        self.assertEqual(value("本店 (head office)"), HEAD_OFFICE)
        self.assertEqual(value("登記所 (registry office)"), REGISTRY_OFFICE)
        self.assertRegex(value("Valid until"), r"\(36[345] days left\)")
        self.assertEqual(result.stderr, "")

    def test_cert_show_warns_about_an_expired_certificate(self):
        self.use_card("expired")
        result = self.inkan("cert", "show")
        self.assertExit(result, EXIT_OK)
        self.assertIn("has expired", result.stderr)
        self.use_card("good")

    def test_cert_verify_prints_a_valid_verdict_chain_and_revocation(self):
        self.use_card("good")
        result = self.inkan("cert", "verify")
        self.assertExit(result, EXIT_OK)
        first = result.stdout.splitlines()[0]
        self.assertTrue(first.startswith("VALID: certificate sign on card " + self.card_id), first)
        self.assertIn("Chain", result.stdout)
        self.assertRegex(result.stdout, r"Revocation\s+good, per OCSP " + self.pki.ocsp_url)
        self.assertIn("trust anchor", result.stdout)
        self.assertIn(self.pki.serial_of("good"), result.stdout)

    def test_cert_verify_of_a_revoked_certificate_fails_with_exit_6(self):
        self.use_card("revoked")
        result = self.inkan("cert", "verify")
        self.assertExit(result, EXIT_CHECK_FAILED)
        self.assertTrue(result.stdout.startswith("REVOKED:"), result.stdout)
        self.assertIn("keyCompromise", result.stdout)
        self.use_card("good")

    def test_cert_verify_at_a_past_time_and_as_json(self):
        self.use_card("expired")
        self.assertExit(self.inkan("cert", "verify"), EXIT_CHECK_FAILED)
        at = rfc3339(datetime.now(timezone.utc) - timedelta(days=200))
        result = self.inkan("cert", "verify", "--at", at, "--json")
        self.assertExit(result, EXIT_OK)
        answer = json.loads(result.stdout)
        self.assertEqual(answer["verdict"], "valid")
        self.assertEqual(answer["checkedAt"], at)
        self.use_card("good")

    def test_cert_verify_with_a_malformed_time_is_an_api_error(self):
        result = self.inkan("cert", "verify", "--at", "last tuesday")
        self.assertExit(result, EXIT_API)
        self.assertIn("BAD_REQUEST", result.stderr)

    def test_cert_verify_without_revocation_evidence_exits_7(self):
        self.pki.stop_ocsp()
        self.pki.stop_crl()
        self.restart_daemon()
        result = self.inkan("cert", "verify")
        self.assertExit(result, EXIT_CHECK_INCONCLUSIVE)
        self.assertTrue(result.stdout.startswith("UNKNOWN:"), result.stdout)
        self.assertIn("responderDown", result.stdout)
