"""Runs one integration test module for ctest, so that a skip shows as a skip.

`python3 -m unittest` exits 0 when tests were skipped, and ctest would call
such a run passed. Here:
  * a failure or error exits 1;
  * under CI=true, a skip exits 1 as well: in CI every dependency is installed
    by the run itself, so a missing one is a broken set-up, not a reason to
    skip. Only a skip that says it does not apply to this machine at all
    (harness.NotApplicable, e.g. no IPv6 loopback) stays a skip;
  * a skip exits SKIPPED (77), which tests/CMakeLists.txt declares as the
    SKIP_RETURN_CODE, so ctest reports the module as "Skipped" and lists it;
  * everything passed exits 0.

Usage: python3 run_module.py test_name
"""

from __future__ import annotations

import os
import sys
import unittest

SKIPPED = 77
NOT_APPLICABLE_PREFIX = "not applicable: "  # harness.NotApplicable's reasons start so


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: run_module.py test_module", file=sys.stderr)
        return 2
    suite = unittest.defaultTestLoader.loadTestsFromName(argv[1])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if result.testsRun == 0 and not result.skipped:
        print(f"{argv[1]}: no test ran", file=sys.stderr)
        return 1
    if not result.wasSuccessful():
        return 1
    if not result.skipped:
        return 0
    in_ci = os.environ.get("CI") == "true"
    refused = [(test, reason) for test, reason in result.skipped
               if in_ci and not reason.startswith(NOT_APPLICABLE_PREFIX)]
    for test, reason in result.skipped:
        verdict = "FAILED (CI=true: a skip is a broken set-up)" if (test, reason) in refused else "SKIPPED"
        print(f"{verdict}: {test.id()}: {reason}", file=sys.stderr)
    return 1 if refused else SKIPPED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
