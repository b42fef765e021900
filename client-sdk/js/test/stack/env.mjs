// What tests/integration/test_sdk.py passes to the node tests about the stack it started.
import { webcrypto } from 'node:crypto';

import { countApdus } from '../apdu-log.mjs';

// Node 18 has WebCrypto only as node:crypto's webcrypto; browsers and Node 19+ as globalThis.crypto.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through tests/integration/test_sdk.py`);
  return value;
}

export const stack = {
  port: Number(required('INKAN_TEST_PORT')),
  token: required('INKAN_TEST_TOKEN'),
  cardId: required('INKAN_TEST_CARD_ID'),
  pin: required('INKAN_TEST_PIN'),
  allowedOrigin: required('INKAN_TEST_ALLOWED_ORIGIN'),
  apduLog: required('INKAN_TEST_APDU_LOG'),
  vcardPid: Number(required('INKAN_TEST_VCARD_PID')),
  caFile: required('NODE_EXTRA_CA_CERTS'),
  binDir: process.env.INKAN_TEST_BIN_DIR,
  stateDir: process.env.INKAN_TEST_STATE_DIR,
};

/** APDUs the virtual card has exchanged so far (apdu-log.mjs). */
export function apduCount() {
  return countApdus(stack.apduLog);
}

/** A fetch that sends `Origin: origin` like a browser page would (Node's fetch sends none). */
export function fetchAsOrigin(origin, seen = []) {
  return async (url, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('Origin', origin);
    const response = await fetch(url, { ...init, headers });
    seen.push({ url: String(url), method: init.method ?? 'GET', headers, response });
    return response;
  };
}

export async function waitFor(predicate, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
}
