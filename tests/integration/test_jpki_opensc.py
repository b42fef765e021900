"""The virtual JPKI card (inkan-vcard --profile jpki, docs/jpki.md) proven by
software nobody here wrote: OpenSC's jpki driver (Debian `opensc`,
`opensc-pkcs11`), on the real pcscd + vpcd. No inkand.

What OpenSC does with the card is read back from the card's APDU log and state
directory, so a test passes only when the card really saw it.
"""

from __future__ import annotations

import json
import re
import shutil
import ssl
import subprocess
import unittest
from pathlib import Path

from harness import (ARTIFACTS, JPKI_CARD_ARGS, JPKI_DEMO_AUTH_PIN, JPKI_DEMO_SIGN_PIN, REPO, CardTestCase,
                     verify_signature)
import hashlib

PKCS11_MODULE = Path("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so")
OPENSC_TOOLS = ("opensc-tool", "pkcs15-tool", "pkcs11-tool")
JPKI_ATR = "3BE000FF8131FE4514"
SELECT_AP = "00A4040C0AD392F000260100000001"
SELECT_SIGN_PIN = "00A4020C02001B"
SELECT_SIGN_KEY = "00A4020C02001A"
PIN_STATUS = "00200080"
# pkcs15-jpki.c: certificate and key ids; the signing key and certificate are 02.
SIGN_ID = "02"
AUTH_ID = "01"
# The pkcs11-tool signature's APDU count is written in docs/benchmarks.md ("APDU economy").
BENCHMARKS = REPO / "docs" / "benchmarks.md"


def require_opensc():
    missing = [t for t in OPENSC_TOOLS if shutil.which(t) is None]
    if missing or not PKCS11_MODULE.exists():
        raise unittest.SkipTest(f"OpenSC is not installed ({', '.join(missing) or PKCS11_MODULE}); "
                                "scripts/install-deps.sh installs opensc and opensc-pkcs11")


class JpkiOpenscTest(CardTestCase):
    vcard_args = JPKI_CARD_ARGS

    @classmethod
    def setUpClass(cls):
        require_opensc()
        super().setUpClass()

    def setUp(self):
        # Every test starts from the demo card's full counters (a wrong-PIN test
        # restores them) and a fresh card session: PC/SC keeps the card powered
        # between programs, and with it a PIN verified by the previous test.
        self.assertEqual(self.tries_in_state(), {"auth": 3, "sign": 5})
        events = self.vcard.log.read_text().count(" # ")
        self.opensc("opensc-tool", "--reader", self.reader, "--reset")
        self.assertGreater(self.vcard.log.read_text().count(" # "), events, "the card saw no reset")

    # ---- helpers ------------------------------------------------------------------

    def opensc(self, *args, expect_ok=True) -> subprocess.CompletedProcess:
        """One OpenSC command on this class's reader; what it sent to the card is in
        self.sent (the APDU log lines it added)."""
        before = len(self.vcard.apdu_lines())
        r = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
        self.sent = self.vcard.apdu_lines()[before:]
        if expect_ok:
            self.assertEqual(r.returncode, 0, f"{args}\n{r.stdout}\n{r.stderr}")
        return r

    def pkcs11(self, *args, expect_ok=True) -> subprocess.CompletedProcess:
        return self.opensc("pkcs11-tool", "--module", str(PKCS11_MODULE), *args, expect_ok=expect_ok)

    def pkcs15(self, *args, expect_ok=True) -> subprocess.CompletedProcess:
        return self.opensc("pkcs15-tool", "--reader", self.reader, *args, expect_ok=expect_ok)

    def tries_in_state(self) -> dict[str, int]:
        state = json.loads((self.vcard.state / "jpki-card.json").read_text())
        return {name: pin["triesLeft"] for name, pin in state["pins"].items()}

    def card_certificate(self, name: str) -> bytes:
        pem = (self.vcard.state / f"jpki-{name}-cert.pem").read_text()
        return ssl.PEM_cert_to_DER_cert(pem)

    def tries_by_apdu(self, select_pin: str) -> str:
        """VERIFY without data through opensc-tool's raw APDUs: the status word."""
        r = self.opensc("opensc-tool", "--reader", self.reader, "-s", SELECT_AP, "-s", select_pin, "-s", PIN_STATUS)
        words = re.findall(r"SW1=0x([0-9a-fA-F]{2}), SW2=0x([0-9a-fA-F]{2})", r.stdout)
        self.assertEqual(len(words), 3, r.stdout)
        return "".join(words[-1]).upper()

    def pins_listed(self) -> dict[str, int]:
        """pkcs15-tool --list-pins: tries left by PIN label."""
        out = self.pkcs15("--list-pins").stdout
        found = {}
        for block in out.split("PIN [")[1:]:
            label = block.split("]", 1)[0]
            tries = re.search(r"Tries left\s*:\s*(-?\d+)", block)
            found[label] = int(tries.group(1)) if tries else None
        return found

    # ---- the card as OpenSC sees it ------------------------------------------------------

    def test_pcscd_reads_the_jpki_atr(self):
        self.assertEqual(self.atr.replace(" ", "").upper(), JPKI_ATR)

    def test_opensc_tool_names_it_a_jpki_card(self):
        # --name prints the name OpenSC's driver gives the card: card-jpki.c sets "jpki".
        r = self.opensc("opensc-tool", "--reader", self.reader, "--name")
        self.assertEqual(r.stdout.strip(), "jpki", r.stdout + r.stderr)

    def test_pkcs15_tool_lists_the_four_certificates(self):
        out = self.pkcs15("--list-certificates").stdout
        for label in ("User Authentication Certificate", "Digital Signature Certificate",
                      "User Authentication Certificate CA", "Digital Signature Certificate CA"):
            self.assertIn(f"X.509 Certificate [{label}]", out)
        # Read without a PIN: the authentication certificate and both CAs; the
        # signing certificate's EF answers 6982 until the sign PIN is verified.
        self.assertIn("00A4020C020001 9000", " ".join(self.sent))
        self.assertTrue(any(line.endswith("00B0000004 6982") for line in self.sent), self.sent)
        for fid in ("000A", "000B", "0002"):
            self.assertIn(f"00A4020C02{fid} 9000", " ".join(self.sent))

    def test_pkcs15_tool_lists_both_pins_with_their_tries(self):
        self.assertEqual(self.pins_listed(), {"User Authentication PIN": 3, "Digital Signature PIN": 5})
        self.assertFalse(any("<redacted" in line for line in self.sent), "listing PINs must verify none")

    def test_the_signing_certificate_read_after_the_sign_pin_is_the_cards(self):
        out = self.vcard.state.parent / "sign-cert-read.der"
        self.pkcs11("--token-label", "JPKI (Digital Signature PIN)", "--login", "--pin", JPKI_DEMO_SIGN_PIN,
                    "--read-object", "--type", "cert", "--id", SIGN_ID, "--output-file", str(out))
        self.assertEqual(out.read_bytes(), self.card_certificate("sign"))
        self.assertTrue(any(line.startswith(tuple("0123456789")) and "0020008006<redacted:6> 9000" in line
                            for line in self.sent), self.sent)

    # ---- signing ------------------------------------------------------------------

    def sign_with_pkcs11(self, token: str, pin: str, key_id: str, data: bytes) -> bytes:
        work = self.vcard.state.parent
        (work / "to-sign.bin").write_bytes(data)
        (work / "signature.bin").unlink(missing_ok=True)
        self.pkcs11("--token-label", token, "--login", "--pin", pin, "--sign", "--mechanism", "SHA256-RSA-PKCS",
                    "--id", key_id, "--input-file", str(work / "to-sign.bin"), "--output-file", str(work / "signature.bin"))
        return (work / "signature.bin").read_bytes()

    def test_pkcs11_tool_signs_with_the_sign_key_and_openssl_verifies(self):
        data = b"inkan: a document signed through OpenSC with the virtual JPKI card\n"
        signature = self.sign_with_pkcs11("JPKI (Digital Signature PIN)", JPKI_DEMO_SIGN_PIN, SIGN_ID, data)
        self.assertEqual(len(signature), 256)
        digest = hashlib.sha256(data).digest()
        v = verify_signature(self.card_certificate("sign"), digest, signature, "SHA-256", self.vcard.state.parent)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        # Not the other key's: the authentication certificate does not verify it.
        v = verify_signature(self.card_certificate("auth"), digest, signature, "SHA-256", self.vcard.state.parent)
        self.assertNotEqual(v.returncode, 0)

        # The card saw: the sign key EF selected, then 80 2A 00 80 with the SHA-256 DigestInfo, Le 00.
        digest_info = "3031300D060960864801650304020105000420" + digest.hex().upper()
        signing = [i for i, line in enumerate(self.sent) if " 802A0080" in line]
        self.assertEqual(len(signing), 1, self.sent)
        self.assertTrue(self.sent[signing[0]].endswith(f"802A008033{digest_info}00 9000"), self.sent[signing[0]])
        self.assertTrue(self.sent[signing[0] - 1].endswith(f"{SELECT_SIGN_KEY} 9000"), self.sent)
        self.record_apdu_economy(self.sent)

    def test_pkcs11_tool_signs_with_the_auth_key_under_the_auth_pin(self):
        data = b"inkan: client authentication through OpenSC\n"
        signature = self.sign_with_pkcs11("JPKI (User Authentication PIN)", JPKI_DEMO_AUTH_PIN, AUTH_ID, data)
        v = verify_signature(self.card_certificate("auth"), hashlib.sha256(data).digest(), signature, "SHA-256",
                             self.vcard.state.parent)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertTrue(any(line.endswith("00A4020C020017 9000") for line in self.sent), self.sent)

    def record_apdu_economy(self, sent: list[str]):
        """The pkcs11-tool signature's APDUs, by phase, as docs/benchmarks.md reports them."""
        commands = [line.split()[1] for line in sent]
        phases = {
            "total": len(commands),
            "other drivers' probes (before SELECT of the JPKI AP)": commands.index(SELECT_AP),
            "SELECT AP": sum(c == SELECT_AP for c in commands),
            "SELECT EF": sum(c.startswith("00A4020C02") for c in commands),
            "READ BINARY": sum(c.startswith("00B0") for c in commands),
            "VERIFY without data (tries left)": sum(c == PIN_STATUS for c in commands),
            "VERIFY with the PIN": sum(c.startswith("0020008006") for c in commands),
            "COMPUTE DIGITAL SIGNATURE": sum(c.startswith("802A0080") for c in commands),
        }
        self.assertEqual(sum(phases.values()) - phases["total"], phases["total"], commands)
        (ARTIFACTS / "jpki-opensc-apdu-economy.json").write_text(json.dumps({"phases": phases, "apdus": sent}, indent=2))
        documented = re.search(r"pkcs11-tool[^\n|]*\|\s*(\d+)\s*APDUs", BENCHMARKS.read_text())
        self.assertIsNotNone(documented, "docs/benchmarks.md names no pkcs11-tool APDU count")
        self.assertEqual(int(documented.group(1)), phases["total"],
                         f"docs/benchmarks.md's pkcs11-tool count is stale; measured {phases}")

    # ---- a wrong PIN ------------------------------------------------------------------

    def test_a_wrong_sign_pin_spends_exactly_one_try(self):
        self.assertEqual(self.tries_by_apdu(SELECT_SIGN_PIN), "63C5")
        r = self.pkcs11("--token-label", "JPKI (Digital Signature PIN)", "--login", "--pin", "WRONG1",
                        "--read-object", "--type", "cert", "--id", SIGN_ID, expect_ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("CKR_PIN_INCORRECT", r.stdout + r.stderr)
        presented = [line for line in self.sent if "<redacted:" in line]
        self.assertEqual(len(presented), 1, self.sent)
        self.assertTrue(presented[0].endswith("0020008006<redacted:6> 63C4"), presented)
        self.assertNotIn("WRONG1", self.vcard.log.read_text())
        # Read back three ways: the card's counter, VERIFY without data, pkcs15-tool.
        self.assertEqual(self.tries_in_state(), {"auth": 3, "sign": 4})
        self.assertEqual(self.tries_by_apdu(SELECT_SIGN_PIN), "63C4")
        self.assertEqual(self.pins_listed()["Digital Signature PIN"], 4)
        self.assertEqual(self.tries_in_state(), {"auth": 3, "sign": 4}, "reading the counter spent a try")

        # The right PIN restores the counter.
        self.pkcs11("--token-label", "JPKI (Digital Signature PIN)", "--login", "--pin", JPKI_DEMO_SIGN_PIN,
                    "--read-object", "--type", "cert", "--id", SIGN_ID, "--output-file",
                    str(self.vcard.state.parent / "sign-cert-after.der"))
        self.assertEqual(self.tries_in_state(), {"auth": 3, "sign": 5})

    def test_a_wrong_auth_pin_spends_exactly_one_try(self):
        r = self.pkcs11("--token-label", "JPKI (User Authentication PIN)", "--login", "--pin", "9999",
                        "--list-objects", expect_ok=False)
        self.assertNotEqual(r.returncode, 0)
        presented = [line for line in self.sent if "<redacted:" in line]
        self.assertEqual(len(presented), 1, self.sent)
        self.assertTrue(presented[0].endswith("0020008004<redacted:4> 63C2"), presented)
        self.assertEqual(self.tries_in_state(), {"auth": 2, "sign": 5})
        self.assertEqual(self.pins_listed()["User Authentication PIN"], 2)
        self.pkcs11("--token-label", "JPKI (User Authentication PIN)", "--login", "--pin", JPKI_DEMO_AUTH_PIN,
                    "--list-objects")
        self.assertEqual(self.tries_in_state(), {"auth": 3, "sign": 5})


if __name__ == "__main__":
    unittest.main()
