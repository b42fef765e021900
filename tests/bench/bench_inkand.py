"""inkand benchmarks on the real stack (run on demand: `make bench`; not part of `make test`).

Reports, from one run on this machine:
  - idle CPU and resident memory of inkand with one card present,
  - request latency of GET /v1/status (new TLS connection per request and keep-alive),
  - signature latency through the API versus the card's own time (APDU log timestamps),
  - memory after the load (growth = leak suspicion).
Ratios within the run are what to compare across commits; absolute numbers are noisy.
"""

import fcntl
import hashlib
import http.client
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from harness import ARTIFACTS, STACK_LOCK, Client, Inkand, Pcscd, VirtualCard, b64  # noqa: E402


def proc_stat(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss_kib = int(next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("VmRSS")).split()[1])
    return cpu, rss_kib


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    lock = open(STACK_LOCK, "w")  # pcscd and vpcd slot 0 are shared with the integration tests
    fcntl.flock(lock, fcntl.LOCK_EX)
    work = ARTIFACTS / f"bench-{int(time.time())}"
    work.mkdir(parents=True)
    pcscd = Pcscd(work)
    pcscd.ensure()
    card = VirtualCard(work)
    card.start()
    daemon = Inkand(work)
    daemon.start()
    client = Client(daemon)
    try:
        card_id = None
        for _ in range(200):
            cards = client.get("/v1/cards").json()["cards"]
            if cards:
                card_id = cards[0]["id"]
                break
            time.sleep(0.1)
        assert card_id, "no card"
        pid = daemon.proc.pid

        time.sleep(2)
        cpu0, rss_idle = proc_stat(pid)
        time.sleep(10)
        cpu1, _ = proc_stat(pid)
        idle_cpu_pct = (cpu1 - cpu0) / 10 * 100

        cold = []
        for _ in range(200):
            t = time.perf_counter()
            assert client.get("/v1/status").status == 200
            cold.append((time.perf_counter() - t) * 1000)

        conn = http.client.HTTPSConnection("127.0.0.1", daemon.port, context=daemon.ssl_context())
        warm = []
        for _ in range(2000):
            t = time.perf_counter()
            conn.request("GET", "/v1/status", headers={"Authorization": f"Bearer {daemon.token}"})
            r = conn.getresponse()
            r.read()
            assert r.status == 200
            warm.append((time.perf_counter() - t) * 1000)
        conn.close()

        signs = []
        card_times = []
        for i in range(30):
            before = len(card.apdu_lines())
            t = time.perf_counter()
            r = client.post(f"/v1/cards/{card_id}/sign", {"digest": b64(hashlib.sha256(str(i).encode()).digest()),
                                                         "digestAlgorithm": "SHA-256", "pin": "1234"})
            assert r.status == 200, r
            signs.append((time.perf_counter() - t) * 1000)
            lines = card.apdu_lines()[before:]
            stamps = [datetime.fromisoformat(l.split()[0].replace("Z", "+00:00")) for l in lines]
            card_times.append((stamps[-1] - stamps[0]).total_seconds() * 1000 if len(stamps) > 1 else 0)

        _, rss_after = proc_stat(pid)
        print("inkand benchmark (one run, this machine)")
        print(f"  idle CPU with one card:          {idle_cpu_pct:.2f} % of one core over 10 s")
        print(f"  RSS idle / after load:           {rss_idle / 1024:.1f} MiB / {rss_after / 1024:.1f} MiB")
        print(f"  GET /v1/status, new TLS conn:    p50 {statistics.median(cold):.2f} ms  p95 {pct(cold, .95):.2f} ms")
        print(f"  GET /v1/status, keep-alive:      p50 {statistics.median(warm):.3f} ms  p95 {pct(warm, .95):.3f} ms")
        print(f"  sign via API:                    p50 {statistics.median(signs):.1f} ms")
        print(f"  of which between first and last APDU at the card: p50 {statistics.median(card_times):.1f} ms")
        print(f"  ratio new-connection / keep-alive status: {statistics.median(cold) / statistics.median(warm):.1f}x")
    finally:
        daemon.stop()
        card.stop()
        if pcscd.owned:
            pcscd.stop()


if __name__ == "__main__":
    main()
