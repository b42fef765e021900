// A page inkand serves itself (its console): the client on the page's own origin with its
// session cookie, request() for the API paths without a method of their own, and the
// event stream's onState().
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InkanClient } from '../../dist/index.js';
import { asBrowserPage, failedToFetch, fakeFetch, json, problem, rejectsWith, streamResponse } from './fake.mjs';

const CONSOLE = { origin: '', credentials: 'same-origin', clientName: 'inkan-console' };

describe('origin and credentials', () => {
  it("origin '' sends relative /v1 requests with the page's cookies and the given Inkan-Client", async () => {
    const f = fakeFetch((call) => (call.url.endsWith('/selftest') ? json(200, { passed: true, checks: [] }) : json(200, { cards: [] })));
    const client = new InkanClient({ ...CONSOLE, fetch: f });
    assert.equal(client.origin, '');
    assert.equal(client.baseUrl, '/v1');
    await client.cards();
    await client.selftest('c1');
    assert.deepEqual(f.calls.map((call) => `${call.method} ${call.url}`), ['GET /v1/cards', 'POST /v1/cards/c1/selftest']);
    for (const call of f.calls) {
      assert.equal(call.init.credentials, 'same-origin');
      assert.equal(call.headers.get('Inkan-Client'), 'inkan-console');
      assert.equal(call.headers.get('Authorization'), null);
    }
  });

  it('an https origin inkand answers to replaces host and port; anything else is refused', () => {
    const f = fakeFetch(() => json(200, {}));
    assert.equal(new InkanClient({ origin: 'https://localhost:8443', fetch: f }).baseUrl, 'https://localhost:8443/v1');
    assert.equal(new InkanClient({ origin: 'https://[::1]:24713', fetch: f }).origin, 'https://[::1]:24713');
    for (const origin of ['http://127.0.0.1:24713', 'https://inkan.example:24713', 'https://127.0.0.1:24713/v1', '/v1', 'https://127.0.0.1:24713/', 7]) {
      assert.throws(() => new InkanClient({ origin, fetch: f }), (e) => e.code === 'INVALID_ARGUMENT', String(origin));
    }
    assert.throws(() => new InkanClient({ origin: '', port: 24713, fetch: f }), (e) => e.code === 'INVALID_ARGUMENT');
    assert.throws(() => new InkanClient({ credentials: 'include', fetch: f }), (e) => e.code === 'INVALID_ARGUMENT');
  });

  it('the default sends no cookies', async () => {
    const f = fakeFetch(() => json(200, { cards: [] }));
    await new InkanClient({ fetch: f }).cards();
    assert.equal(f.calls[0].init.credentials, 'omit');
  });

  it("a failed fetch of the page's own server is DAEMON_UNREACHABLE, without probing anything", async () => {
    const f = fakeFetch(() => { throw failedToFetch(); });
    await asBrowserPage({ origin: 'https://127.0.0.1:24713', permission: 'granted' }, async () => {
      await rejectsWith(new InkanClient({ ...CONSOLE, fetch: f }).status(), 'DAEMON_UNREACHABLE', (e) => {
        assert.equal(e.status, 0);
        assert.match(e.message, /serves this page/);
      });
    });
    assert.equal(f.calls.length, 1, 'no diagnosing probes');
  });
});

describe('request()', () => {
  it('GET with a query, POST and DELETE with a JSON body; 204 resolves undefined', async () => {
    const f = fakeFetch((call) => {
      if (call.url.startsWith('/v1/audit')) return json(200, { operations: [], next: null });
      return new Response(null, { status: 204 });
    });
    const client = new InkanClient({ ...CONSOLE, fetch: f });
    assert.deepEqual(await client.request('GET', '/audit', { query: { limit: '1000', after: '0', card: 'a b' } }), { operations: [], next: null });
    assert.equal(await client.request('POST', '/console/session', { body: { code: 'C0DE' } }), undefined);
    assert.equal(await client.request('DELETE', '/console/session'), undefined);
    assert.equal(f.calls[0].url, '/v1/audit?limit=1000&after=0&card=a+b');
    assert.equal(f.calls[0].body, undefined);
    assert.deepEqual(f.calls[1].body, { code: 'C0DE' });
    assert.equal(f.calls[1].headers.get('Content-Type'), 'application/json');
    assert.equal(f.calls[2].method, 'DELETE');
    assert.deepEqual(f.calls[2].body, {});
  });

  it('failures are InkanErrors as everywhere; a bad method or path is refused before sending', async () => {
    const f = fakeFetch(() => problem(401, 'UNAUTHORIZED'));
    const client = new InkanClient({ ...CONSOLE, fetch: f });
    await rejectsWith(client.request('GET', '/pairings'), 'UNAUTHORIZED', (e) => assert.equal(e.status, 401));
    await rejectsWith(client.request('PUT', '/pairings'), 'INVALID_ARGUMENT');
    await rejectsWith(client.request('GET', 'pairings'), 'INVALID_ARGUMENT');
    await rejectsWith(client.request('GET', '/audit?limit=1'), 'INVALID_ARGUMENT');
    assert.equal(f.calls.length, 1);
  });

  it('a 2xx answer that is not JSON (or 204) is INVALID_RESPONSE', async () => {
    const f = fakeFetch(() => new Response('<html>', { status: 200, headers: { 'Content-Type': 'text/html' } }));
    await rejectsWith(new InkanClient({ ...CONSOLE, fetch: f }).request('GET', '/status'), 'INVALID_RESPONSE');
  });
});

describe('events() on the own origin, with onState', () => {
  it('follows /v1/events with the cookies and reports open, reconnecting (also after a clean end) and open again', async () => {
    const states = [];
    const f = fakeFetch((call, index) => {
      if (index === 0) return streamResponse(['retry: 1\nid: 1\nevent: reader-added\ndata: {"reader":"r"}\n\n']);
      if (index === 1) throw failedToFetch();
      return streamResponse(['id: 2\nevent: reader-removed\ndata: {"reader":"r"}\n\n'], { keepOpen: true, signal: call.init.signal });
    });
    const stream = new InkanClient({ ...CONSOLE, fetch: f }).events({
      retryMs: 1,
      onState: (state, error) => states.push(error ? `${state} ${error.code}` : state),
    });
    const seen = [];
    for await (const event of stream) {
      seen.push(event.type);
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, ['reader-added', 'reader-removed']);
    assert.deepEqual(states, ['open', 'reconnecting', 'reconnecting DAEMON_UNREACHABLE', 'open']);
    assert.equal(f.calls[0].url, '/v1/events');
    assert.equal(f.calls[0].init.credentials, 'same-origin');
    assert.equal(f.calls[2].headers.get('Last-Event-ID'), '1');
    assert.ok(f.calls[2].init.signal.aborted, 'break closes the connection');
  });

  it('an ended session ends the iteration with UNAUTHORIZED, reporting no reconnect', async () => {
    const states = [];
    const f = fakeFetch(() => problem(401, 'UNAUTHORIZED'));
    const stream = new InkanClient({ ...CONSOLE, fetch: f }).events({ retryMs: 1, onState: (state) => states.push(state) });
    await rejectsWith(stream.next(), 'UNAUTHORIZED');
    assert.deepEqual(states, []);
    assert.equal(f.calls.length, 1);
  });

  it('stopping reports nothing more', async () => {
    const states = [];
    const controller = new AbortController();
    const f = fakeFetch((call) => streamResponse(['id: 1\nevent: a\ndata: {}\n\n'], { keepOpen: true, signal: call.init.signal }));
    const stream = new InkanClient({ ...CONSOLE, fetch: f }).events({ signal: controller.signal, onState: (state) => states.push(state) });
    assert.equal((await stream.next()).value.type, 'a');
    controller.abort();
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(states, ['open']);
  });
});
