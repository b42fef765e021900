"""Document signatures (docs/formats.md) on the real stack, each checked by a
tool nobody here wrote: `cms` by `openssl cms -verify` with the content and
the card's CA, its signed attributes read back with `openssl cms -cmsout -print`;
`egov` by lxml's C14N and openssl (both references and the signature value),
the 構成情報 digest once more by xmllint's canonicalizer.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import unittest
from pathlib import Path

from harness import DEMO_PIN, StackTestCase, b64, run_inkan, unb64

# A document as a portal would send it: Japanese text, a form feed, bytes that
# are not UTF-8 and a CR LF, so a verifier that alters line ends would fail.
DOCUMENT = "登記申請書\r\n商号 株式会社いんかん商事\n".encode() + bytes(range(256)) + b"\x0c\r\n"
MAX_DOCUMENT = 32 * 1024 * 1024


class CmsFormatTest(StackTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = cls.client.get(f"/v1/cards/{cls.card_id}/certificates/ca")
        assert r.status == 200, r
        cls.ca_pem = cls.work / "card-ca.pem"
        cls.ca_pem.write_text(ssl.DER_cert_to_PEM_cert(unb64(r.json()["der"])))

    def sign_document(self, content: bytes, pin=DEMO_PIN, **extra) -> http.client.HTTPResponse:
        body = {"format": "cms", "content": b64(content), **extra}
        if pin is not None:
            body["pin"] = pin
        return self.client.post(f"/v1/cards/{self.card_id}/signatures", body)

    def openssl_verify(self, signature: bytes, content: bytes, name="doc") -> subprocess.CompletedProcess:
        p7s = self.work / f"{name}.p7s"
        data = self.work / f"{name}.bin"
        p7s.write_bytes(signature)
        data.write_bytes(content)
        # -purpose any: the card's certificate is for signing documents, not S/MIME mail;
        # -ignore_critical: its commercial-registry extensions are critical and unknown to OpenSSL.
        return subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(p7s), "-content", str(data),
                               "-CAfile", str(self.ca_pem), "-purpose", "any", "-ignore_critical", "-out", os.devnull],
                              capture_output=True, text=True)

    def printed(self, signature: bytes) -> str:
        p7s = self.work / "print.p7s"
        p7s.write_bytes(signature)
        result = subprocess.run(["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(p7s)],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def message_digest(self, printed: str) -> str:
        """The messageDigest attribute's value, hex, from `openssl cms -cmsout -print`'s dump
        lines ("      0000 - dc 98 79 ...-ce 40 ...   ..y.N")."""
        section = printed.split("object: messageDigest", 1)[1].split("object:", 1)[0]
        hex_digits = ""
        for line in section.splitlines():
            match = re.match(r"\s*[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){0,15}[0-9a-f]{2})", line)
            if match:
                hex_digits += match.group(1).replace("-", "").replace(" ", "")
        return hex_digits

    def test_every_digest_algorithm_verifies_with_openssl_and_carries_the_cades_attributes(self):
        for algorithm, md in (("SHA-256", "sha256"), ("SHA-384", "sha384"), ("SHA-512", "sha512")):
            with self.subTest(algorithm=algorithm):
                r = self.sign_document(DOCUMENT, digestAlgorithm=algorithm, name="申請書.txt")
                self.assertEqual(r.status, 200, r)
                body = r.json()
                self.assertEqual(body["format"], "cms")
                self.assertEqual(body["signatureAlgorithm"], f"RSASSA-PKCS1-v1_5-{algorithm}")
                self.assertEqual(body["certificateId"], "sign")
                self.assertEqual(body["document"]["size"], len(DOCUMENT))
                self.assertEqual(body["document"]["name"], "申請書.txt")
                signature = unb64(body["signature"])

                verified = self.openssl_verify(signature, DOCUMENT)
                self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)
                self.assertIn("Verification successful", verified.stderr)
                # The check can fail: one byte more in the content does not verify.
                self.assertNotEqual(self.openssl_verify(signature, DOCUMENT + b"x").returncode, 0)

                text = self.printed(signature)
                self.assertIn("eContentType: pkcs7-data", text)
                self.assertRegex(text, r"eContent: <ABSENT>")  # detached
                self.assertEqual(text.count("d.certificate:"), 1, "the signer's certificate, no chain by default")
                self.assertRegex(text, rf"digestAlgorithm:\s+algorithm: {md}")
                self.assertIn("algorithm: rsaEncryption", text)
                for attribute in ("contentType", "signingTime", "messageDigest", "id-smime-aa-signingCertificateV2"):
                    self.assertRegex(text, rf"object: {attribute} \(", attribute)
                self.assertNotIn("SMIMECapabilities", text)
                # messageDigest is the content's digest.
                digest = hashlib.new(md, DOCUMENT).hexdigest()
                self.assertEqual(self.message_digest(text), digest)

    def test_the_chain_is_included_on_request(self):
        r = self.sign_document(DOCUMENT, includeChain=True)
        self.assertEqual(r.status, 200, r)
        signature = unb64(r.json()["signature"])
        self.assertEqual(self.printed(signature).count("d.certificate:"), 2)
        p7s = self.work / "chain.p7s"
        p7s.write_bytes(signature)
        certs = subprocess.run(["openssl", "pkcs7", "-inform", "DER", "-in", str(p7s), "-print_certs", "-noout"],
                               capture_output=True, text=True)
        self.assertEqual(certs.returncode, 0, certs.stderr)
        self.assertEqual(certs.stdout.count("subject="), 2, certs.stdout)

    def test_bad_requests_are_refused_before_the_card(self):
        before = self.vcard.apdu_count()
        path = f"/v1/cards/{self.card_id}/signatures"
        cases = [
            ({"format": "docx", "content": b64(DOCUMENT), "pin": DEMO_PIN}, 400, "UNSUPPORTED_FORMAT"),
            ({"content": b64(DOCUMENT), "pin": DEMO_PIN}, 400, "BAD_REQUEST"),
            ({"format": "cms", "content": "not base64!", "pin": DEMO_PIN}, 400, "BAD_REQUEST"),
            ({"format": "cms", "content": "", "pin": DEMO_PIN}, 400, "BAD_REQUEST"),
            ({"format": "cms", "content": b64(DOCUMENT), "digestAlgorithm": "MD5", "pin": DEMO_PIN}, 400, "UNSUPPORTED_ALGORITHM"),
            ({"format": "cms", "content": b64(DOCUMENT), "pin": "12"}, 400, "PIN_FORMAT"),
            ({"format": "cms", "content": b64(DOCUMENT), "certificate": "nope", "pin": DEMO_PIN}, 404, "NOT_FOUND"),
        ]
        for body, status, code in cases:
            with self.subTest(body={k: v[:20] if isinstance(v, str) else v for k, v in body.items()}):
                self.assertProblem(self.client.post(path, body), status, code)
        self.assertEqual(self.vcard.apdu_count(), before, "nothing may reach the card")
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_a_wrong_pin_is_the_card_answer_and_costs_one_try(self):
        problem = self.assertProblem(self.sign_document(DOCUMENT, pin="9999"), 403, "PIN_INCORRECT")
        self.assertEqual(problem["triesLeft"], 9)
        self.assertEqual(self.sign_document(DOCUMENT).status, 200)  # a good PIN resets the counter
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_a_20_mib_document_signs_and_the_route_limit_is_its_own(self):
        big = os.urandom(20 * 1024 * 1024)
        r = self.client.request("POST", f"/v1/cards/{self.card_id}/signatures",
                                body={"format": "cms", "content": b64(big), "pin": DEMO_PIN}, timeout=120)
        self.assertEqual(r.status, 200, r)
        verified = self.openssl_verify(unb64(r.json()["signature"]), big, name="big")
        self.assertEqual(verified.returncode, 0, verified.stderr)

        # Over 32 MiB decoded: refused, the card not asked.
        before = self.vcard.apdu_count()
        too_big = b"\0" * (MAX_DOCUMENT + 3)
        r = self.client.request("POST", f"/v1/cards/{self.card_id}/signatures",
                                body={"format": "cms", "content": b64(too_big), "pin": DEMO_PIN}, timeout=120)
        self.assertProblem(r, 413, "PAYLOAD_TOO_LARGE")
        # Every other route keeps its small limit.
        self.assertProblem(self.client.post(f"/v1/cards/{self.card_id}/sign", {"digest": "A" * 70_000}), 413, "PAYLOAD_TOO_LARGE")
        self.assertEqual(self.vcard.apdu_count(), before)

    def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.daemon.port, context=self.daemon.ssl_context(), timeout=10)
        try:
            conn.putrequest("POST", f"/v1/cards/{self.card_id}/signatures", skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", f"127.0.0.1:{self.daemon.port}")
            conn.putheader("Authorization", f"Bearer {self.daemon.token}")
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(200 * 1024 * 1024))
            conn.endheaders()  # no body at all: the answer must not wait for it
            r = conn.getresponse()
            self.assertEqual(r.status, 413)
            self.assertEqual(json.loads(r.read())["code"], "PAYLOAD_TOO_LARGE")
        finally:
            conn.close()

    def test_the_cli_writes_file_p7s_that_openssl_verifies(self):
        document = self.work / "定款.txt"
        document.write_bytes(DOCUMENT)
        result = run_inkan("--state-dir", self.daemon.state, "--port", self.daemon.port, "--card", self.card_id,
                           "sign", "--format", "cms", "--digest-algorithm", "SHA-384", document, stdin=DEMO_PIN + "\n")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        p7s = Path(str(document) + ".p7s")
        self.assertIn(str(p7s), result.stdout)
        verified = self.openssl_verify(p7s.read_bytes(), DOCUMENT, name="cli")
        self.assertEqual(verified.returncode, 0, verified.stderr)
        self.assertIn("algorithm: sha384", self.printed(p7s.read_bytes()))

        out = self.work / "other.p7s"
        result = run_inkan("--state-dir", self.daemon.state, "--port", self.daemon.port, "--card", self.card_id,
                           "sign", "--format", "cms", document, "-o", out, stdin=DEMO_PIN + "\n")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(self.openssl_verify(out.read_bytes(), DOCUMENT, name="cli2").returncode, 0)


if __name__ == "__main__":
    unittest.main()


# ---- egov: kousei.xml ---------------------------------------------------------

KOUSEI_ID_URI = "#%E6%A7%8B%E6%88%90%E6%83%85%E5%A0%B1"  # "#構成情報", UTF-8 percent-encoded
DSIG = "http://www.w3.org/2000/09/xmldsig#"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"

APPLICATION_NAME = "900B01020000200001_01.xml"
ATTACHMENT_NAME = "添付資料.txt"
APPLICATION = ('<?xml version="1.0" encoding="UTF-8"?>\n<申請書><商号>株式会社いんかん商事</商号>'
               '<代表者>印鑑 太郎</代表者></申請書>\n').encode()
ATTACHMENT = "添付書類の本文\r\n".encode()
# Written for these tests in the shape of an e-Gov 構成管理XML: tabs, a
# stylesheet PI, attributes in single quotes, an empty element, a comment and
# a character reference, which a re-serializer would change.
KOUSEI = f"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet href="900000000000000001.xsl" type="text/xsl"?>
<DataRoot>
\t<様式ID>900000000000000001</様式ID>
\t<構成情報 ID='構成情報'>
\t\t<!-- 申請者が記入 -->
\t\t<管理情報>
\t\t\t<手続番号><手続ID>900B010200002000</手続ID></手続番号>
\t\t\t<手続名称>テスト用手続（登記事項の届出）</手続名称>
\t\t\t<申請者連絡先情報>
\t\t\t\t<申請者情報>
\t\t\t\t\t<氏名>印鑑　太郎</氏名>
\t\t\t\t\t<役職/>
\t\t\t\t\t<法人団体名>株式会社いんかん商事</法人団体名>
\t\t\t\t\t<住所>東京都千代田区&#x4E38;の内</住所>
\t\t\t\t</申請者情報>
\t\t\t</申請者連絡先情報>
\t\t</管理情報>
\t\t<添付書類属性情報><添付書類ファイル名称>{ATTACHMENT_NAME}</添付書類ファイル名称></添付書類属性情報>
\t\t<申請書属性情報><申請書ファイル名称>{APPLICATION_NAME}</申請書ファイル名称></申請書属性情報>
\t</構成情報>
\t<その他>after</その他>
</DataRoot>
""".encode()


class EgovFormatTest(StackTestCase):
    @classmethod
    def setUpClass(cls):
        try:
            from lxml import etree  # noqa: F401  (python3-lxml: the independent canonicalizer)
        except ImportError as e:
            raise unittest.SkipTest("python3-lxml is not installed (scripts/install-deps.sh)") from e
        if shutil.which("xmllint") is None:
            raise unittest.SkipTest("xmllint is not installed (libxml2-utils, scripts/install-deps.sh)")
        super().setUpClass()

    def sign_kousei(self, kousei=KOUSEI, files=None, pin=DEMO_PIN):
        if files is None:
            files = [(APPLICATION_NAME, APPLICATION), (ATTACHMENT_NAME, ATTACHMENT)]
        body = {"format": "egov", "kousei": b64(kousei), "files": [{"name": n, "content": b64(c)} for n, c in files]}
        if pin is not None:
            body["pin"] = pin
        return self.client.post(f"/v1/cards/{self.card_id}/signatures", body)

    def test_the_signature_verifies_independently_and_the_rest_is_unchanged(self):
        from lxml import etree
        r = self.sign_kousei()
        self.assertEqual(r.status, 200, r)
        answer = r.json()
        self.assertEqual(answer["format"], "egov")
        self.assertEqual(answer["document"]["procedure"], "テスト用手続（登記事項の届出）")
        self.assertEqual(answer["document"]["applicant"], "株式会社いんかん商事 印鑑　太郎")
        signed = unb64(answer["kousei"])
        certificate = unb64(answer["certificate"])

        # Byte for byte: the original with one insertion right after </構成情報>.
        end = KOUSEI.index("</構成情報>".encode()) + len("</構成情報>".encode())
        inserted = len(signed) - len(KOUSEI)
        self.assertGreater(inserted, 0)
        self.assertEqual(signed[:end], KOUSEI[:end])
        self.assertEqual(signed[end + inserted:], KOUSEI[end:])
        self.assertTrue(signed[end:end + inserted].startswith("<署名情報>".encode()), signed[end:end + 40])

        parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
        root = etree.fromstring(signed, parser)
        children = [c for c in root if isinstance(c.tag, str)]
        names = [c.tag for c in children]
        self.assertEqual(names, ["様式ID", "構成情報", "署名情報", "その他"])
        holder = children[2]
        ns = {"ds": DSIG}
        signature = holder.find("ds:Signature", ns)
        self.assertIsNotNone(signature)
        signed_info = signature.find("ds:SignedInfo", ns)
        self.assertEqual(signed_info.find("ds:CanonicalizationMethod", ns).get("Algorithm"), C14N_10)
        self.assertEqual(signed_info.find("ds:SignatureMethod", ns).get("Algorithm"), RSA_SHA256)
        references = signed_info.findall("ds:Reference", ns)
        self.assertEqual([ref.get("URI") for ref in references],
                         [KOUSEI_ID_URI, APPLICATION_NAME, "%E6%B7%BB%E4%BB%98%E8%B3%87%E6%96%99.txt"])

        # Reference 1: 構成情報, inclusive C14N 1.0 by lxml ...
        kousei_ref = references[0]
        transforms = kousei_ref.findall("ds:Transforms/ds:Transform", ns)
        self.assertEqual([t.get("Algorithm") for t in transforms], [C14N_10])
        self.assertEqual(kousei_ref.find("ds:DigestMethod", ns).get("Algorithm"), SHA256)
        kousei_element = children[1]
        by_lxml = etree.tostring(kousei_element, method="c14n", exclusive=False, with_comments=False)
        self.assertNotIn(b"<!--", by_lxml)
        self.assertIn("丸の内".encode(), by_lxml)  # the character reference, resolved
        digest = unb64(kousei_ref.find("ds:DigestValue", ns).text)
        self.assertEqual(digest, hashlib.sha256(by_lxml).digest())
        # ... and by xmllint, a second canonicalizer, over the original document.
        original = self.work / "kousei-original.xml"
        original.write_bytes(KOUSEI)
        c14n = subprocess.run(["xmllint", "--c14n", str(original)], capture_output=True, check=True).stdout
        start = c14n.index('<構成情報 ID="構成情報">'.encode())
        stop = c14n.index("</構成情報>".encode()) + len("</構成情報>".encode())
        without_comments = re.sub(rb"<!--.*?-->", b"", c14n[start:stop], flags=re.S)
        self.assertEqual(hashlib.sha256(without_comments).digest(), digest)

        # The files' references: no transforms, SHA-256 of the bytes.
        for ref, content in zip(references[1:], (APPLICATION, ATTACHMENT)):
            self.assertIsNone(ref.find("ds:Transforms", ns))
            self.assertEqual(ref.find("ds:DigestMethod", ns).get("Algorithm"), SHA256)
            self.assertEqual(unb64(ref.find("ds:DigestValue", ns).text), hashlib.sha256(content).digest())

        # The certificate is the card's, and the signature verifies over lxml's SignedInfo.
        self.assertEqual(unb64(signature.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", ns).text), certificate)
        # SignedInfo's canonical form, taken out of the document first: lxml 4.9 canonicalizes an
        # inner element with a stray xmlns="" on grandchildren whose namespace is declared above
        # it. Out of the document SignedInfo loses nothing here (no xml:* attributes around it,
        # its one namespace travels with it), and xmllint must agree.
        standalone = etree.tostring(signed_info)
        signed_info_c14n = etree.tostring(etree.ElementTree(etree.fromstring(standalone, parser)), method="c14n",
                                          exclusive=False, with_comments=False)
        self.assertTrue(signed_info_c14n.startswith(f'<SignedInfo xmlns="{DSIG}">'.encode()), signed_info_c14n[:80])
        (self.work / "signed-info.xml").write_bytes(standalone)
        by_xmllint = subprocess.run(["xmllint", "--c14n", str(self.work / "signed-info.xml")], capture_output=True, check=True).stdout
        self.assertEqual(by_xmllint, signed_info_c14n)
        value = unb64(signature.find("ds:SignatureValue", ns).text)
        self.assertEqual(self.rsa_sha256_verify(certificate, signed_info_c14n, value).returncode, 0)
        self.assertNotEqual(self.rsa_sha256_verify(certificate, signed_info_c14n + b" ", value).returncode, 0)

    def rsa_sha256_verify(self, certificate: bytes, data: bytes, signature: bytes) -> subprocess.CompletedProcess:
        cert = self.work / "egov-cert.pem"
        cert.write_text(ssl.DER_cert_to_PEM_cert(certificate))
        key = self.work / "egov-key.pem"
        subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey", "-noout", "-out", str(key)], check=True)
        (self.work / "egov-data.bin").write_bytes(data)
        (self.work / "egov-sig.bin").write_bytes(signature)
        return subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(key), "-signature", str(self.work / "egov-sig.bin"),
                               str(self.work / "egov-data.bin")], capture_output=True, text=True)

    def test_doctype_entities_and_bad_packages_are_refused_before_the_card(self):
        before = self.vcard.apdu_count()
        with_entity = KOUSEI.replace(b"<DataRoot>", b'<!DOCTYPE DataRoot [<!ENTITY x "y">]>\n<DataRoot>', 1) \
                            .replace("<様式ID>".encode(), "<様式ID>&x;".encode(), 1)
        external = KOUSEI.replace(b"<DataRoot>", b'<!DOCTYPE DataRoot SYSTEM "http://127.0.0.1:9/evil.dtd">\n<DataRoot>', 1)
        laughs = KOUSEI.replace(b"<DataRoot>", b'<!DOCTYPE DataRoot [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n'
                                b"<DataRoot>", 1)
        cases = [
            (with_entity, None, "DOCTYPE"),
            (external, None, "DOCTYPE"),
            (laughs, None, "DOCTYPE"),
            (KOUSEI[:-20], None, "well-formed"),
            (KOUSEI.replace("構成情報 ID='構成情報'".encode(), "構成情報 ID='x'".encode()), None, "構成情報"),
            (KOUSEI, [(ATTACHMENT_NAME, ATTACHMENT)], APPLICATION_NAME),
            (KOUSEI, [(APPLICATION_NAME, APPLICATION), ("other.txt", b"x")], "other.txt"),
            (KOUSEI, [(APPLICATION_NAME, APPLICATION), ("../" + ATTACHMENT_NAME, ATTACHMENT)], "bare file name"),
        ]
        for kousei, files, detail in cases:
            with self.subTest(detail=detail):
                problem = self.assertProblem(self.sign_kousei(kousei, files), 422, "DOCUMENT_INVALID")
                self.assertIn(detail, problem["detail"])
        self.assertEqual(self.vcard.apdu_count(), before, "nothing may reach the card")

    def test_an_already_signed_package_is_refused(self):
        r = self.sign_kousei()
        self.assertEqual(r.status, 200, r)
        before = self.vcard.apdu_count()
        self.assertProblem(self.sign_kousei(unb64(r.json()["kousei"])), 422, "DOCUMENT_INVALID")
        self.assertEqual(self.vcard.apdu_count(), before)

    def test_the_cli_signs_the_package_in_place(self):
        package = self.work / "package"
        package.mkdir(exist_ok=True)
        (package / "kousei.xml").write_bytes(KOUSEI)
        (package / APPLICATION_NAME).write_bytes(APPLICATION)
        (package / ATTACHMENT_NAME).write_bytes(ATTACHMENT)
        result = run_inkan("--state-dir", self.daemon.state, "--port", self.daemon.port, "--card", self.card_id,
                           "sign", "--format", "egov", package / "kousei.xml", package / APPLICATION_NAME,
                           package / ATTACHMENT_NAME, stdin=DEMO_PIN + "\n")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        signed = (package / "kousei.xml").read_bytes()
        end = KOUSEI.index("</構成情報>".encode()) + len("</構成情報>".encode())
        self.assertEqual(signed[:end], KOUSEI[:end])
        self.assertTrue(signed[end:].startswith("<署名情報><Signature".encode()))
        self.assertTrue(signed.endswith(KOUSEI[end:]))
        # Signing it again is refused (DOCUMENT_INVALID), and the file stays as it is.
        result = run_inkan("--state-dir", self.daemon.state, "--port", self.daemon.port, "--card", self.card_id,
                           "sign", "--format", "egov", package / "kousei.xml", package / APPLICATION_NAME,
                           package / ATTACHMENT_NAME, stdin=DEMO_PIN + "\n")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("DOCUMENT_INVALID", result.stderr + result.stdout)
        self.assertEqual((package / "kousei.xml").read_bytes(), signed)
