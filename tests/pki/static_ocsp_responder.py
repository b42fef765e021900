#!/usr/bin/env python3
"""A fixed-answer HTTP server for the certificate tests (loopback only).

Usage:
  static_ocsp_responder.py PORT RESPONSE_FILE   answer every POST with the file
                                                (application/ocsp-response)
  static_ocsp_responder.py PORT --redirect URL  answer every GET and POST with
                                                302 Found, Location: URL

The first form replays a response produced earlier with `openssl ocsp
-respout` (a foreign nonce, another certificate's status, a corrupted
signature, a tryLater status), which a live `openssl ocsp` never sends. The
second checks that revocation fetches do not follow redirects.
"""
import http.server
import sys


def main() -> None:
    port = int(sys.argv[1])
    redirect = sys.argv[3] if sys.argv[2] == "--redirect" else None
    body = b""
    if redirect is None:
        with open(sys.argv[2], "rb") as f:
            body = f.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
            if redirect is not None:
                self.send_response(302)
                self.send_header("Location", redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = answer  # noqa: N815 (http.server naming)
        do_GET = answer  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
