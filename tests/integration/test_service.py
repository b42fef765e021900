"""inkand under a service manager (docs/service.md), with real tools:

  * socket activation through systemd's own `systemd-socket-activate`: it binds
    127.0.0.1 and [::1], waits for the first connection and then runs inkand
    with LISTEN_FDS; inkand serves /v1/status on exactly those sockets (it
    could not bind the port itself: systemd-socket-activate holds it);
  * the notification protocol (sd_notify(3)) read from a NOTIFY_SOCKET that the
    test binds itself (an AF_UNIX datagram socket, as systemd's): READY=1 with
    a STATUS= line naming the cards present, WATCHDOG=1 pings at half of
    WATCHDOG_USEC, STOPPING=1 on SIGTERM;
  * the idle exit and re-activation: the test keeps the listening socket the
    way a systemd socket unit does and starts inkand again when a connection
    waits; an open event stream keeps inkand from exiting;
  * sockets inkand must refuse (not loopback);
  * logging to the journal (JOURNAL_STREAM naming stderr): entries with
    PRIORITY and the INKAN_* fields, and the 使用簿's mirrored records, sent by
    libsystemd's sd_journal_sendv to
    /run/systemd/journal/socket. The test machines run no journald (no
    systemd as PID 1), so the test binds that socket itself and reads the
    journal's native protocol; where a journald runs, it asks journalctl.

The cold start (connection to first answer, TLS included) is measured and
printed; docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path
from types import SimpleNamespace

from event_stream import EventStream
from harness import (BIN_DIR, DEMO_PIN, CardTestCase, Client, Inkand, free_port, stop_process, wait_for)

SOCKET_ACTIVATE = shutil.which("systemd-socket-activate")
JOURNAL_SOCKET = Path("/run/systemd/journal/socket")  # sd_journal_sendv(3) sends here
WATCHDOG_USEC = 400_000  # inkand pings every 200 ms
LISTEN_FDS_START = 3  # sd_listen_fds(3)


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class NotifySocket:
    """A service manager's notification socket: AF_UNIX datagrams of KEY=VALUE lines."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[dict[str, str]] = []

    def drain(self, timeout: float = 0.1) -> list[dict[str, str]]:
        """Read whatever arrives within `timeout`; every message read so far."""
        self.sock.settimeout(timeout)
        while True:
            try:
                data = self.sock.recv(4096)
            except (socket.timeout, TimeoutError):
                return self.messages
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append(fields)

    def wait_for(self, key: str, value: str | None = None, timeout: float = 20.0, after: int = 0,
                 pattern: str | None = None) -> dict[str, str]:
        """The first message (from index `after` on) that has `key` (equal to
        `value`, or matching the regular expression `pattern`, when given)."""
        def seen():
            for message in self.drain()[after:]:
                if key in message and (value is None or message[key] == value) and \
                        (pattern is None or re.fullmatch(pattern, message[key])):
                    return message
            return None
        return wait_for(seen, timeout, interval=0.01, what=f"{key}={value or pattern or '*'} on the notify socket")

    def count(self, key: str) -> int:
        return sum(1 for message in self.drain(0.01) if key in message)

    def close(self):
        self.sock.close()


def parse_journal_entry(data: bytes) -> dict[str, str]:
    """One datagram of the journal's native protocol: KEY=value lines, or KEY,
    newline, 64-bit little-endian length, value, newline for binary values."""
    fields: dict[str, str] = {}
    i = 0
    while i < len(data):
        end = data.index(b"\n", i)
        line = data[i:end]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            i = end + 1
        else:
            key = line
            size = int.from_bytes(data[end + 1:end + 9], "little")
            value = data[end + 9:end + 9 + size]
            i = end + 9 + size + 1
        fields[key.decode()] = value.decode(errors="replace")
    return fields


class Journal:
    """The entries inkand sends to the journal: a stand-in journal socket when
    no journald runs (read at once by a thread, as journald does: a datagram
    socket's short queue would otherwise block the sender), else journalctl."""

    def __init__(self):
        self.sock = None
        self.entries: list[dict[str, str]] = []
        if JOURNAL_SOCKET.exists():
            return
        JOURNAL_SOCKET.parent.mkdir(parents=True, exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(JOURNAL_SOCKET))
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self):
        while not self._stop.is_set():
            try:
                self.entries.append(parse_journal_entry(self.sock.recv(65536)))
            except (socket.timeout, TimeoutError):
                continue

    def read(self, pid: int) -> list[dict[str, str]]:
        if self.sock is None:
            r = subprocess.run(["journalctl", "-o", "json", f"_PID={pid}", "--no-pager"], capture_output=True, text=True)
            return [json.loads(line) for line in r.stdout.splitlines()]
        return list(self.entries)

    def close(self):
        if self.sock is not None:
            self._stop.set()
            self._thread.join(5)
            self.sock.close()
            JOURNAL_SOCKET.unlink(missing_ok=True)


def https_get(port: int, path: str, ca_file: Path, token: str, address="127.0.0.1", timeout=30.0):
    """GET over TLS verified against inkand's CA; (status, body)."""
    context = ssl.create_default_context(cafile=str(ca_file))
    host = f"[{address}]" if ":" in address else address
    conn = http.client.HTTPSConnection(address, port, context=context, timeout=timeout)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", f"{host}:{port}")
        conn.putheader("Authorization", f"Bearer {token}")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class SocketUnit:
    """What a systemd socket unit does, for the re-activation test: holds the
    listening socket for good and starts inkand (LISTEN_FDS=1, LISTEN_PID its
    pid, the socket as descriptor 3) whenever a connection waits and no inkand
    runs. systemd-socket-activate cannot do this part: it execs into the
    service once and is gone."""

    def __init__(self, port: int, env: dict, log_path: Path):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(64)
        self.env = env
        self.log_path = log_path
        self.starts: list[float] = []  # monotonic time of each start
        self.exits: list[int] = []
        self.pid: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _spawn(self) -> int:
        log = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        pid = os.fork()
        if pid == 0:  # the child: only async-signal-safe calls until exec
            try:
                os.dup2(log, 1)
                os.dup2(log, 2)
                if self.listener.fileno() != LISTEN_FDS_START:
                    os.dup2(self.listener.fileno(), LISTEN_FDS_START)
                os.set_inheritable(LISTEN_FDS_START, True)
                env = dict(self.env, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
                os.execve(str(BIN_DIR / "inkand"), [str(BIN_DIR / "inkand")], env)
            finally:
                os._exit(127)
        os.close(log)
        return pid

    def _run(self):
        while not self._stop.is_set():
            if self.pid is None:
                readable, _, _ = select.select([self.listener], [], [], 0.05)
                if readable and not self._stop.is_set():
                    self.starts.append(time.monotonic())
                    self.pid = self._spawn()
            else:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.exits.append(os.waitstatus_to_exitcode(status))
                    self.pid = None
                else:
                    time.sleep(0.02)

    def close(self):
        self._stop.set()
        self._thread.join(5)
        if self.pid is not None:
            os.kill(self.pid, signal.SIGTERM)
            _, status = os.waitpid(self.pid, 0)
            self.exits.append(os.waitstatus_to_exitcode(status))
            self.pid = None
        self.listener.close()


class ServiceTest(CardTestCase):
    binaries = ("inkand", "inkan-vcard")

    @classmethod
    def setUpClass(cls):
        if SOCKET_ACTIVATE is None:
            raise unittest.SkipTest("systemd-socket-activate is missing (Debian package systemd; scripts/install-deps.sh)")
        super().setUpClass()
        # The state directory (token, TLS) as a first start leaves it, so that
        # the test's client can verify the socket-activated daemon's certificate.
        cls.daemon = Inkand(cls.work)
        cls.daemon.write_config({"pinentryProgram": None})
        try:
            cls.daemon.start()
            cls.daemon.stop()
        except BaseException:
            cls.tearDownClass()
            raise

    def setUp(self):
        # AF_UNIX paths are short (108 bytes): the notify socket lives in a directory of its own in /tmp.
        notify_dir = Path(tempfile.mkdtemp(prefix="inkan-notify-"))
        self.addCleanup(shutil.rmtree, notify_dir, True)
        self.notify = NotifySocket(notify_dir / "notify.sock")
        self.addCleanup(self.notify.close)
        self.out = self.work / f"inkand-{self._testMethodName}.out"

    def env(self, **extra) -> dict:
        return dict(os.environ, INKAN_STATE_DIR=str(self.daemon.state), INKAN_CONFIG=str(self.daemon.state / "inkand.json"),
                    NOTIFY_SOCKET=str(self.notify.path), **extra)

    def output(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    def test_socket_activated_by_systemd_serves_and_notifies(self):
        port = free_port()
        addresses = ["127.0.0.1"] + (["::1"] if ipv6_loopback() else [])
        command = [SOCKET_ACTIVATE]
        for address in addresses:
            command += ["-l", f"[{address}]:{port}" if ":" in address else f"{address}:{port}"]
        # systemd-socket-activate passes only PATH, TERM, USER and HOME on, and what -E names.
        for name in ("INKAN_STATE_DIR", "INKAN_CONFIG", "NOTIFY_SOCKET"):
            command += ["-E", name]
        command += ["-E", f"WATCHDOG_USEC={WATCHDOG_USEC}", str(BIN_DIR / "inkand")]
        with open(self.out, "ab") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=self.env())
        self.addCleanup(stop_process, proc)
        wait_for(lambda: proc.poll() is None and re.search(r"Listening on .*:%d" % port, self.output()), 10,
                 what="systemd-socket-activate to listen")
        self.assertEqual(self.notify.drain(0.2), [], "nothing may start before the first connection")

        started = time.monotonic()
        status, body = https_get(port, "/v1/status", self.daemon.ca_file, self.daemon.token)
        cold_start = time.monotonic() - started
        self.assertEqual(status, 200, body)
        print(f"\ncold start to first answer (systemd-socket-activate, TLS included): {cold_start * 1000:.0f} ms")
        self.assertIn("version", json.loads(body))

        ready = self.notify.wait_for("READY", "1")
        self.assertIn("socket-activated", ready.get("STATUS", ""))
        for address in addresses:
            with self.subTest(address=address):
                status, _ = https_get(port, "/v1/status", self.daemon.ca_file, self.daemon.token, address=address)
                self.assertEqual(status, 200)
                self.assertIn(f"serving https://{'[::1]' if address == '::1' else address}:{port}/v1", self.output())
        # The card service's view: the virtual card in vpcd slot 0 is counted.
        self.notify.wait_for("STATUS", timeout=10, after=self.notify.messages.index(ready) + 1,
                             pattern=r"serving; [1-9]\d* cards? present in [1-9]\d* readers?")

        # The watchdog is answered from the I/O loop, at half the interval.
        first = self.notify.count("WATCHDOG")
        time.sleep(1.0)
        pings = self.notify.count("WATCHDOG") - first
        self.assertGreaterEqual(pings, 3, "expected a WATCHDOG=1 every 200 ms")
        self.assertLessEqual(pings, 8)

        # inkand is the process systemd-socket-activate started (it execs).
        proc.send_signal(signal.SIGTERM)
        self.notify.wait_for("STOPPING", "1", timeout=10)
        self.assertEqual(proc.wait(15), 0, self.output())
        self.assertNotIn("WATCHDOG", self.notify.drain(0.3)[-1], "no watchdog ping after STOPPING=1")

    def test_idle_exit_and_reactivation(self):
        self.daemon.write_config({"pinentryProgram": None, "idleExitSeconds": 1})
        self.addCleanup(self.daemon.write_config, {"pinentryProgram": None})
        port = free_port()
        unit = SocketUnit(port, self.env(), self.out)
        self.addCleanup(unit.close)

        timings = []
        for round_ in (1, 2):
            with self.subTest(round=round_):
                started = time.monotonic()
                status, body = https_get(port, "/v1/status", self.daemon.ca_file, self.daemon.token)
                timings.append(time.monotonic() - started)
                self.assertEqual(status, 200, body)
                self.assertEqual(len(unit.starts), round_, "one fresh inkand per activation")
                # No connection for 1 s: inkand says it stops, and exits 0.
                stopping = len(self.notify.messages)
                self.notify.wait_for("STOPPING", "1", timeout=10, after=stopping)
                wait_for(lambda: len(unit.exits) == round_, 10, what="inkand to exit when idle")
                self.assertEqual(unit.exits[-1], 0, self.output())
        self.assertEqual(self.output().count("no connection for 1s: exiting"), 2, self.output())
        print(f"\ncold start to first answer (re-activation after idle exit, TLS included): "
              f"{', '.join(f'{t * 1000:.0f} ms' for t in timings)}")

        # An event stream is an open connection: no idle exit while it reads.
        events = EventStream(SimpleNamespace(port=port, token=self.daemon.token, ssl_context=self.daemon.ssl_context))
        self.assertEqual(events.status, 200)
        self.assertEqual(len(unit.starts), 3)
        time.sleep(2.5)
        self.assertIsNotNone(unit.pid, "inkand exited while an event subscriber was connected")
        self.assertEqual(len(unit.exits), 2)
        events.close()
        wait_for(lambda: len(unit.exits) == 3, 10, what="inkand to exit once the event stream closed")

    def test_idle_exit_needs_socket_activation(self):
        # Bound by inkand itself, nothing would start it again: it serves until stopped.
        self.daemon.write_config({"pinentryProgram": None, "idleExitSeconds": 1})
        self.addCleanup(self.daemon.write_config, {"pinentryProgram": None})
        daemon = Inkand(self.work)
        daemon.state = self.daemon.state
        daemon.stdout_path = self.out
        daemon.start()
        try:
            time.sleep(2.0)
            self.assertIsNone(daemon.proc.poll(), daemon.output())
            self.assertIn("applies only when the service manager passes the sockets", daemon.output())
        finally:
            self.assertEqual(daemon.stop(), 0)

    def test_journal_entries_with_inkan_fields(self):
        journal = Journal()
        self.addCleanup(journal.close)
        self.daemon.write_config({"pinentryProgram": None, "noSuchKey": 1})  # one warning
        self.addCleanup(self.daemon.write_config, {"pinentryProgram": None})
        self.out.touch()
        stream = os.stat(self.out)
        daemon = Inkand(self.work, env={"JOURNAL_STREAM": f"{stream.st_dev}:{stream.st_ino}"})
        daemon.state = self.daemon.state
        daemon.stdout_path = self.out
        daemon.start()
        try:
            client = Client(daemon)
            card_id = wait_for(lambda: next((c["id"] for c in client.get("/v1/cards").json()["cards"]
                                              if c["reader"].endswith(" 00 00")), None), 20, what="the virtual card")
            verified = client.post(f"/v1/cards/{card_id}/pin/verify", {"pin": DEMO_PIN})
            self.assertEqual(verified.status, 200, verified)
            request_id = verified.headers["X-Request-Id"]
            refused = client.get("/v1/status", headers={"Origin": "https://elsewhere.example"})
            self.assertEqual(refused.status, 403, refused)

            def entry(message_start):
                return next((e for e in journal.read(daemon.proc.pid) if e.get("MESSAGE", "").startswith(message_start)), None)
            verify = wait_for(lambda: entry(f"POST /v1/cards/{card_id}/pin/verify 200"), 10, what="the verify entry")
            self.assertEqual(verify["INKAN_CARD"], card_id)
            self.assertEqual(verify["INKAN_REQUEST_ID"], request_id)
            self.assertEqual(verify["PRIORITY"], "6")
            self.assertEqual(verify["SYSLOG_IDENTIFIER"], "inkand")
            self.assertNotIn("INKAN_CODE", verify)
            status = wait_for(lambda: entry("GET /v1/status 403"), 10, what="the refused request's entry")
            self.assertEqual(status["INKAN_CODE"], "ORIGIN_FORBIDDEN")
            self.assertEqual(status["INKAN_ORIGIN"], "https://elsewhere.example")
            # The 使用簿's records are mirrored with the same fields, facility authpriv (docs/audit.md).
            def audit_record(event):
                return next((e for e in journal.read(daemon.proc.pid) if e.get("MESSAGE", "").startswith("audit {")
                             and e.get("INKAN_REQUEST_ID") == request_id and f'"event":"{event}"' in e["MESSAGE"]), None)
            intent = wait_for(lambda: audit_record("intent"), 10, what="the verification's intent record")
            self.assertEqual(intent["SYSLOG_FACILITY"], "10")
            self.assertEqual(intent["INKAN_CARD"], card_id)
            self.assertEqual(intent["INKAN_AUDIT_OP"], "pin.verify")
            done = wait_for(lambda: audit_record("done"), 10, what="the verification's done record")
            self.assertNotIn("INKAN_CODE", done)  # outcome ok
            warning = wait_for(lambda: entry("config file"), 10, what="the unknown key's warning")
            self.assertEqual(warning["PRIORITY"], "4")
            # The journal has them instead of stderr; stdout's lines stay.
            output = daemon.output()
            self.assertIn("inkand ready", output)
            self.assertNotIn("/pin/verify 200", output)
        finally:
            self.assertEqual(daemon.stop(), 0)

        # JOURNAL_STREAM naming another stream (stderr redirected since, here
        # to another file): plain lines.
        daemon = Inkand(self.work, env={"JOURNAL_STREAM": f"{stream.st_dev}:{stream.st_ino}"})
        daemon.state = self.daemon.state
        daemon.stdout_path = self.work / "inkand-plain.out"
        daemon.start()
        try:
            Client(daemon).get("/v1/status")
            wait_for(lambda: "GET /v1/status 200" in daemon.output(), 10, what="the plain request line")
        finally:
            self.assertEqual(daemon.stop(), 0)

    def test_a_socket_not_on_loopback_is_refused(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(("0.0.0.0", 0))
        listener.listen(1)
        proc = subprocess.Popen(
            ["/bin/sh", "-c", 'exec 3<&0 0</dev/null; LISTEN_PID=$$ exec "$0"', str(BIN_DIR / "inkand")],
            stdin=listener.fileno(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=self.env(LISTEN_FDS="1"))
        output, _ = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 1, output)
        self.assertIn(b"not on a loopback address: inkand serves this machine only", output)
        self.assertEqual(self.notify.drain(0.2), [], "no READY=1 for a daemon that does not serve")


if __name__ == "__main__":
    unittest.main()
