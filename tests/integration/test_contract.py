"""The contract checker (contract.py) itself, without a stack: it accepts what
openapi.yaml documents (every example of it) and refuses what it does not, so
that the integration tests, whose every answer goes through it, cannot pass
on an answer outside the contract."""

from __future__ import annotations

import json
import unittest
from email.message import Message

import contract


def headers(content_type: str | None = None, **more) -> Message:
    message = Message()
    if content_type:
        message["Content-Type"] = content_type
    for name, value in more.items():
        message[name.replace("_", "-")] = value
    return message


def problem(status: int, code: str) -> bytes:
    return json.dumps({"type": "urn:inkan:problem:x", "title": "t", "status": status, "detail": "d", "code": code}).encode()


class ContractCheckerTest(unittest.TestCase):
    def test_every_documented_example_passes(self):
        document = contract._document()
        checked = 0
        for template, item in document["paths"].items():
            prefix = contract._prefix(item, document)
            path = prefix + template.replace("{cardId}", "ce2a11f176a8a1dc").replace("{certId}", "sign") \
                .replace("{ref}", "8f14e45fceea167a5a36dedd4bea2543").replace("{file}", "app.js")
            for method in contract.METHODS:
                operation = item.get(method)
                if not operation:
                    continue
                for status, response in operation["responses"].items():
                    response = contract._resolve(response)
                    for media, spec in (response.get("content") or {}).items():
                        if "example" not in spec:
                            continue
                        example = spec["example"]
                        body = json.dumps(example).encode() if "json" in media else example.encode()
                        with self.subTest(method=method, path=template, status=status, media=media):
                            contract.check_response(method.upper(), path, int(status), headers(media), body)
                            checked += 1
        self.assertGreaterEqual(checked, 20)

    def test_an_undocumented_status_fails(self):
        with self.assertRaisesRegex(contract.ContractViolation, "not documented"):
            contract.check_response("GET", "/v1/cards", 429, headers("application/problem+json"), problem(429, "PIN_RATE_LIMITED"))

    def test_a_body_outside_the_schema_fails(self):
        with self.assertRaisesRegex(contract.ContractViolation, "cards"):
            contract.check_response("GET", "/v1/cards", 200, headers("application/json"), b'{"cards": [{"id": "x"}]}')
        with self.assertRaisesRegex(contract.ContractViolation, "triesLeft"):
            contract.check_response("GET", "/v1/cards/x/pin", 200, headers("application/json"),
                                    b'{"triesLeft": "3", "maxTries": 3, "blocked": false}')

    def test_a_problem_code_the_response_does_not_list_fails(self):
        # 404 on a card is CARD_NOT_FOUND or NOT_FOUND, never a PIN problem.
        with self.assertRaisesRegex(contract.ContractViolation, "code"):
            contract.check_response("GET", "/v1/cards/x", 404, headers("application/problem+json"), problem(404, "PIN_BLOCKED"))
        contract.check_response("GET", "/v1/cards/x", 404, headers("application/problem+json"), problem(404, "CARD_NOT_FOUND"))

    def test_a_wrong_content_type_fails(self):
        with self.assertRaisesRegex(contract.ContractViolation, "Content-Type"):
            contract.check_response("GET", "/v1/cards/x/pin", 200, headers("text/plain"), b'{"triesLeft": 3, "maxTries": 3, "blocked": false}')

    def test_a_named_header_is_checked(self):
        with self.assertRaisesRegex(contract.ContractViolation, "Retry-After"):
            contract.check_response("POST", "/v1/cards/x/sign", 429, headers("application/problem+json", Retry_After="soon"),
                                    problem(429, "PIN_RATE_LIMITED"))
        with self.assertRaisesRegex(contract.ContractViolation, "WWW-Authenticate"):
            contract.check_response("GET", "/v1/status", 401, headers("application/problem+json", WWW_Authenticate="Basic"),
                                    problem(401, "UNAUTHORIZED"))

    def test_a_body_where_none_is_documented_fails(self):
        with self.assertRaisesRegex(contract.ContractViolation, "without a body"):
            contract.check_response("OPTIONS", "/v1/cards", 204, headers(), b"{}")
        contract.check_response("OPTIONS", "/v1/cards", 204, headers(Allow="GET, POST, DELETE, OPTIONS"), b"")

    def test_paths_and_methods_outside_the_contract(self):
        contract.check_response("GET", "/v1/nothing", 404, headers("application/problem+json"), problem(404, "NOT_FOUND"))
        contract.check_response("DELETE", "/v1/status", 405, headers("application/problem+json", Allow="GET, OPTIONS"),
                                problem(405, "METHOD_NOT_ALLOWED"))
        with self.assertRaisesRegex(contract.ContractViolation, "not an operation"):
            contract.check_response("GET", "/v1/nothing", 200, headers("application/json"), b"{}")
        with self.assertRaisesRegex(contract.ContractViolation, "problem status"):
            contract.check_response("GET", "/v1/nothing", 404, headers("application/problem+json"), problem(400, "NOT_FOUND"))

    def test_the_console_is_at_the_root(self):
        contract.check_response("GET", "/", 200, headers("text/html; charset=utf-8", ETag='"x"'), b"<!doctype html>")
        contract.check_response("GET", "/console/app.js", 304, headers(), b"")
        with self.assertRaisesRegex(contract.ContractViolation, "not documented"):
            contract.check_response("GET", "/console/app.js", 401, headers("application/problem+json"), problem(401, "UNAUTHORIZED"))


if __name__ == "__main__":
    unittest.main()
