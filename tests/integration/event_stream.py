"""A reader of inkand's event stream (GET /v1/events, docs/events.md) for tests.

Plain http.client over TLS verified against inkand's local CA; the
text/event-stream is parsed as the WHATWG HTML standard (§9.2.6) says:
lines of `field: value`, comments starting with ':', a blank line ends a block.
"""

from __future__ import annotations

import http.client
import json
import socket
import time

import contract


class StreamBlock:
    """One blank-line-terminated block: an event, a comment, or fields only (retry/id)."""

    def __init__(self):
        self.id: str | None = None
        self.event: str | None = None
        self.data_lines: list[str] = []
        self.retry: int | None = None
        self.comments: list[str] = []

    @property
    def data(self):
        return json.loads("\n".join(self.data_lines)) if self.data_lines else None

    @property
    def is_event(self) -> bool:
        return bool(self.data_lines)

    def __repr__(self):
        return f"<StreamBlock id={self.id} event={self.event} data={self.data_lines} retry={self.retry} comments={self.comments}>"


class EventStream:
    """An open GET /v1/events. `status` and `headers` are the response's; read blocks with next_block()."""

    def __init__(self, daemon, token: str | None = "default", headers: dict | None = None, timeout: float = 30.0):
        self.connection = http.client.HTTPSConnection("127.0.0.1", daemon.port, context=daemon.ssl_context(), timeout=timeout)
        self.connection.putrequest("GET", "/v1/events", skip_host=True, skip_accept_encoding=True)
        self.connection.putheader("Host", f"127.0.0.1:{daemon.port}")
        self.connection.putheader("Accept", "text/event-stream")
        if token is not None:
            self.connection.putheader("Authorization", f"Bearer {daemon.token if token == 'default' else token}")
        for name, value in (headers or {}).items():
            self.connection.putheader(name, value)
        self.connection.endheaders()
        # http.client lets go of the socket once the response says Connection: close
        # (the stream's does); the response keeps reading from it.
        self.socket = self.connection.sock
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = self.response.headers
        self.last_id: str | None = None
        if self.status == 200:
            # A refusal's body is checked when it is read (body()).
            contract.check_response("GET", "/v1/events", self.status, self.headers, None, streaming=True)
        self.raw = b""  # every byte of the stream read so far

    def body(self) -> bytes:
        """The whole body of a refusal (a problem+json answer), checked against openapi.yaml."""
        body = self.response.read()
        contract.check_response("GET", "/v1/events", self.status, self.headers, body)
        return body

    def next_block(self, timeout: float = 20.0) -> StreamBlock:
        """The next block; raises TimeoutError after `timeout`, EOFError when the stream ends."""
        self.socket.settimeout(timeout)
        block = StreamBlock()
        seen = False
        while True:
            try:
                raw = self.response.readline()
            except (socket.timeout, TimeoutError) as e:
                raise TimeoutError(f"no complete block within {timeout}s") from e
            if not raw:
                raise EOFError("the event stream ended")
            self.raw += raw
            line = raw.decode("utf-8").rstrip("\r\n")
            if line == "":
                if seen:
                    if block.id is not None:
                        self.last_id = block.id
                    return block
                continue
            seen = True
            if line.startswith(":"):
                block.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                block.id = value
            elif name == "event":
                block.event = value
            elif name == "data":
                block.data_lines.append(value)
            elif name == "retry":
                block.retry = int(value)

    def next_event(self, timeout: float = 20.0) -> StreamBlock:
        """The next block that is an event (comments and field-only blocks skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            block = self.next_block(max(0.1, deadline - time.monotonic()))
            if block.is_event:
                return block

    def wait_for(self, event_type: str, predicate=lambda data: True, timeout: float = 20.0) -> StreamBlock:
        """Skip events until one of `event_type` whose data satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {event_type} event within {timeout}s")
            block = self.next_event(left)
            if block.event == event_type and predicate(block.data):
                return block

    def close(self):
        self.response.close()
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
