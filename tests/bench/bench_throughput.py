"""Requests per second of inkand's listings beside nginx serving the same bytes
(run on demand: `make bench`; not part of `make test`).

One run starts the real stack (pcscd, one virtual card, inkand) and Debian's
nginx-light (one worker, TLS with an ECDSA P-256 certificate like inkand's and
OpenSSL's default key-exchange groups, as inkand uses) serving, as static
files, the exact bodies inkand answered for GET /v1/access, /v1/cards and
/v1/status. wrk (Debian) then drives each URL of each server in turn with the
same load: 1 thread, 16 keep-alive connections, BENCH_SECONDS (default 10).
Only 127.0.0.1 is used; every run is bounded by its duration.

Prints requests/s and the ratio inkand / nginx per path; the ratios, taken
within one run, are what docs/benchmarks.md reports. Exit status 1 when
/v1/cards is below half of nginx's rate (the target of the listings' design).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from harness import ARTIFACTS, STACK_LOCK, Client, Inkand, Pcscd, VirtualCard, free_port, wait_for, port_listening  # noqa: E402

PATHS = ("/v1/access", "/v1/cards", "/v1/status")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
THREADS, CONNECTIONS = 1, 16
CARDS_TARGET = 0.5  # /v1/cards at least half of nginx's rate

NGINX_CONF = """worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    types {{ }}
    default_type application/json;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {work}/nginx-cert.pem;
        ssl_certificate_key {work}/nginx-key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        root {work}/static;
        location / {{ try_files $uri =404; }}
    }}
}}
"""


def wrk(url: str, token: str | None) -> float:
    args = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=SECONDS + 60, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise AssertionError(f"{url}: {errors.group(1)} answers were not 2xx:\n{out}")
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))


def start_nginx(work: Path, bodies: dict[str, bytes]) -> tuple[subprocess.Popen, int]:
    for path, body in bodies.items():
        target = work / "static" / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(work / "nginx-key.pem"), "-out", str(work / "nginx-cert.pem")],
                   check=True, capture_output=True)
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(work=work, port=port))
    nginx = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin")
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)], stderr=open(work / "nginx-stderr.log", "wb"))
    wait_for(lambda: port_listening(port), 10, what="nginx to listen")
    return proc, port


def main() -> int:
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin"):
            print(f"bench_throughput: {tool} is missing (Debian nginx-light, wrk: scripts/install-deps.sh)", file=sys.stderr)
            return 1
    lock = open(STACK_LOCK, "w")  # pcscd and vpcd slot 0 are shared with the integration tests
    fcntl.flock(lock, fcntl.LOCK_EX)
    work = ARTIFACTS / f"bench-throughput-{int(time.time())}"
    work.mkdir(parents=True)
    pcscd = Pcscd(work)
    pcscd.ensure()
    card = VirtualCard(work)
    card.start()
    daemon = Inkand(work)
    daemon.start()
    nginx = None
    try:
        client = Client(daemon)
        wait_for(lambda: client.get("/v1/cards").json()["cards"], 20, what="inkand to list the card")
        bodies = {}
        for path in PATHS:
            response = client.get(path)
            assert response.status == 200, response
            bodies[path] = response.body
        nginx, nginx_port = start_nginx(work, bodies)

        print(f"listing throughput, one run: wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s, keep-alive, TLS, 127.0.0.1")
        print(f"  {'path':<12} {'bytes':>6} {'inkand req/s':>13} {'nginx req/s':>12} {'ratio':>6}")
        ratios = {}
        for path in PATHS:
            ours = wrk(f"https://127.0.0.1:{daemon.port}{path}", daemon.token)
            theirs = wrk(f"https://127.0.0.1:{nginx_port}{path}", None)
            ratios[path] = ours / theirs
            print(f"  {path:<12} {len(bodies[path]):>6} {ours:>13,.0f} {theirs:>12,.0f} {ratios[path]:>5.2f}x")
        if ratios["/v1/cards"] < CARDS_TARGET:
            print(f"  /v1/cards below {CARDS_TARGET}x nginx", file=sys.stderr)
            return 1
        return 0
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        daemon.stop()
        card.stop()
        if pcscd.owned:
            pcscd.stop()


if __name__ == "__main__":
    sys.exit(main())
