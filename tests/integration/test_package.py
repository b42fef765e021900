"""`make deb` (scripts/make-deb.sh, debian/): the Debian package is built from
the tested build tree with dpkg-buildpackage, lintian reports no error and no
warning, it holds what docs/service.md says (and nothing of the tests), its
dependencies are declared, and once extracted into a scratch root its inkand
and inkan run from there and its units pass systemd-analyze (test_units.py).

Slow (dpkg-buildpackage and lintian): its own ctest entry, integration.test_package.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from harness import BUILD_DIR, REPO
from test_units import MAX_EXPOSURE, SYSTEMD_ANALYZE, check_units

TOOLS = ("dpkg-buildpackage", "dh", "lintian", "help2man")

EXPECTED_FILES = {
    "./usr/bin/inkand",
    "./usr/bin/inkan",
    "./usr/libexec/inkan/inkan-p11-helper",
    "./usr/lib/systemd/user/inkand.socket",
    "./usr/lib/systemd/user/inkand.service",
    "./usr/share/man/man8/inkand.8.gz",
    "./usr/share/man/man1/inkan.1.gz",
    "./usr/share/bash-completion/completions/inkan",
    "./usr/share/inkan/client-sdk/index.js",
    "./usr/share/inkan/client-sdk/index.d.ts",
    "./usr/share/inkan/client-sdk/package.json",
    "./usr/share/doc/inkan/copyright",
    "./usr/share/doc/inkan/changelog.gz",
    "./usr/share/doc/inkan/examples/inkand.json",
}


class PackageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        missing = [tool for tool in TOOLS if shutil.which(tool) is None]
        if missing:
            raise unittest.SkipTest(f"missing {', '.join(missing)} (scripts/install-deps.sh installs them)")
        started = time.monotonic()
        cls.build = subprocess.run([str(REPO / "scripts" / "make-deb.sh"), str(BUILD_DIR)],
                                   capture_output=True, text=True, timeout=900)
        cls.seconds = time.monotonic() - started
        print(f"\nmake-deb.sh (dpkg-buildpackage + lintian): {cls.seconds:.0f} s")
        debs = sorted((BUILD_DIR / "deb").glob("inkan_*.deb"))
        cls.deb = debs[0] if len(debs) == 1 else None
        cls.work = Path(tempfile.mkdtemp(prefix="package-"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.build.returncode, 0, self.build.stdout + self.build.stderr)
        self.assertIsNotNone(self.deb, "make-deb.sh made no single inkan_*.deb")

    def field(self, name: str) -> str:
        return subprocess.run(["dpkg-deb", "--field", str(self.deb), name], capture_output=True, text=True,
                              check=True).stdout.strip()

    def test_lintian_reports_no_error_and_no_warning(self):
        # make-deb.sh fails on them (--fail-on error,warning); look again, showing every tag.
        r = subprocess.run(["lintian", "--display-level", ">=warning", str(self.deb)],
                           capture_output=True, text=True, timeout=600)
        tags = [line for line in r.stdout.splitlines() if re.match(r"^[EW]: ", line)]
        self.assertEqual(tags, [], r.stdout)

    def test_contents(self):
        listing = subprocess.run(["dpkg-deb", "-c", str(self.deb)], capture_output=True, text=True, check=True).stdout
        files = {line.split()[-1] for line in listing.splitlines() if not line.startswith("d")}
        self.assertLessEqual(EXPECTED_FILES, files, listing)
        # Test tools and test data stay out of the package.
        for path in files:
            self.assertNotRegex(path, r"vcard|vpinpad|unit_tests|fuzz|test", path)
        modes = {line.split()[-1]: line.split()[0] for line in listing.splitlines()}
        self.assertEqual(modes["./usr/bin/inkand"], "-rwxr-xr-x")
        self.assertEqual(modes["./usr/share/doc/inkan/copyright"], "-rw-r--r--")

    def test_dependencies(self):
        depends = self.field("Depends")
        self.assertIn("pcscd", depends)
        for library in ("libpcsclite1", "libssl3", "libsystemd0", "libcurl4", "libassuan0"):
            self.assertIn(library, depends)
        self.assertIn("pinentry-gnome3 | pinentry-curses", self.field("Recommends"))
        self.assertIn("libnss3-tools", self.field("Recommends"))

    def test_installed_into_a_scratch_root_runs_and_its_units_verify(self):
        root = self.work / "root"
        subprocess.run(["dpkg-deb", "-x", str(self.deb), str(root)], check=True)
        version = subprocess.run([str(root / "usr/bin/inkand"), "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(version.returncode, 0, version.stderr)
        self.assertRegex(version.stdout, r"^inkand \d+\.\d+\.\d+")
        self.assertEqual(version.stdout.split()[1], self.field("Version"))
        cli = subprocess.run([str(root / "usr/bin/inkan"), "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        # The man pages render without warnings.
        for page in ("man8/inkand.8.gz", "man1/inkan.1.gz"):
            rendered = subprocess.run(["man", "--warnings", "-l", str(root / "usr/share/man" / page)],
                                      capture_output=True, text=True, timeout=60,
                                      env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"))
            self.assertEqual(rendered.returncode, 0, rendered.stderr)
            self.assertEqual(rendered.stderr, "", page)
            self.assertIn("SEE ALSO", re.sub(".\b", "", rendered.stdout))  # without the overstrike
        if SYSTEMD_ANALYZE is None:
            self.fail("systemd-analyze is missing (Debian package systemd)")
        exposure = check_units(self, root / "usr/lib/systemd/user", root / "usr/bin/inkand", root / "usr/share/man",
                               self.work / "units")
        self.assertLessEqual(exposure, MAX_EXPOSURE)

    def test_bash_completion_offers_the_cli_commands(self):
        root = self.work / "completion-root"
        subprocess.run(["dpkg-deb", "-x", str(self.deb), str(root)], check=True)
        script = (f"source {root}/usr/share/bash-completion/completions/inkan; "
                  f"COMP_WORDS=({root}/usr/bin/inkan pi); COMP_CWORD=1; _inkan; echo \"${{COMPREPLY[@]}}\"; "
                  f"COMP_WORDS=({root}/usr/bin/inkan pin ch); COMP_CWORD=2; _inkan; echo \"${{COMPREPLY[@]}}\"; "
                  f"COMP_WORDS=({root}/usr/bin/inkan --js); COMP_CWORD=1; _inkan; echo \"${{COMPREPLY[@]}}\"")
        r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["pin"], r.stdout)
        self.assertEqual(lines[1].split(), ["change"], r.stdout)
        self.assertEqual(lines[2].split(), ["--json"], r.stdout)


if __name__ == "__main__":
    unittest.main()
