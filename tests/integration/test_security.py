"""inkand as a hostile web page and a hostile local process would try it (docs/security.md).

Every refusal is checked twice: the documented problem code, and the virtual
card's APDU log, which must show that nothing of the refused request reached
the card (or, where the PIN guard reads the try counter first, that no PIN did).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import stat
import subprocess
import unittest
import urllib.parse

from harness import (BIN_DIR, DEMO_PIN, Client, Response, StackTestCase, b64, run_inkan, run_on_terminal, unb64,
                     verify_signature, wait_for)

PORTAL = "https://portal.example.jp"          # allowlisted: read and sign (the default)
PORTAL_B = "https://bidding.example.jp"       # allowlisted: used for the wrong-PIN rate limit
PORTAL_C = "https://egov.example.jp"          # allowlisted: used for the PIN guard
PORTAL_ACK = "https://tax.example.jp"         # allowlisted with "acknowledgeLowTries" and every operation
STRANGER = "https://stranger.example"         # never allowed; may ask for pairing

# The PIN-carrying VERIFY (reference-card.md "PINs"): CLA INS P1 P2 Lc of a VERIFY with a 16-byte block.
VERIFY_WITH_PIN = " 0020008110"


class Page:
    """Requests as a page of `origin` sends them: Origin, no token, Inkan-Client on non-GET."""

    def __init__(self, daemon, origin: str):
        self.origin = origin
        self.client = Client(daemon, token=None, inkan_client="@inkan/client test")

    def request(self, method, path, body=None, headers=None, **kw):
        return self.client.request(method, path, body=body, headers={"Origin": self.origin, **(headers or {})}, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body if body is not None else {}, **kw)

    def preflight(self, path, method="POST"):
        return self.request("OPTIONS", path, headers={"Access-Control-Request-Method": method,
                                                      "Access-Control-Request-Headers": "content-type, inkan-client"})


class ConsolePage(Page):
    """Requests as inkand's own console page sends them once logged in: its session cookie on
    every request, its own Origin on everything but GET (browsers send none with same-origin GETs)."""

    def __init__(self, daemon, cookie: str | None):
        super().__init__(daemon, f"https://127.0.0.1:{daemon.port}")
        self.client.inkan_client = "inkan-console"
        self.cookie = cookie

    def request(self, method, path, body=None, headers=None, **kw):
        sent = dict(headers or {})
        if self.cookie is not None:
            sent.setdefault("Cookie", self.cookie)
        if method != "GET":
            sent.setdefault("Origin", self.origin)
        return self.client.request(method, path, body=body, headers=sent, **kw)


LOGIN_URL = re.compile(r"^https://127\.0\.0\.1:(\d+)/#login=([0-9a-f]{32})$")


class SecurityStackTestCase(StackTestCase):
    def page(self, origin: str) -> Page:
        return Page(self.daemon, origin)

    def inkan_console(self, *args, env_extra=None):
        """`inkan console ARGS` against this class's inkand, without a display unless env_extra gives one."""
        env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", **(env_extra or {})}
        return run_inkan("--state-dir", self.daemon.state, "--port", self.daemon.port, "console", *args, env_extra=env)

    def login_code(self) -> str:
        """The code of the address `inkan console --print` prints."""
        result = self.inkan_console("--print")
        self.assertEqual(result.returncode, 0, result.stderr)
        match = LOGIN_URL.match(result.stdout.strip())
        self.assertIsNotNone(match, result.stdout)
        self.assertEqual(int(match.group(1)), self.daemon.port)
        return match.group(2)

    def trade(self, code: str, cookie: str | None = None) -> Response:
        """The console page's POST /v1/console/session with `code`."""
        return ConsolePage(self.daemon, cookie).post("/v1/console/session", {"code": code})

    def console(self) -> ConsolePage:
        """inkand's own page, logged in as `inkan console` does it."""
        r = self.trade(self.login_code())
        self.assertEqual(r.status, 204, r)
        return ConsolePage(self.daemon, r.headers["Set-Cookie"].split(";", 1)[0])

    def sign_body(self, pin=DEMO_PIN, **extra):
        body = {"digest": b64(hashlib.sha256(b"an e-application form").digest()), "digestAlgorithm": "SHA-256", **extra}
        if pin is not None:
            body["pin"] = pin
        return body

    def new_apdus(self, before: int) -> list[str]:
        return self.vcard.apdu_lines()[before:]

    def assertNothingReachedTheCard(self, before: int):
        self.assertEqual(self.new_apdus(before), [], "a refused request must not reach the card")

    def assertNoPinReachedTheCard(self, before: int):
        self.assertNotIn(VERIFY_WITH_PIN, "\n".join(self.new_apdus(before)), "no PIN may reach the card")

    def restore_pin(self):
        r = self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN, "acknowledgeLowTries": True})
        self.assertEqual(r.status, 200, r)


class HostileRequestTest(SecurityStackTestCase):
    """The gate and the PIN protections, against an allowlist of four portals."""

    inkand_config = {
        "allowedOrigins": [PORTAL, PORTAL_B, PORTAL_C,
                           {"origin": PORTAL_ACK, "operations": ["read", "sign", "pin"], "acknowledgeLowTries": True}],
        "pinentryProgram": None,
    }

    def tearDown(self):
        self.restore_pin()

    def card_events_since(self, line_count: int) -> list[str]:
        """The virtual card's control events ('# reset', ...) after the first `line_count` log lines."""
        return [line for line in self.vcard.log.read_text().splitlines()[line_count:] if " # " in line]

    def assertSignedAndVerifies(self, r, digest: bytes):
        self.assertEqual(r.status, 200, r)
        body = r.json()
        result = verify_signature(unb64(body["certificate"]), digest, unb64(body["signature"]), "SHA-256", self.work)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def assertNoSignatureReachedTheCard(self, before: int):
        self.assertEqual([line for line in self.new_apdus(before) if " 002A" in line], [],
                         "no PSO COMPUTE DIGITAL SIGNATURE may reach the card")

    def test_a_verified_pin_belongs_to_whoever_verified_it(self):
        digest = hashlib.sha256(b"an e-application form").digest()
        sign_path = f"/v1/cards/{self.card_id}/sign"
        # The local client (the CLI's token) verifies the PIN ...
        self.assertEqual(self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN}).status, 200)
        log_lines = len(self.vcard.log.read_text().splitlines())
        before = self.vcard.apdu_count()
        # ... and an allowlisted page's signature without a PIN does not get to use it.
        self.assertProblem(self.page(PORTAL).post(sign_path, self.sign_body(pin=None)), 403, "PIN_REQUIRED")
        self.assertNoSignatureReachedTheCard(before)
        # The card's verification was ended (reset) before anything of the page's ran.
        self.assertTrue([e for e in self.card_events_since(log_lines) if e.endswith("# reset")], self.card_events_since(log_lines))
        # Another principal came in between: the local client's verification is gone for it too.
        self.assertProblem(self.sign(digest, pin=None), 403, "PIN_REQUIRED")
        self.assertNoSignatureReachedTheCard(before)
        # Verifying right before its own signature, the local client signs without sending the PIN again.
        self.assertEqual(self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN}).status, 200)
        self.assertSignedAndVerifies(self.sign(digest, pin=None), digest)
        # Used up: the next one needs a PIN again.
        self.assertProblem(self.sign(digest, pin=None), 403, "PIN_REQUIRED")

    def test_a_pages_own_verification_is_lost_to_another_principals_operation_in_between(self):
        digest = hashlib.sha256(b"an e-application form").digest()
        portal = self.page(PORTAL_ACK)  # may verify ("pin")
        sign_path = f"/v1/cards/{self.card_id}/sign"
        self.assertEqual(portal.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN}).status, 200)
        self.assertSignedAndVerifies(portal.post(sign_path, self.sign_body(pin=None)), digest)

        self.assertEqual(portal.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN}).status, 200)
        log_lines = len(self.vcard.log.read_text().splitlines())
        self.pin_status()  # the local client reads the card in between
        self.assertTrue([e for e in self.card_events_since(log_lines) if e.endswith("# reset")])
        before = self.vcard.apdu_count()
        self.assertProblem(portal.post(sign_path, self.sign_body(pin=None)), 403, "PIN_REQUIRED")
        self.assertNothingReachedTheCard(before)

    def test_an_allowlisted_page_signs_and_reads_its_answer(self):
        portal = self.page(PORTAL)
        preflight = portal.preflight(f"/v1/cards/{self.card_id}/sign")
        self.assertEqual(preflight.status, 204, preflight)
        self.assertEqual(preflight.headers.get("Access-Control-Allow-Origin"), PORTAL)
        self.assertEqual(preflight.headers.get("Vary"), "Origin")
        self.assertIsNone(preflight.headers.get("Access-Control-Allow-Credentials"))
        r = portal.post(f"/v1/cards/{self.card_id}/sign", self.sign_body())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), PORTAL)
        body = r.json()
        digest = hashlib.sha256(b"an e-application form").digest()
        result = verify_signature(unb64(body["certificate"]), digest, unb64(body["signature"]), "SHA-256", self.work)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_wrong_host_is_refused_before_anything_else(self):
        before = self.vcard.apdu_count()
        port = self.daemon.port
        for host in (f"portal.example.jp:{port}", f"127.0.0.1.nip.io:{port}", f"localhost.:{port}", f"127.0.0.1:{port + 1}",
                     f"[::ffff:127.0.0.1]:{port}", "127.0.0.1"):
            with self.subTest(host=host):
                rebinding = Client(self.daemon, token=None, host=host)
                r = rebinding.request("POST", f"/v1/cards/{self.card_id}/sign", body=self.sign_body(),
                                      headers={"Origin": PORTAL})
                self.assertProblem(r, 403, "HOST_FORBIDDEN")
                self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))
                self.assertProblem(Client(self.daemon, host=host).get(f"/v1/cards/{self.card_id}/pin"), 403, "HOST_FORBIDDEN")
        self.assertNothingReachedTheCard(before)

    def test_a_foreign_origin_is_refused_on_the_preflight_and_on_the_real_request(self):
        before = self.vcard.apdu_count()
        stranger = self.page(STRANGER)
        preflight = stranger.preflight(f"/v1/cards/{self.card_id}/sign")
        self.assertProblem(preflight, 403, "ORIGIN_FORBIDDEN")
        self.assertIsNone(preflight.headers.get("Access-Control-Allow-Origin"))
        for r in (stranger.post(f"/v1/cards/{self.card_id}/sign", self.sign_body()),
                  stranger.get(f"/v1/cards/{self.card_id}/pin"),
                  stranger.get("/v1/cards")):
            self.assertProblem(r, 403, "ORIGIN_FORBIDDEN")
            self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))
            self.assertEqual(r.headers.get("Vary"), "Origin")
        # The token does not make a foreign page's request acceptable: CORS is not authorization.
        with_token = Client(self.daemon).request("POST", f"/v1/cards/{self.card_id}/sign", body=self.sign_body(),
                                                 headers={"Origin": STRANGER})
        self.assertProblem(with_token, 403, "ORIGIN_FORBIDDEN")
        self.assertNothingReachedTheCard(before)

    def test_look_alike_origins_never_match(self):
        before = self.vcard.apdu_count()
        look_alikes = [
            "https://PORTAL.example.jp", "HTTPS://portal.example.jp",    # case
            "https://portal.example.jp.",                                # trailing dot
            "https://portal.example.jp:443", "https://portal.example.jp:8443",  # explicit default port, extra port
            "null",                                                      # sandboxed frames, data: URLs
            "http://portal.example.jp",                                  # scheme downgrade
            "https://portal.example.jp.evil.example", "https://evilportal.example.jp", "https://sub.portal.example.jp",
            "https://portal.example.jp%2eevil.example", "https://xn--portal-example-jp.evil",  # suffix and encoding tricks
            "https://user@portal.example.jp", "https://portal.example.jp/", "https://portal.example.jp/path",
            "https://portal.example.jp,https://portal.example.jp",
        ]
        for origin in look_alikes:
            with self.subTest(origin=origin):
                page = self.page(origin)
                preflight = page.preflight(f"/v1/cards/{self.card_id}/sign")
                self.assertProblem(preflight, 403, "ORIGIN_FORBIDDEN")
                self.assertIsNone(preflight.headers.get("Access-Control-Allow-Origin"))
                self.assertProblem(page.post(f"/v1/cards/{self.card_id}/sign", self.sign_body()), 403, "ORIGIN_FORBIDDEN")
                self.assertProblem(page.get(f"/v1/cards/{self.card_id}/certificates/sign"), 403, "ORIGIN_FORBIDDEN")
        self.assertNothingReachedTheCard(before)

    def test_a_repeated_origin_header_is_refused(self):
        # Two Origin fields could be read differently by a proxy and by inkand.
        before = self.vcard.apdu_count()
        conn = http.client.HTTPSConnection("127.0.0.1", self.daemon.port, context=self.daemon.ssl_context(), timeout=30)
        try:
            conn.putrequest("GET", f"/v1/cards/{self.card_id}/pin", skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", f"127.0.0.1:{self.daemon.port}")
            conn.putheader("Origin", PORTAL)
            conn.putheader("Origin", STRANGER)
            conn.endheaders()
            r = conn.getresponse()
            self.assertEqual(r.status, 403)
            self.assertEqual(json.loads(r.read())["code"], "ORIGIN_FORBIDDEN")
        finally:
            conn.close()
        self.assertNothingReachedTheCard(before)

    def test_form_posts_are_refused(self):
        before = self.vcard.apdu_count()
        body = json.dumps(self.sign_body()).encode()
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                             "text/plain; charset=application/json"):
            with self.subTest(content_type=content_type):
                # What an HTML form of a page sends: its Origin, a simple content type, no custom header.
                r = Client(self.daemon, token=None, inkan_client=None).request(
                    "POST", f"/v1/cards/{self.card_id}/sign", raw_body=body,
                    headers={"Origin": PORTAL, "Content-Type": content_type})
                self.assertProblem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
                r = self.client.request("POST", f"/v1/cards/{self.card_id}/sign", raw_body=body,
                                        headers={"Content-Type": content_type})
                self.assertProblem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        self.assertNothingReachedTheCard(before)

    def test_requests_without_the_inkan_client_header_are_refused(self):
        before = self.vcard.apdu_count()
        without = Client(self.daemon, inkan_client=None)
        problem = self.assertProblem(without.post(f"/v1/cards/{self.card_id}/sign", self.sign_body()), 400, "BAD_REQUEST")
        self.assertIn("Inkan-Client", problem["detail"])
        page = Client(self.daemon, token=None, inkan_client=None)
        r = page.request("POST", f"/v1/cards/{self.card_id}/sign", body=self.sign_body(), headers={"Origin": PORTAL})
        self.assertProblem(r, 400, "BAD_REQUEST")
        r = self.client.post(f"/v1/cards/{self.card_id}/sign", self.sign_body(), headers={"Inkan-Client": " "})
        self.assertProblem(r, 400, "BAD_REQUEST")
        self.assertNothingReachedTheCard(before)

    def test_a_get_without_origin_or_token_is_unauthorized(self):
        # What <img src> and <script src> send: no Origin, no credentials.
        before = self.vcard.apdu_count()
        anonymous = Client(self.daemon, token=None)
        for path in (f"/v1/cards/{self.card_id}/pin", "/v1/cards", "/v1/status", f"/v1/cards/{self.card_id}/certificates/sign",
                     "/v1/pairings"):
            with self.subTest(path=path):
                r = anonymous.get(path, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "image"})
                self.assertProblem(r, 401, "UNAUTHORIZED")
                self.assertEqual(r.headers.get("WWW-Authenticate"), "Bearer")
        self.assertNothingReachedTheCard(before)

    def test_a_wrong_token_is_unauthorized(self):
        before = self.vcard.apdu_count()
        token = self.daemon.token
        for wrong in ("0" * 64, token[:-1] + ("0" if token[-1] != "0" else "1"), token.upper(), token + "0", "", "x"):
            with self.subTest(token=wrong):
                client = Client(self.daemon, token=wrong)
                self.assertProblem(client.get(f"/v1/cards/{self.card_id}/pin"), 401, "UNAUTHORIZED")
                self.assertProblem(client.post(f"/v1/cards/{self.card_id}/sign", self.sign_body()), 401, "UNAUTHORIZED")
        self.assertNothingReachedTheCard(before)

    def test_pin_brute_force_from_a_page_is_stopped_by_the_rate_limit(self):
        portal = self.page(PORTAL_B)
        for expected in (9, 8, 7):
            problem = self.assertProblem(portal.post(f"/v1/cards/{self.card_id}/sign", self.sign_body(pin="0000")), 403,
                                         "PIN_INCORRECT")
            self.assertEqual(problem["triesLeft"], expected)
        before = self.vcard.apdu_count()
        for pin in ("0001", DEMO_PIN):
            r = portal.post(f"/v1/cards/{self.card_id}/sign", self.sign_body(pin=pin))
            problem = self.assertProblem(r, 429, "PIN_RATE_LIMITED")
            self.assertGreater(int(r.headers.get("Retry-After")), 0)
            self.assertEqual(problem["retryAfterSeconds"], int(r.headers.get("Retry-After")))
        # This portal may not touch the PIN by itself at all ("pin" is not among its operations).
        self.assertProblem(portal.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": "0002"}), 403, "OPERATION_FORBIDDEN")
        self.assertNothingReachedTheCard(before)
        # The card kept more tries than the guard's threshold: the user can still sign.
        self.assertEqual(self.pin_status()["triesLeft"], 7)

    def test_the_pin_guard_keeps_the_last_tries_from_a_page(self):
        # The user mistyped seven times (in the CLI, say): three tries are left.
        for _ in range(7):
            self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": "0000"})
        self.assertEqual(self.pin_status()["triesLeft"], 3)
        before = self.vcard.apdu_count()
        portal = self.page(PORTAL_C)
        for extra in ({}, {"acknowledgeLowTries": True}):
            with self.subTest(extra=extra):
                problem = self.assertProblem(portal.post(f"/v1/cards/{self.card_id}/sign", self.sign_body(pin="0000", **extra)),
                                             409, "PIN_GUARD")
                self.assertEqual(problem["triesLeft"], 3)
        self.assertNoPinReachedTheCard(before)
        self.assertEqual(self.pin_status()["triesLeft"], 3)
        # A local client that says it means it may spend one; so may a portal configured to.
        self.assertProblem(self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN}), 409, "PIN_GUARD")
        r = self.page(PORTAL_ACK).post(f"/v1/cards/{self.card_id}/sign", self.sign_body(acknowledgeLowTries=True))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_a_page_learns_what_it_may_do(self):
        access = self.page(PORTAL).get("/v1/access")
        self.assertEqual(access.status, 200, access)
        self.assertEqual(access.json(), {"standing": "allowlisted", "origin": PORTAL, "operations": ["read", "sign"],
                                         "pinSource": "request", "acknowledgeLowTries": False, "pinGuardThreshold": None})
        stranger = self.page(STRANGER).get("/v1/access")
        self.assertEqual(stranger.status, 200, stranger)
        self.assertEqual(stranger.headers.get("Access-Control-Allow-Origin"), STRANGER)
        self.assertEqual(stranger.json()["standing"], "unknown")
        self.assertEqual(stranger.json()["operations"], [])
        self.assertProblem(self.page("http://stranger.example").get("/v1/access"), 403, "ORIGIN_FORBIDDEN")
        self.assertProblem(self.page("null").get("/v1/access"), 403, "ORIGIN_FORBIDDEN")


class ConsoleLoginTest(SecurityStackTestCase):
    """inkand's own origin has no standing by itself: the console logs in with a code that only
    the token holder (`inkan console`) can get (docs/security.md "The console logs in")."""

    inkand_config = {"pinentryProgram": None}

    def own_origin(self) -> str:
        return f"https://127.0.0.1:{self.daemon.port}"

    def test_1_the_three_header_tricks_are_unauthorized_and_reach_no_card(self):
        before = self.vcard.apdu_count()
        anonymous = Client(self.daemon, token=None, inkan_client="x")
        tricks = [
            # curl -H 'Origin: https://127.0.0.1:PORT' .../v1/cards
            anonymous.get("/v1/cards", headers={"Origin": self.own_origin()}),
            # curl -H 'Sec-Fetch-Site: same-origin' .../v1/access
            anonymous.get("/v1/access", headers={"Sec-Fetch-Site": "same-origin"}),
            # curl -H 'Origin: ...' -H 'Content-Type: application/json' -H 'Inkan-Client: x' --data '{..., "pin"}' .../sign
            anonymous.post(f"/v1/cards/{self.card_id}/sign", self.sign_body(), headers={"Origin": self.own_origin()}),
        ]
        for r in tricks:
            self.assertProblem(r, 401, "UNAUTHORIZED")
            self.assertNotIn("signature", r.json())
            self.assertIsNone(r.headers.get("Set-Cookie"))
        # The own origin is told how the console gets in.
        self.assertIn("inkan console", tricks[0].json()["detail"])
        self.assertIn("inkan console", tricks[2].json()["detail"])
        self.assertNothingReachedTheCard(before)
        self.assertEqual(self.pin_status()["triesLeft"], 10)

    def test_2_inkan_console_logs_the_page_in_with_a_strict_session_cookie(self):
        code = self.login_code()
        r = self.trade(code)
        self.assertEqual(r.status, 204, r)
        cookies = r.headers.get_all("Set-Cookie")
        self.assertEqual(len(cookies), 1, cookies)
        name_value, _, attributes = cookies[0].partition("; ")
        name, _, value = name_value.partition("=")
        self.assertEqual(name, f"__Host-inkan-console-{self.daemon.port}")
        self.assertRegex(value, r"^[0-9a-f]{32}$")
        self.assertNotEqual(value, code)
        self.assertEqual(attributes.split("; "), ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"])

        console = ConsolePage(self.daemon, name_value)
        access = console.get("/v1/access")
        self.assertEqual(access.status, 200, access)
        self.assertEqual(access.json()["standing"], "console")
        cards = console.get("/v1/cards")
        self.assertEqual(cards.status, 200, cards)
        self.assertIn(self.card_id, [card["id"] for card in cards.json()["cards"]])
        # The console acts with its Origin and the cookie: a wrong current PIN is the card's answer.
        r = console.post(f"/v1/cards/{self.card_id}/pin/change", {"pin": "9999", "newPin": "24680"})
        self.assertProblem(r, 403, "PIN_INCORRECT")
        self.restore_pin()

        # Neither the code nor the session ever shows up in what inkand writes.
        output = self.daemon.output()
        self.assertNotIn(code, output)
        self.assertNotIn(value, output)
        for path in self.daemon.state.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                self.assertNotIn(code.encode(), data, path)
                self.assertNotIn(value.encode(), data, path)

    def test_3_a_login_code_works_once(self):
        code = self.login_code()
        self.assertEqual(self.trade(code).status, 204)
        again = self.trade(code)
        self.assertProblem(again, 401, "UNAUTHORIZED")
        self.assertIsNone(again.headers.get("Set-Cookie"))
        self.assertProblem(self.trade("0" * 32), 401, "UNAUTHORIZED")

    def test_4_only_the_local_client_gets_codes_and_only_the_console_page_trades_them(self):
        self.assertProblem(Client(self.daemon, token=None).post("/v1/console/login", {}), 401, "UNAUTHORIZED")
        self.assertProblem(Client(self.daemon, token=None).post("/v1/console/login", {}, headers={"Origin": self.own_origin()}),
                           401, "UNAUTHORIZED")
        r = self.client.post("/v1/console/session", {"code": self.login_code()})
        self.assertProblem(r, 403, "ORIGIN_FORBIDDEN")

    def test_5_a_wrong_old_or_ended_session_cookie_is_unauthorized_and_reaches_no_card(self):
        console = self.console()
        self.assertEqual(console.get("/v1/cards").status, 200)
        name, _, value = console.cookie.partition("=")
        wrong = f"{name}={value[:-1]}{'1' if value[-1] == '0' else '0'}"
        before = self.vcard.apdu_count()
        for cookie in (wrong, f"{name}=", f"{console.cookie}; {console.cookie}"):
            with self.subTest(cookie=cookie):
                stale = ConsolePage(self.daemon, cookie)
                self.assertProblem(stale.get("/v1/cards"), 401, "UNAUTHORIZED")
                self.assertProblem(stale.post(f"/v1/cards/{self.card_id}/sign", self.sign_body()), 401, "UNAUTHORIZED")
        # Logged out: the cookie is over, and the browser is told to drop it.
        r = console.request("DELETE", "/v1/console/session", body={})
        self.assertEqual(r.status, 204, r)
        self.assertIn("Max-Age=0", r.headers["Set-Cookie"])
        self.assertProblem(console.get("/v1/cards"), 401, "UNAUTHORIZED")
        self.assertProblem(console.post(f"/v1/cards/{self.card_id}/sign", self.sign_body()), 401, "UNAUTHORIZED")
        self.assertNothingReachedTheCard(before)

    def test_6_sessions_end_when_inkand_restarts(self):
        console = self.console()
        self.assertEqual(console.get("/v1/access").status, 200)
        type(self).daemon.stop()
        self.daemon.start()
        type(self).card_id = self.wait_for_card()
        self.assertProblem(console.get("/v1/access"), 401, "UNAUTHORIZED")

    def test_7_inkan_console_opens_the_address_with_xdg_open_when_there_is_a_display(self):
        bin_dir = self.work / "fake-bin"
        bin_dir.mkdir(exist_ok=True)
        opened = self.work / "opened-url"
        opener = bin_dir / "xdg-open"
        opener.write_text(f"#!/bin/sh\nprintf '%s' \"$1\" > '{opened}'\n")
        opener.chmod(0o755)
        env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}

        result = self.inkan_console(env_extra={**env, "DISPLAY": ":99"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "", "the address goes to the browser, not the terminal")
        self.assertIn("opened the console in your browser", result.stderr)
        match = LOGIN_URL.match(opened.read_text())
        self.assertIsNotNone(match, opened.read_text())
        self.assertEqual(self.trade(match.group(2)).status, 204)

        # --print, or no display: printed, and xdg-open not run.
        opened.unlink()
        for args, extra in ((("--print",), {"DISPLAY": ":99"}), ((), {})):
            with self.subTest(args=args, extra=extra):
                result = self.inkan_console(*args, env_extra={**env, **extra})
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertRegex(result.stdout.strip(), LOGIN_URL)
                self.assertFalse(opened.exists())


class PairingTest(SecurityStackTestCase):
    """A page that is not allowlisted asks; only the user, out of the page's reach, lets it in."""

    inkand_config = {"allowedOrigins": [PORTAL], "pinentryProgram": None}

    def ask(self, origin: str) -> dict:
        r = self.page(origin).post("/v1/pairings", {})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), origin)
        return r.json()

    def approve(self, pairing_id: str, code: str, client: Client | None = None, headers=None, **extra):
        return (client or self.client).post(f"/v1/pairings/{pairing_id}/approve", {"code": code, **extra}, headers=headers)

    def test_1_a_pairing_request_waits_for_the_user_and_grants_nothing_meanwhile(self):
        before = self.vcard.apdu_count()
        page = self.page(STRANGER)
        preflight = page.preflight("/v1/pairings")
        self.assertEqual(preflight.status, 204, preflight)
        self.assertEqual(preflight.headers.get("Access-Control-Allow-Origin"), STRANGER)
        pairing = self.ask(STRANGER)
        self.assertRegex(pairing["id"], r"^[0-9a-f]{32}$")
        self.assertRegex(pairing["code"], r"^\d{3} \d{3}$")
        self.assertEqual(pairing["status"], "pending")
        self.assertEqual(pairing["origin"], STRANGER)
        polled = page.get(f"/v1/pairings/{pairing['id']}")
        self.assertEqual(polled.status, 200, polled)
        self.assertEqual(polled.json()["status"], "pending")
        self.assertNotIn("code", polled.json())
        # Pending is not paired: every card route stays closed, preflights included.
        self.assertProblem(page.preflight(f"/v1/cards/{self.card_id}/sign"), 403, "ORIGIN_FORBIDDEN")
        self.assertProblem(page.post(f"/v1/cards/{self.card_id}/sign", self.sign_body()), 403, "ORIGIN_FORBIDDEN")
        self.assertProblem(page.get("/v1/cards"), 403, "ORIGIN_FORBIDDEN")
        # Another origin cannot see it, nor can a look-alike.
        for other in ("https://other.example", "https://stranger.example.", "https://STRANGER.example"):
            self.assertIn(self.page(other).get(f"/v1/pairings/{pairing['id']}").status, (403, 404))
        self.assertNothingReachedTheCard(before)

    def test_2_wrong_codes_are_refused_and_the_third_denies(self):
        before = self.vcard.apdu_count()
        pairing = self.ask("https://guess.example")
        wrong = "000 000" if pairing["code"] != "000 000" else "111 111"
        problem = self.assertProblem(self.approve(pairing["id"], wrong), 403, "PAIRING_CODE_INCORRECT")
        self.assertEqual(problem["triesLeft"], 2)
        self.assertProblem(self.approve(pairing["id"], "12345"), 403, "PAIRING_CODE_INCORRECT")
        self.assertProblem(self.approve(pairing["id"], wrong), 403, "PAIRING_CODE_INCORRECT")
        self.assertEqual(self.page("https://guess.example").get(f"/v1/pairings/{pairing['id']}").json()["status"], "denied")
        self.assertProblem(self.approve(pairing["id"], pairing["code"]), 409, "PAIRING_NOT_PENDING")
        # A denied origin waits before it may ask again.
        r = self.page("https://guess.example").post("/v1/pairings", {})
        self.assertProblem(r, 429, "PAIRING_RATE_LIMITED")
        self.assertGreater(int(r.headers.get("Retry-After")), 0)
        self.assertProblem(self.page("https://guess.example").get("/v1/cards"), 403, "ORIGIN_FORBIDDEN")
        self.assertNothingReachedTheCard(before)

    def test_3_no_page_can_approve_a_pairing(self):
        before = self.vcard.apdu_count()
        pairing = self.ask("https://self-approver.example")
        attempts = [
            # The asking page itself.
            self.page("https://self-approver.example").post(f"/v1/pairings/{pairing['id']}/approve", {"code": pairing["code"]}),
            # An allowlisted portal.
            self.page(PORTAL).post(f"/v1/pairings/{pairing['id']}/approve", {"code": pairing["code"]}),
            # A request with the token that also carries an Origin (a page that stole the token).
            self.approve(pairing["id"], pairing["code"], headers={"Origin": PORTAL}),
            self.approve(pairing["id"], pairing["code"], headers={"Origin": "https://self-approver.example"}),
        ]
        for r in attempts:
            self.assertProblem(r, 403, "ORIGIN_FORBIDDEN")
        # Listing, denying and revoking are the user's too.
        self.assertProblem(self.page(PORTAL).get("/v1/pairings"), 403, "ORIGIN_FORBIDDEN")
        self.assertProblem(self.page(PORTAL).post(f"/v1/pairings/{pairing['id']}/deny", {}), 403, "ORIGIN_FORBIDDEN")
        self.assertEqual(self.client.get(f"/v1/pairings/{pairing['id']}").json()["status"], "pending")
        # Without a token, no Origin: unauthorized.
        self.assertProblem(self.approve(pairing["id"], pairing["code"], client=Client(self.daemon, token=None)), 401, "UNAUTHORIZED")
        self.assertNothingReachedTheCard(before)

    def test_3b_the_console_lists_pairings_without_their_codes(self):
        pairing = self.ask("https://listed.example")
        console = self.console()
        r = console.get("/v1/pairings")
        self.assertEqual(r.status, 200, r)
        listed = [p for p in r.json()["pending"] if p["id"] == pairing["id"]]
        self.assertEqual(len(listed), 1, r.json())
        self.assertEqual(listed[0]["origin"], "https://listed.example")
        self.assertNotIn("code", listed[0], "the code is for the local client, who approves")
        self.assertIn(PORTAL, [entry["origin"] for entry in r.json()["allowlisted"]])
        # The local client sees the code; the console still cannot approve.
        local = [p for p in self.client.get("/v1/pairings").json()["pending"] if p["id"] == pairing["id"]]
        self.assertEqual(local[0]["code"], pairing["code"])
        self.assertProblem(console.post(f"/v1/pairings/{pairing['id']}/approve", {"code": pairing["code"]}), 403, "ORIGIN_FORBIDDEN")

    def test_4_approved_origin_signs_within_its_grant_and_revoked_origin_is_refused(self):
        origin = "https://newportal.example"
        pairing = self.ask(origin)
        listed = self.client.get("/v1/pairings").json()
        self.assertIn(pairing["id"], [p["id"] for p in listed["pending"]])
        r = self.approve(pairing["id"], pairing["code"].replace(" ", ""))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "approved")
        self.assertEqual(r.json()["operations"], ["read", "sign"])
        page = self.page(origin)
        polled = page.get(f"/v1/pairings/{pairing['id']}").json()
        self.assertEqual((polled["status"], polled["operations"]), ("approved", ["read", "sign"]))
        access = page.get("/v1/access").json()
        self.assertEqual((access["standing"], access["pinSource"]), ("paired", "request"))
        self.assertProblem(page.post("/v1/pairings", {}), 409, "ALREADY_PAIRED")

        self.assertEqual(page.preflight(f"/v1/cards/{self.card_id}/sign").status, 204)
        r = page.post(f"/v1/cards/{self.card_id}/sign", self.sign_body())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), origin)
        before = self.vcard.apdu_count()
        self.assertProblem(page.post(f"/v1/cards/{self.card_id}/pin/change", {"pin": DEMO_PIN, "newPin": "2468"}), 403,
                           "OPERATION_FORBIDDEN")
        self.assertNothingReachedTheCard(before)

        # Persisted: 0600, the origin and its grant, no code, no PIN.
        stored = self.daemon.state / "pairings.json"
        self.assertEqual(stat.S_IMODE(os.stat(stored).st_mode), 0o600)
        text = stored.read_text()
        self.assertIn(origin, text)
        self.assertNotIn(pairing["code"].replace(" ", ""), text)
        self.assertNotIn(DEMO_PIN, text)

        # Revoked: refused again at once, preflights included.
        r = self.client.request("DELETE", "/v1/pairings/" + urllib.parse.quote(origin, safe=""), body={})
        self.assertEqual(r.status, 204, r)
        before = self.vcard.apdu_count()
        self.assertProblem(page.preflight(f"/v1/cards/{self.card_id}/sign"), 403, "ORIGIN_FORBIDDEN")
        self.assertProblem(page.post(f"/v1/cards/{self.card_id}/sign", self.sign_body()), 403, "ORIGIN_FORBIDDEN")
        self.assertNothingReachedTheCard(before)
        self.assertNotIn(origin, stored.read_text())
        r = self.client.request("DELETE", "/v1/pairings/" + urllib.parse.quote(origin, safe=""), body={})
        self.assertProblem(r, 404, "NOT_FOUND")

    def test_5_a_grant_limited_to_reading_and_to_one_card(self):
        origin = "https://reader-only.example"
        pairing = self.ask(origin)
        r = self.approve(pairing["id"], pairing["code"], operations=["read"], cards=["0000000000000000"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["cards"], ["0000000000000000"])
        page = self.page(origin)
        before = self.vcard.apdu_count()
        self.assertEqual(page.get("/v1/cards").json()["cards"], [], "a card outside the grant is not listed")
        self.assertProblem(page.get(f"/v1/cards/{self.card_id}/pin"), 403, "OPERATION_FORBIDDEN")
        self.assertProblem(page.post(f"/v1/cards/{self.card_id}/sign", self.sign_body()), 403, "OPERATION_FORBIDDEN")
        reader = [r for r in page.get("/v1/status").json()["readers"] if r["name"].endswith(" 00 00")][0]
        self.assertNotIn("cardId", reader)
        self.assertNothingReachedTheCard(before)

    def test_6_an_origin_can_hold_only_a_few_pending_pairings(self):
        origin = "https://pushy.example"
        for _ in range(3):
            self.ask(origin)
        r = self.page(origin).post("/v1/pairings", {})
        problem = self.assertProblem(r, 429, "PAIRING_RATE_LIMITED")
        self.assertGreater(problem["retryAfterSeconds"], 0)
        # Denying needs no code; the denied origin then has to wait.
        pending = [p for p in self.client.get("/v1/pairings").json()["pending"] if p["origin"] == origin]
        r = self.client.post(f"/v1/pairings/{pending[0]['id']}/deny", {})
        self.assertEqual(r.json()["status"], "denied")

    def test_7_only_trustworthy_origins_may_ask(self):
        for origin in ("http://plain.example", "null", "https://Upper.example", "https://trailing.example.",
                       "https://default-port.example:443", "file://"):
            with self.subTest(origin=origin):
                self.assertProblem(self.page(origin).post("/v1/pairings", {}), 403, "ORIGIN_FORBIDDEN")
        self.assertProblem(self.client.post("/v1/pairings", {}), 400, "BAD_REQUEST")
        self.assertProblem(self.page(PORTAL).post("/v1/pairings", {}), 409, "ALREADY_PAIRED")


class PairCommandTest(SecurityStackTestCase):
    """`inkan pair`: the user's side of pairing, as a user runs it."""

    inkand_config = {"pinentryProgram": None}

    def inkan(self, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
        return run_inkan("--state-dir", self.daemon.state, "--port", self.daemon.port, *args, stdin=stdin)

    def on_terminal(self, *args, answer: str) -> tuple[int, str]:
        """Runs inkan on a pseudo-terminal and types `answer` after its question."""
        return run_on_terminal("--state-dir", self.daemon.state, "--port", self.daemon.port, *args, answers=[answer],
                               prompt_end=b"[y/N] ", timeout=30)

    def ask(self, origin: str) -> dict:
        r = self.page(origin).post("/v1/pairings", {})
        self.assertEqual(r.status, 202, r)
        return r.json()

    def test_list_approve_and_revoke(self):
        origin = "https://cli-approved.example"
        pairing = self.ask(origin)
        listed = self.inkan("pair", "list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn(pairing["id"], listed.stdout)
        self.assertIn(pairing["code"], listed.stdout)
        self.assertIn(origin, listed.stdout)

        # Without --code and without a terminal to compare on: refused, nothing approved.
        result = self.inkan("pair", "approve", pairing["id"])
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("--code", result.stderr)
        wrong = "999 999" if pairing["code"] != "999 999" else "111 111"
        result = self.inkan("pair", "approve", pairing["id"], "--code", wrong)
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("PAIRING_CODE_INCORRECT", result.stderr)

        result = self.inkan("pair", "approve", "--code", pairing["code"], "--allow", "read,sign")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"Approved: {origin} may read,sign on every card", result.stdout)
        self.assertEqual(self.page(origin).post(f"/v1/cards/{self.card_id}/sign", self.sign_body()).status, 200)
        paired = json.loads(self.inkan("pair", "list", "--json").stdout)["paired"]
        self.assertIn(origin, [p["origin"] for p in paired])

        result = self.inkan("pair", "revoke", origin)
        self.assertEqual(result.returncode, 0, result.stderr)
        before = self.vcard.apdu_count()
        self.assertProblem(self.page(origin).post(f"/v1/cards/{self.card_id}/sign", self.sign_body()), 403, "ORIGIN_FORBIDDEN")
        self.assertNothingReachedTheCard(before)
        result = self.inkan("pair", "revoke", origin)
        self.assertEqual(result.returncode, 3, result.stderr)

    def test_on_a_terminal_the_user_compares_the_code_and_confirms(self):
        origin = "https://cli-terminal.example"
        pairing = self.ask(origin)
        code, screen = self.on_terminal("pair", "approve", answer="y")
        self.assertEqual(code, 0, screen)
        self.assertIn(origin, screen)
        self.assertIn(pairing["code"], screen)
        self.assertEqual(self.page(origin).get("/v1/access").json()["standing"], "paired")

        declined = self.ask("https://cli-declined.example")
        code, screen = self.on_terminal("pair", "approve", declined["id"], answer="n")
        self.assertEqual(code, 1, screen)
        self.assertEqual(self.client.get(f"/v1/pairings/{declined['id']}").json()["status"], "pending")
        result = self.inkan("pair", "deny", declined["id"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Denied: https://cli-declined.example", result.stdout)


class CardPolicyTest(SecurityStackTestCase):
    """Per-card rules and lost/suspended (休止) certificates, from the config."""

    inkand_config = {"allowedOrigins": [PORTAL, PORTAL_B], "pinentryProgram": None}

    def restart_with(self, config: dict):
        type(self).daemon.stop()
        self.daemon.write_config(config)
        self.daemon.start()
        type(self).card_id = self.wait_for_card()

    def serial(self) -> str:
        card = self.client.get(f"/v1/cards/{self.card_id}").json()
        return next(c["serialNumber"] for c in card["certificates"] if c["id"] == "sign")

    def test_a_blocked_certificate_serial_refuses_the_card_to_everyone(self):
        serial = self.serial()
        # Written as a user may copy it: lower case, with colons.
        pretty = ":".join(serial[i:i + 2] for i in range(0, len(serial), 2)).lower()
        self.restart_with({**self.inkand_config, "blockedCertificateSerials": [pretty]})
        try:
            before = self.vcard.apdu_count()
            for client, label in ((self.client, "local client"), (self.page(PORTAL).client, "page")):
                with self.subTest(caller=label):
                    headers = {} if label == "local client" else {"Origin": PORTAL}
                    r = client.request("POST", f"/v1/cards/{self.card_id}/sign", body=self.sign_body(), headers=headers)
                    self.assertProblem(r, 403, "CARD_BLOCKED_BY_POLICY")
                    self.assertProblem(client.request("GET", f"/v1/cards/{self.card_id}/pin", headers=headers), 403,
                                       "CARD_BLOCKED_BY_POLICY")
            r = self.client.post(f"/v1/cards/{self.card_id}/pin/verify", {"pin": DEMO_PIN})
            self.assertProblem(r, 403, "CARD_BLOCKED_BY_POLICY")
            self.assertNothingReachedTheCard(before)
            # Still listed, so the user sees why nothing works.
            cards = self.client.get("/v1/cards").json()["cards"]
            self.assertTrue(next(c for c in cards if c["id"] == self.card_id)["blockedByPolicy"])
            reader = next(r for r in self.client.get("/v1/status").json()["readers"] if r.get("cardId") == self.card_id)
            self.assertTrue(reader["blockedByPolicy"])
            # Taken out and put back: still refused.
            self.vcard.remove()
            wait_for(lambda: self.card_id not in [c["id"] for c in self.client.get("/v1/cards").json()["cards"]], 20,
                     what="the card to be taken out")
            self.vcard.insert()
            self.wait_for_card()
            self.assertProblem(self.sign(hashlib.sha256(b"after re-insertion").digest()), 403, "CARD_BLOCKED_BY_POLICY")
        finally:
            self.restart_with(self.inkand_config)

    def test_a_card_rule_limits_origins_and_operations(self):
        self.restart_with({**self.inkand_config,
                           "cards": [{"cardId": self.card_id, "origins": [PORTAL_B], "operations": ["read", "sign"]}]})
        try:
            before = self.vcard.apdu_count()
            portal = self.page(PORTAL)
            self.assertEqual(portal.get("/v1/cards").json()["cards"], [])
            self.assertProblem(portal.post(f"/v1/cards/{self.card_id}/sign", self.sign_body()), 403, "OPERATION_FORBIDDEN")
            # The card's own rule binds the local client too: no PIN change on this card.
            r = self.client.post(f"/v1/cards/{self.card_id}/pin/change", {"pin": DEMO_PIN, "newPin": "2468"})
            self.assertProblem(r, 403, "OPERATION_FORBIDDEN")
            self.assertNothingReachedTheCard(before)
            r = self.page(PORTAL_B).post(f"/v1/cards/{self.card_id}/sign", self.sign_body())
            self.assertEqual(r.status, 200, r)
        finally:
            self.restart_with(self.inkand_config)

    def test_a_config_with_a_plain_http_origin_does_not_start(self):
        self.daemon.write_config({"allowedOrigins": ["http://portal.example.jp"]})
        try:
            env = dict(os.environ, INKAN_STATE_DIR=str(self.daemon.state), INKAN_CONFIG=str(self.daemon.state / "inkand.json"))
            result = subprocess.run([str(BIN_DIR / "inkand"), "--port", "1"], env=env, capture_output=True, text=True, timeout=30)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("only https:// origins", result.stderr)
            result = subprocess.run([str(BIN_DIR / "inkand"), "--port", "1", "--allow-origin", "http://localhost:3000"],
                                    env=env, capture_output=True, text=True, timeout=30)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("--allow-insecure-localhost-origins", result.stderr)
        finally:
            self.daemon.write_config(self.inkand_config)


if __name__ == "__main__":
    unittest.main()
