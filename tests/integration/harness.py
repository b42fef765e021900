"""The real stack for integration tests: pcscd + vpcd + inkan-vcard + inkand.

Nothing here is mocked. pcscd is the system's (started here when none runs and
stopped again at the end), the virtual card is tools/vcard speaking the vpcd
protocol, inkand is the built daemon, and every HTTPS call verifies the server
certificate against the local CA that inkand created.

Besides the Python standard library and the openssl command, only Debian's
python3-yaml and python3-jsonschema are used: every answer a Client receives
is checked against openapi.yaml (contract.py), and a mismatch fails the test.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import http.client
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import contract

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("INKAN_BIN_DIR", REPO / "build" / "bin"))
BUILD_DIR = Path(os.environ.get("INKAN_BUILD_DIR", BIN_DIR.parent))
ARTIFACTS = BUILD_DIR / "test-artifacts"

VPCD_PORT = 35963  # /etc/reader.conf.d/vpcd: slot 0
VPCD_PORT_2 = 35964  # slot 1
VPINPAD_PORT = 35970  # tools/vpinpad: the virtual reader with a PIN pad
VPINPAD_DRIVER = BUILD_DIR / "lib" / "libinkan-vpinpad.so"
STACK_LOCK = "/tmp/inkan-integration-stack.lock"
CHROMIUM = Path(os.environ.get("INKAN_CHROMIUM", "/usr/bin/chromium"))
# Only a safety net: the wait ends when pcscd is ready or has exited.
PCSCD_START_TIMEOUT = 120
DEMO_PIN = "1234"
DEMO_UNBLOCK = "12345678"
# The virtual JPKI card (inkan-vcard --profile jpki, docs/jpki.md) and its demo PINs.
JPKI_CARD_ARGS = ("--profile", "jpki")
JPKI_DEMO_AUTH_PIN = "1234"
JPKI_DEMO_SIGN_PIN = "ABC123"

DIGESTS = {"SHA-256": hashlib.sha256, "SHA-384": hashlib.sha384, "SHA-512": hashlib.sha512}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


class NotApplicable(unittest.SkipTest):
    """A test that cannot apply to this machine at all (not a missing
    dependency): run_module.py lets it stay a skip under CI=true."""

    def __init__(self, reason: str):
        super().__init__("not applicable: " + reason)


def run_node_tests(files, *, cwd: Path, env: dict, log_name: str, timeout: int, context=lambda: "") -> str:
    """Runs `node --test` on `files` (spec reporter) and returns its report.
    A failing run fails the calling test, with `context()` appended (e.g. the
    daemon's log); a run with skipped tests skips it (SkipTest), which
    run_module.py turns into a failure under CI=true."""
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        raise unittest.SkipTest("node is not installed (scripts/install-deps.sh installs it)")
    result = subprocess.run([node, "--test", "--test-reporter=spec", *map(str, files)], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
    report = result.stdout + result.stderr
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / log_name).write_text(report)
    print(report)
    if result.returncode != 0:
        raise AssertionError(f"node --test failed ({result.returncode}):\n{report}\n{context()}")
    skipped = [int(n) for n in re.findall(r"^\S*\s*skipped (\d+)$", report, re.MULTILINE)]
    if not skipped:
        raise AssertionError(f"node --test printed no summary:\n{report}")
    if skipped[-1] > 0:
        raise unittest.SkipTest(f"{skipped[-1]} node test(s) skipped; see {ARTIFACTS / log_name}")
    return report


class StopWaiting(AssertionError):
    """Raised by a wait_for predicate when waiting longer cannot help."""


def require_browser() -> None:
    """The browser tests' tools, installed by scripts/install-deps.sh and `npm ci`
    (make build): a missing one skips the test, which under CI=true fails it."""
    missing = [what for what, ok in (
        ("node", shutil.which("node")),
        ("certutil (libnss3-tools)", shutil.which("certutil")),
        (f"{CHROMIUM} (Debian package chromium)", CHROMIUM.exists()),
        ("playwright-core (npm ci)", (REPO / "node_modules" / "playwright-core").exists()),
    ) if not ok]
    if missing:
        raise unittest.SkipTest("the browser test needs " + ", ".join(missing))


def browser_home(work: Path) -> tuple[Path, Path]:
    """A scratch HOME for Chromium and its empty NSS database ($HOME/.pki/nssdb,
    where Chromium looks for the certificates a user trusts)."""
    home = work / "home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "--empty-password", "-d", f"sql:{nssdb}"], check=True, capture_output=True)
    return home, nssdb


def wait_for(predicate, timeout=20.0, interval=0.1, what="condition"):
    """Poll `predicate` until it returns a truthy value; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except StopWaiting:
            raise
        except Exception as e:  # noqa: BLE001 - remembered for the failure message
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_error!r})" if last_error else ""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen | None, sig=signal.SIGTERM, timeout=10) -> int:
    """Ask `proc` to end with `sig`, kill it after `timeout` seconds; its exit code (0 when none ran)."""
    if proc is None:
        return 0
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def pcscd_running() -> bool:
    return subprocess.run(["pgrep", "-x", "pcscd"], stdout=subprocess.DEVNULL).returncode == 0


class Pcscd:
    """pcscd with the vpcd driver. Owned (and restartable) only if we started it.

    With `keypad`, pcscd also loads the virtual PIN pad reader (tools/vpinpad,
    listening for its card on VPINPAD_PORT); `keypad` is the file the test
    "types" into: one line per entry (digits, CANCEL or TIMEOUT)."""

    def __init__(self, log_dir: Path, keypad: Path | None = None):
        self.log_dir = log_dir
        self.keypad = keypad
        self.proc: subprocess.Popen | None = None
        self.owned = False

    def ensure(self):
        # Another test process's pcscd may be stopping (pgrep still sees it) or
        # starting (not listening yet): wait until it listens for vpcd or is gone.
        deadline = time.monotonic() + 15
        while pcscd_running() and time.monotonic() < deadline:
            if port_listening(VPCD_PORT):
                if self.keypad and not port_listening(VPINPAD_PORT):
                    raise AssertionError("a pcscd the tests did not start runs without the virtual PIN pad reader; "
                                         "stop it (the tests start their own)")
                return
            time.sleep(0.2)
        if pcscd_running():
            raise AssertionError("pcscd runs but does not listen for vpcd on port 35963")
        self.start()

    def reader_conf_dir(self) -> Path:
        """The system's reader.conf.d (vpcd), plus the PIN pad reader's entry."""
        conf = self.log_dir / "reader.conf.d"
        conf.mkdir(exist_ok=True)
        for entry in Path("/etc/reader.conf.d").iterdir():
            if entry.is_file():
                shutil.copy(entry, conf / entry.name)
        if not VPINPAD_DRIVER.exists():
            raise AssertionError(f"{VPINPAD_DRIVER} is missing: run `make build` first")
        (conf / "inkan-vpinpad").write_text(
            'FRIENDLYNAME "Inkan Virtual PinPad"\n'
            f"DEVICENAME   {VPINPAD_PORT}:{self.keypad}\n"
            f"LIBPATH      {VPINPAD_DRIVER}\n"
            "CHANNELID    0\n")
        return conf

    def start(self, attempts: int = 2):
        args = ["pcscd", "--foreground", "--error"]
        if self.keypad:
            args += ["--config", str(self.reader_conf_dir())]
        with open(self.log_dir / "pcscd.log", "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self.owned = True
        # Ready when it listens for its card readers' cards: vpcd's slot, and
        # the PIN pad reader's when asked for. A slow machine takes as long
        # as it takes; a pcscd that exits instead fails at once, with its log.
        ports = [VPCD_PORT] + ([VPINPAD_PORT] if self.keypad else [])
        ready = lambda: self.alive() and Path("/run/pcscd/pcscd.comm").exists() and all(map(port_listening, ports))
        what = "pcscd to load its readers (vpcd" + (", the virtual PIN pad" if self.keypad else "") + ")"
        try:
            wait_for(ready, PCSCD_START_TIMEOUT, what=what)
        except StopWaiting:
            raise
        except AssertionError as timeout:
            # Seen once in a fresh Debian root: pcscd alive but a reader never
            # listening. Say what it was missing and what it logged, then try
            # once more with a new pcscd before failing the class.
            state = {"pcscd.comm": Path("/run/pcscd/pcscd.comm").exists(),
                     **{f"port {port}": port_listening(port) for port in ports}}
            log = (self.log_dir / "pcscd.log").read_text(errors="replace")[-2000:]
            print(f"pcscd not ready: {state}; its log:\n{log}", file=sys.stderr)
            self.stop()
            if attempts <= 1:
                raise AssertionError(f"{timeout} ({state})") from None
            self.start(attempts - 1)

    def alive(self) -> bool:
        """True while the pcscd started here runs; raises with its log once it has exited."""
        if self.proc.poll() is None:
            return True
        log = (self.log_dir / "pcscd.log").read_text(errors="replace")
        raise StopWaiting(f"pcscd exited ({self.proc.returncode}) while starting:\n{log[-4000:]}")

    def stop(self):
        stop_process(self.proc)
        self.proc = None

    def restart(self):
        if not self.owned:
            raise unittest.SkipTest("pcscd was not started by the tests; not restarting someone else's")
        self.stop()
        self.start()


def port_listening(port: int) -> bool:
    """Whether a TCP socket listens on `port`, read from /proc/net/tcp{,6}: a
    test connection would look like a card inserted into vpcd's slot."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                    return True
    return False


class VirtualCard:
    """inkan-vcard connected to a vpcd slot; its APDU log tells what reached the card."""

    def __init__(self, work: Path, name="vcard", port=VPCD_PORT, extra_args=()):
        self.state = work / f"{name}-state"
        self.log = work / f"{name}-apdu.log"
        self.stderr = work / f"{name}.stderr"
        self.port = port
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None

    def start(self):
        self.state.mkdir(exist_ok=True)
        args = [str(BIN_DIR / "inkan-vcard"), "--state", str(self.state), "--port", str(self.port), "--log", str(self.log)] + self.extra_args
        with open(self.stderr, "ab") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        wait_for(lambda: self.log.exists() and "connected" in self.log.read_text(), 15, what="the virtual card to connect to vpcd")

    def stop(self):
        stop_process(self.proc)
        self.proc = None

    def remove(self):
        self.proc.send_signal(signal.SIGUSR1)

    def insert(self):
        self.proc.send_signal(signal.SIGUSR2)

    def apdu_lines(self) -> list[str]:
        """Every APDU exchanged so far (control events, marked '#', left out).
        The log exists from the card's start on: failing to read it fails the
        test, since a count of 0 would pass every "nothing reached the card"."""
        return [line for line in self.log.read_text().splitlines() if line.strip() and " # " not in line]

    def apdu_count(self) -> int:
        return len(self.apdu_lines())


class Inkand:
    """The daemon under test, on a free port with its own state directory."""

    def __init__(self, work: Path, extra_args=(), env=None):
        self.state = work / "inkand-state"
        self.stdout_path = work / "inkand.out"
        self.port = free_port()
        self.extra_args = list(extra_args)
        self.env = env or {}
        self.proc: subprocess.Popen | None = None

    def start(self, wait=True):
        self.state.mkdir(exist_ok=True)
        self.output_offset = len(self.output())  # a restart appends: look only at this run's lines
        env = dict(os.environ, INKAN_STATE_DIR=str(self.state), INKAN_CONFIG=str(self.state / "inkand.json"), **self.env)
        with open(self.stdout_path, "ab") as out:
            self.proc = subprocess.Popen([str(BIN_DIR / "inkand"), "--port", str(self.port)] + self.extra_args,
                                         stdout=out, stderr=subprocess.STDOUT, env=env)
        if wait:
            wait_for(lambda: self._ready(), 20, what="inkand ready")

    def _ready(self):
        if self.proc.poll() is not None:
            raise StopWaiting(f"inkand exited with {self.proc.returncode}:\n{self.output()}")
        return "inkand ready" in self.output()[self.output_offset:]

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stop(self, sig=signal.SIGTERM, timeout=15) -> int:
        return stop_process(self.proc, sig, timeout)

    def written(self) -> dict[str, bytes]:
        """Everything inkand itself has written: its stdout and stderr (one
        file) and every file of its state directory, by name."""
        files = {"inkand output": self.stdout_path.read_bytes()}
        for path in sorted(self.state.rglob("*")):
            if path.is_file():
                files[str(path.relative_to(self.state))] = path.read_bytes()
        return files

    def assert_secrets_not_written(self, secrets, also: dict[str, bytes] | None = None):
        """Fails when one of `secrets` appears, as text, in ASCII hex or in
        base64, in what inkand wrote (written()) or in `also` (what the test
        received from it: answers, the event stream). Use secrets long and
        random enough not to occur by chance in keys, tokens or serials."""
        places = {**self.written(), **(also or {})}
        for secret in secrets:
            raw = secret.encode()
            forms = {raw, raw.hex().encode(), raw.hex().upper().encode(), base64.b64encode(raw).rstrip(b"=")}
            for name, content in places.items():
                for form in forms:
                    if form in content:
                        raise AssertionError(f"a secret ({len(secret)} characters) appears in {name} as {form[:4]!r}...")

    def write_config(self, config: dict):
        """inkand's config file (read at the next start)."""
        self.state.mkdir(exist_ok=True)
        (self.state / "inkand.json").write_text(json.dumps(config))

    @property
    def token(self) -> str:
        return (self.state / "token").read_text().strip()

    @property
    def ca_file(self) -> Path:
        return self.state / "tls" / "ca.pem"

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        ctx.check_hostname = True
        return ctx


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Client:
    """HTTPS client for inkand with certificate verification against its local CA.

    Requests other than GET carry `Inkan-Client: inkan-tests` (every non-GET must);
    pass inkan_client=None, or headers={"Inkan-Client": None}, to leave it out.
    """

    def __init__(self, daemon: Inkand, token: str | None = "default", host: str | None = None, server_hostname="127.0.0.1",
                 inkan_client: str | None = "inkan-tests"):
        self.daemon = daemon
        self.token = daemon.token if token == "default" else token
        self.host = host
        self.server_hostname = server_hostname
        self.inkan_client = inkan_client

    def request(self, method: str, path: str, body=None, headers=None, raw_body: bytes | None = None, timeout=60) -> Response:
        conn = http.client.HTTPSConnection(self.server_hostname, self.daemon.port, context=self.daemon.ssl_context(), timeout=timeout)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", self.host or f"127.0.0.1:{self.daemon.port}")
            hdrs = {}
            if self.token is not None:
                hdrs["Authorization"] = f"Bearer {self.token}"
            if method not in ("GET", "OPTIONS") and self.inkan_client is not None:
                hdrs["Inkan-Client"] = self.inkan_client
            data = raw_body
            if body is not None:
                data = json.dumps(body).encode()
                hdrs["Content-Type"] = "application/json"
            hdrs.update(headers or {})
            if data is not None:
                hdrs["Content-Length"] = str(len(data))
            for k, v in hdrs.items():
                if v is not None:
                    conn.putheader(k, v)
            conn.endheaders(data)
            r = conn.getresponse()
            response = Response(r.status, r.headers, r.read())
        finally:
            conn.close()
        # The contract holds for every answer, whatever the test asserts on it.
        contract.check_response(method, path, response.status, response.headers, response.body)
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body if body is not None else {}, **kw)


def documented_apdus(label: str) -> int:
    """The APDU count docs/benchmarks.md ("APDU economy") gives in the table row
    that starts with `label`: the tests that measure a count check it there."""
    text = (REPO / "docs" / "benchmarks.md").read_text()
    found = re.search(r"^\| " + re.escape(label) + r" \| (\d+) \|", text, re.MULTILINE)
    if not found:
        raise AssertionError(f"docs/benchmarks.md has no row '| {label} | N |'")
    return int(found.group(1))


def verify_signature(cert_der: bytes, digest: bytes, signature: bytes, algorithm: str, work: Path) -> subprocess.CompletedProcess:
    """Verify an RSASSA-PKCS1-v1_5 signature over `digest` with the real openssl command."""
    cert_pem = work / "verify-cert.pem"
    cert_pem.write_text(ssl.DER_cert_to_PEM_cert(cert_der))
    (work / "verify-digest.bin").write_bytes(digest)
    (work / "verify-sig.bin").write_bytes(signature)
    md = algorithm.replace("-", "").lower()
    return subprocess.run(["openssl", "pkeyutl", "-verify", "-certin", "-inkey", str(cert_pem), "-in", str(work / "verify-digest.bin"),
                           "-sigfile", str(work / "verify-sig.bin"), "-pkeyopt", f"digest:{md}"], capture_output=True, text=True)


# ---- the inkan command line, as a user runs it -----------------------------

def run_inkan(*args, stdin: str | None = None, env_extra=None, cwd=None) -> subprocess.CompletedProcess:
    """Runs inkan; stdin is a pipe (so secrets are read as lines) or /dev/null."""
    env = {k: v for k, v in os.environ.items() if k not in ("INKAN_STATE_DIR", "XDG_STATE_HOME")}
    env.update(env_extra or {})
    return subprocess.run([str(BIN_DIR / "inkan"), *map(str, args)], input=stdin if stdin is not None else None,
                          stdin=None if stdin is not None else subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def run_on_terminal(*args, answers=(), prompt_end=b": ", timeout=60.0) -> tuple[int, str]:
    """Runs inkan with a pseudo-terminal as its controlling terminal and stdin/stdout/stderr.

    Each answer is typed after the next prompt (output ending in `prompt_end`) appears.
    Returns the exit code and everything the terminal displayed.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("INKAN_STATE_DIR", "XDG_STATE_HOME")}
    pid, master = pty.fork()
    if pid == 0:  # the child: pty.fork made the pty its controlling terminal
        os.execve(str(BIN_DIR / "inkan"), [str(BIN_DIR / "inkan"), *map(str, args)], env)
    transcript, pending, answered_at = b"", list(answers), -1
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                transcript += data
            if pending and transcript.endswith(prompt_end) and len(transcript) != answered_at:
                answered_at = len(transcript)
                os.write(master, pending.pop(0).encode() + b"\n")
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(master)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), transcript.decode(errors="replace")


class CardTestCase(unittest.TestCase):
    """pcscd (shared) and one virtual card, no inkand: for tests that drive the
    card with other software (OpenSC). Holds the stack lock like StackTestCase."""

    vcard_args: tuple = ()
    # The class's card sits in the virtual PIN pad reader instead of vpcd slot 0.
    pinpad_reader = False
    binaries: tuple = ("inkan-vcard",)
    # Wait until pcscd has powered the card up (cls.reader, cls.atr) before the tests run.
    wait_for_pcscd = True

    @classmethod
    def setUpClass(cls):
        for binary in cls.binaries:
            if not (BIN_DIR / binary).exists():
                raise AssertionError(f"{BIN_DIR / binary} is missing: run `make build` first")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        # pcscd and vpcd slot 0 are machine-wide: one stack at a time, across processes.
        cls._stack_lock = open(STACK_LOCK, "w")
        fcntl.flock(cls._stack_lock, fcntl.LOCK_EX)
        cls.work = Path(tempfile.mkdtemp(prefix=f"{cls.__name__}-", dir=ARTIFACTS))
        cls.keypad = cls.work / "keypad" if cls.pinpad_reader else None
        cls.pcscd = Pcscd(cls.work, keypad=cls.keypad)
        cls.vcard = VirtualCard(cls.work, port=VPINPAD_PORT if cls.pinpad_reader else VPCD_PORT, extra_args=cls.vcard_args)
        try:
            cls.pcscd.ensure()
            cls.vcard.start()
            if cls.wait_for_pcscd:
                cls.reader, cls.atr = cls.wait_for_pcsc_card()
        except BaseException:
            # A half-started stack must not hold the vpcd slot for the next test class.
            cls.tearDownClass()
            raise

    @classmethod
    def wait_for_pcsc_card(cls, timeout=20.0) -> tuple[str, str]:
        """(reader name, ATR hex) of vpcd slot 0 once pcscd has powered the card
        up and read its ATR: a client connecting before then finds the reader
        empty or the card unknown."""
        def powered():
            if " # atr" not in cls.vcard.log.read_text():
                return None
            out = subprocess.run([sys.executable, str(REPO / "scripts" / "pcsc-cards.py")],
                                 capture_output=True, text=True, timeout=10).stdout
            for line in out.splitlines():
                reader, _, atr = line.partition("\t")
                if reader.endswith(" 00 00") and atr.strip():
                    return reader, atr.strip()
            return None
        return wait_for(powered, timeout, what="pcscd to power up the virtual card in vpcd slot 0")

    @classmethod
    def tearDownClass(cls):
        cls.vcard.stop()
        if cls.pcscd.owned:
            cls.pcscd.stop()
        fcntl.flock(cls._stack_lock, fcntl.LOCK_UN)
        cls._stack_lock.close()
        # Keep logs of failures; throw away the rest.
        if os.environ.get("INKAN_KEEP_ARTIFACTS") != "1":
            shutil.rmtree(cls.work, ignore_errors=True)


class StackTestCase(CardTestCase):
    """One real stack per test class: pcscd (shared), one virtual card, one inkand."""

    binaries = ("inkand", "inkan-vcard")
    wait_for_pcscd = False  # inkand listing the card is the wait (wait_for_card)
    inkand_args: tuple = ()
    # Written as inkand's config file (<state>/inkand.json) before it starts.
    # PIN and pairing dialogs are off unless the class names a pinentry program:
    # whichever /usr/bin/pinentry the machine has (pinentry-tty answers "no"
    # without a terminal) must not decide a test's outcome.
    inkand_config: dict | None = None
    # Added to inkand's environment (e.g. a PKCS#11 module's own settings).
    inkand_env: dict | None = None

    @classmethod
    def setUpClass(cls):
        cls.daemon = None
        super().setUpClass()
        cls.daemon = Inkand(cls.work, extra_args=cls.inkand_args, env=cls.inkand_env)
        cls.daemon.write_config({"pinentryProgram": None, **(cls.inkand_config or {})})
        try:
            cls.daemon.start()
            cls.client = Client(cls.daemon)
            cls.card_id = cls.wait_for_card()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.daemon is not None:
            cls.daemon.stop()
        super().tearDownClass()

    @classmethod
    def replace_vcard(cls, extra_args=()) -> None:
        """Swap the card in slot 0, as a user would: the class's virtual card is
        taken out and a new inkan-vcard with `extra_args` (e.g. another --cert
        with the same --serial) is put in. It then is the class's card."""
        cls.vcard.stop()
        cls._vcard_generation = getattr(cls, "_vcard_generation", 0) + 1
        cls.vcard = VirtualCard(cls.work, name=f"vcard{cls._vcard_generation}", extra_args=extra_args)
        cls.vcard.start()

    @classmethod
    def wait_for_card(cls, timeout=20.0) -> str:
        """The id of this class's virtual card (the one in vpcd slot 0)."""
        def our_card():
            r = cls.client.get("/v1/cards")
            cards = r.json().get("cards", []) if r.status == 200 else []
            return next((c["id"] for c in cards if c["reader"].endswith(" 00 00")), None)
        return wait_for(our_card, timeout, what="inkand to list the virtual card")

    def take_card_out(self) -> None:
        """The class's card taken out of vpcd slot 0, once inkand has seen it go."""
        self.vcard.stop()
        wait_for(lambda: not any(c["reader"].endswith(" 00 00") for c in self.client.get("/v1/cards").json()["cards"]),
                 what="inkand to see the card removed")

    def put_card_back(self) -> None:
        """The class's card put back; inkand reads it anew."""
        self.vcard.start()
        type(self).card_id = self.wait_for_card()

    def assertProblem(self, response: Response, status: int, code: str):
        self.assertEqual(response.status, status, response)
        self.assertTrue(response.content_type.startswith("application/problem+json"), response.content_type)
        problem = response.json()
        self.assertEqual(problem["code"], code, problem)
        self.assertEqual(problem["status"], status)
        self.assertTrue(problem.get("title"))
        return problem

    def sign(self, digest: bytes, algorithm="SHA-256", pin=DEMO_PIN, card_id=None, **extra) -> Response:
        body = {"digest": b64(digest), "digestAlgorithm": algorithm, **extra}
        if pin is not None:
            body["pin"] = pin
        return self.client.post(f"/v1/cards/{card_id or self.card_id}/sign", body)

    def pin_status(self) -> dict:
        r = self.client.get(f"/v1/cards/{self.card_id}/pin")
        self.assertEqual(r.status, 200, r)
        return r.json()


class JpkiCardState:
    """For stack test classes on the virtual JPKI card (mixed in before the
    StackTestCase): its try counters as its state directory holds them, set by
    taking the card out, editing them and putting it back; every test leaves
    the demo card's full counters behind."""

    FULL_TRIES = {"auth": 3, "sign": 5}

    def tries_in_state(self) -> dict[str, int]:
        state = json.loads((self.vcard.state / "jpki-card.json").read_text())
        return {name: pin["triesLeft"] for name, pin in state["pins"].items()}

    def set_tries(self, **tries: int) -> None:
        """The card taken out, its counters edited, put back in (as after other
        software spent tries); inkand reads it anew."""
        self.take_card_out()
        path = self.vcard.state / "jpki-card.json"
        state = json.loads(path.read_text())
        for name, left in tries.items():
            state["pins"][name]["triesLeft"] = left
        path.write_text(json.dumps(state))
        self.put_card_back()

    def reinsert(self) -> None:
        """The card taken out and put back: the signing certificate locked again
        until its PIN is verified."""
        self.set_tries()

    def tearDown(self):
        if self.tries_in_state() != self.FULL_TRIES:
            self.set_tries(**self.FULL_TRIES)
        super().tearDown()
