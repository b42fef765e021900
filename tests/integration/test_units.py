"""The systemd user units (packaging/systemd, docs/service.md) as systemd
itself reads them: `systemd-analyze verify` finds nothing wrong (the binary
they start and the man page they name included), and `systemd-analyze
security --offline=true --user` scores the service's exposure at most 2.5.

The units are checked with ExecStart= pointing at the built inkand;
test_package.py checks the installed ones, man pages included.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import BIN_DIR, REPO

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
UNITS = REPO / "packaging" / "systemd"
MAX_EXPOSURE = 2.5


def analyze_env(runtime_dir: Path, manpath: Path | None = None) -> dict:
    # systemd-analyze --user wants a runtime directory even offline.
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime_dir))
    if manpath is not None:
        env["MANPATH"] = str(manpath)
    return env


def check_units(test: unittest.TestCase, unit_dir: Path, inkand: Path, manpath: Path | None, work: Path) -> float:
    """Copy the units with ExecStart= set to `inkand`, verify them (with the
    man pages they name, when `manpath` is given), return the service's exposure."""
    runtime = work / "runtime"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    checked = work / "units"
    checked.mkdir(parents=True, exist_ok=True)
    for name in ("inkand.socket", "inkand.service"):
        text = (unit_dir / name).read_text()
        (checked / name).write_text(re.sub(r"^ExecStart=\S+", f"ExecStart={inkand}", text, flags=re.M))
    env = analyze_env(runtime, manpath)
    verify = subprocess.run([SYSTEMD_ANALYZE, "verify", "--user", f"--man={'yes' if manpath else 'no'}",
                             str(checked / "inkand.socket"), str(checked / "inkand.service")],
                            capture_output=True, text=True, env=env, timeout=120)
    test.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
    test.assertEqual(verify.stdout + verify.stderr, "", "systemd-analyze verify has something to say")
    security = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=true", "--user", "--no-pager",
                               str(checked / "inkand.service")],
                              capture_output=True, text=True, env=env, timeout=120)
    match = re.search(r"Overall exposure level for inkand\.service: (\d+\.\d)", security.stdout)
    test.assertIsNotNone(match, security.stdout + security.stderr)
    return float(match.group(1))


class UnitsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if SYSTEMD_ANALYZE is None:
            raise unittest.SkipTest("systemd-analyze is missing (Debian package systemd; scripts/install-deps.sh)")

    def setUp(self):
        self.work = Path(tempfile.mkdtemp(prefix="units-"))
        self.addCleanup(shutil.rmtree, self.work, True)
        self.manpath = None

    def test_units_verify_and_score_at_most_2_5(self):
        exposure = check_units(self, UNITS, BIN_DIR / "inkand", self.manpath, self.work)
        print(f"\nsystemd-analyze security --offline=true --user inkand.service: {exposure}")
        self.assertLessEqual(exposure, MAX_EXPOSURE)

    def test_the_check_fails_for_the_old_unit(self):
        # A check that cannot fail is no check: the unit inkan shipped before
        # (Type=simple, only NoNewPrivileges=yes) scores far above 2.5.
        old = self.work / "old"
        old.mkdir()
        (old / "inkand.socket").write_text((UNITS / "inkand.socket").read_text())
        (old / "inkand.service").write_text(
            "[Unit]\nDescription=inkan\nDocumentation=man:inkand(8)\n\n"
            "[Service]\nType=simple\nExecStart=/usr/bin/inkand\nNoNewPrivileges=yes\n")
        self.assertGreater(check_units(self, old, BIN_DIR / "inkand", self.manpath, self.work / "old"), MAX_EXPOSURE)

    def test_service_settings_the_daemon_relies_on(self):
        service = (UNITS / "inkand.service").read_text()
        for setting in ("Type=notify", "WatchdogSec=", "StateDirectory=inkan", "ConfigurationDirectory=inkan",
                        "Requires=inkand.socket"):
            self.assertIn(setting, service)
        # The peer check (sock_diag), pcscd/journal/D-Bus and TCP must stay reachable.
        families = re.search(r"^RestrictAddressFamilies=(.*)$", service, re.M).group(1).split()
        self.assertEqual(sorted(families), ["AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNIX"])
        socket_unit = (UNITS / "inkand.socket").read_text()
        self.assertEqual(re.findall(r"^ListenStream=(.*)$", socket_unit, re.M), ["127.0.0.1:24713", "[::1]:24713"])


if __name__ == "__main__":
    unittest.main()
