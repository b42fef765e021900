// The virtual card's APDU log, counted as tests/integration/harness.py counts
// it: one line per APDU, control events (marked ' # ') left out. The log
// exists from the card's start on, so a read error throws: a count of 0 would
// pass every "nothing reached the card" check.
import { readFileSync } from 'node:fs';

export function countApdus(logPath) {
  return readFileSync(logPath, 'utf8').split('\n').filter((line) => line.trim() && !line.includes(' # ')).length;
}
