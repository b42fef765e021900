// A scripted fetch for the unit tests: each call is recorded and answered by
// the next handler, so the tests see exactly what the SDK sends.
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';

import { InkanError } from '../../dist/index.js';

if (!globalThis.crypto) globalThis.crypto = webcrypto;

export function json(status, body, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

export function problem(status, code, extra = {}) {
  return json(status, {
    type: `urn:inkan:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    title: code,
    status,
    detail: `detail of ${code}`,
    code,
    ...extra,
  }, 'application/problem+json');
}

/** A fetch answering with `route(call)`; `calls` keeps {url, method, headers, body, init}. */
export function fakeFetch(route) {
  const calls = [];
  const f = async (input, init = {}) => {
    const call = {
      url: String(input),
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body: init.body === undefined ? undefined : JSON.parse(init.body),
      init,
    };
    calls.push(call);
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    return route(call, calls.length - 1);
  };
  f.calls = calls;
  return f;
}

/** Runs `body` with browser-like globals (document, location, navigator.permissions), then restores them. */
export async function asBrowserPage({ origin = 'https://portal.example.jp', permission } = {}, body) {
  const saved = {};
  for (const name of ['document', 'location', 'navigator']) {
    saved[name] = Object.getOwnPropertyDescriptor(globalThis, name);
  }
  const permissions = {
    async query({ name }) {
      if (permission === undefined || (name !== 'loopback-network' && name !== 'local-network-access')) {
        throw new TypeError(`unknown permission ${name}`);
      }
      return { state: permission };
    },
  };
  Object.defineProperty(globalThis, 'document', { value: {}, configurable: true, writable: true });
  Object.defineProperty(globalThis, 'location', { value: { origin }, configurable: true, writable: true });
  Object.defineProperty(globalThis, 'navigator', { value: { permissions }, configurable: true, writable: true });
  try {
    return await body();
  } finally {
    for (const [name, descriptor] of Object.entries(saved)) {
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else delete globalThis[name];
    }
  }
}

/** The TypeError a browser's fetch throws for every network-level failure. */
export function failedToFetch() {
  return new TypeError('Failed to fetch');
}

/** Asserts that `promise` fails with an InkanError of `code`, then runs `check` on it. */
export async function rejectsWith(promise, code, check = () => {}) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof InkanError, `expected an InkanError, got ${error?.stack ?? error}`);
    assert.equal(error.code, code, error.message);
    check(error);
    return true;
  });
}

export /** A streaming text/event-stream response; `chunks` are written, then it ends (or stays open). */
function streamResponse(chunks, { keepOpen = false, signal } = {}) {
  const encoder = new TextEncoder();
  const body = new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      if (!keepOpen) controller.close();
      signal?.addEventListener('abort', () => {
        try { controller.error(new DOMException('aborted', 'AbortError')); } catch { /* closed */ }
      });
    },
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}
