// InkanClient with a scripted fetch: what it sends, how it reads answers and failures.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { InkanClient, OPERATIONS } from '../../dist/index.js';
import { asBrowserPage, failedToFetch, fakeFetch, json, problem, rejectsWith } from './fake.mjs';

const CARD = 'c0ffee';
const SIGN_RESULT = { signature: 'AAEC', signatureAlgorithm: 'RSASSA-PKCS1-v1_5-SHA-256', certificateId: 'sign', certificate: 'MIIB' };

/** Matches a request path against an openapi path template. */
function matchesTemplate(path, template) {
  const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
  return pattern.test(path);
}

describe('construction', () => {
  it('defaults to https://127.0.0.1:24713/v1', () => {
    const client = new InkanClient({ fetch: fakeFetch(() => json(200, {})) });
    assert.equal(client.baseUrl, 'https://127.0.0.1:24713/v1');
  });

  it('brackets ::1 and refuses names inkand would refuse (its Host check)', () => {
    assert.equal(new InkanClient({ host: '::1', port: 8443, fetch: fakeFetch(() => json(200, {})) }).origin, 'https://[::1]:8443');
    assert.throws(() => new InkanClient({ host: 'inkan.example', fetch: fakeFetch(() => json(200, {})) }), (e) => e.code === 'INVALID_ARGUMENT');
    assert.throws(() => new InkanClient({ port: 70000, fetch: fakeFetch(() => json(200, {})) }), (e) => e.code === 'INVALID_ARGUMENT');
    assert.throws(() => new InkanClient({ port: 1.5, fetch: fakeFetch(() => json(200, {})) }), (e) => e.code === 'INVALID_ARGUMENT');
  });
});

describe('requests', () => {
  it('every request carries Inkan-Client; POSTs carry Content-Type: application/json; no token unless given', async () => {
    const f = fakeFetch((call) => (call.url.endsWith('/sign') ? json(200, SIGN_RESULT) : json(200, { cards: [] })));
    const client = new InkanClient({ fetch: f });
    await client.cards();
    await client.sign(CARD, { digest: new Uint8Array(32), pin: '1234' });
    for (const call of f.calls) {
      assert.match(call.headers.get('Inkan-Client'), /^@inkan\/client \d+\.\d+\.\d+/);
      assert.equal(call.headers.get('Authorization'), null);
      assert.equal(call.init.credentials, 'omit');
      assert.equal(call.init.mode, 'cors');
      assert.equal('targetAddressSpace' in call.init, false, 'targetAddressSpace breaks loopback requests in Chrome');
    }
    assert.equal(f.calls[0].headers.get('Content-Type'), null);
    assert.equal(f.calls[1].headers.get('Content-Type'), 'application/json');
  });

  it('a token is sent as a Bearer authorization', async () => {
    const f = fakeFetch(() => json(200, { version: '1', pcscAvailable: true, readers: [] }));
    await new InkanClient({ token: 'ab'.repeat(32), fetch: f }).status();
    assert.equal(f.calls[0].headers.get('Authorization'), `Bearer ${'ab'.repeat(32)}`);
  });

  it('ids are percent-encoded into the path', async () => {
    const f = fakeFetch(() => json(200, { id: 'x', der: 'AA==' }));
    await new InkanClient({ fetch: f }).certificate('a/b', 'c d');
    assert.equal(f.calls[0].url, 'https://127.0.0.1:24713/v1/cards/a%2Fb/certificates/c%20d');
  });

  it('pinId routes a PIN operation to /pins/{pinId}/..., its absence to the default /pin/...', async () => {
    const f = fakeFetch(() => json(200, { triesLeft: 5, maxTries: 5, blocked: false }));
    const client = new InkanClient({ fetch: f });
    await client.verifyPin(CARD, 'ABC123', { pinId: 'sign' });
    await client.changePin(CARD, '1234', '5678', { pinId: 'a/b' });
    await client.unblockPin(CARD, '12345678', '1234', { pinId: 'auth' });
    await client.verifyPin(CARD, '1234');
    await client.pin(CARD, 'sign');
    const paths = f.calls.map((c) => new URL(c.url).pathname);
    assert.deepEqual(paths, [
      `/v1/cards/${CARD}/pins/sign/verify`,
      `/v1/cards/${CARD}/pins/a%2Fb/change`,
      `/v1/cards/${CARD}/pins/auth/unblock`,
      `/v1/cards/${CARD}/pin/verify`,
      `/v1/cards/${CARD}/pins/sign`,
    ]);
    // The pinId is the path's, never a body field.
    assert.deepEqual(f.calls[0].body, { pin: 'ABC123' });
    await rejectsWith(client.verifyPin(CARD, '1', { pinId: '' }), 'INVALID_ARGUMENT');
  });

  it('every request the client makes is an operation of openapi.yaml', async () => {
    const f = fakeFetch((call) => {
      if (call.url.includes('/certificates/')) return json(200, { der: 'AA==' });
      if (call.url.endsWith('/sign')) return json(200, SIGN_RESULT);
      if (call.url.endsWith('/signatures')) return json(200, { format: 'cms', ...SIGN_RESULT, document: { size: 1, sha256: '00' } });
      if (call.url.includes('/pairings')) return json(call.method === 'POST' ? 202 : 200, { id: 'p1', origin: 'https://a.example', code: '1234', status: 'approved', expiresAt: '2030-01-01T00:00:00Z' });
      return json(200, { cards: [] });
    });
    const client = new InkanClient({ fetch: f });
    await client.status();
    await client.cards();
    await client.card(CARD);
    await client.access();
    await client.certificate(CARD, 'sign');
    await client.pinStatus(CARD);
    await client.unblockCodeStatus(CARD);
    await client.verifyPin(CARD, '1234');
    await client.changePin(CARD, '1234', '5678');
    await client.unblockPin(CARD, '12345678', '1234');
    await client.pins(CARD);
    await client.pin(CARD, 'sign');
    await client.pinStatus(CARD, { pinId: 'auth' });
    await client.verifyPin(CARD, '1234', { pinId: 'auth' });
    await client.changePin(CARD, '1234', '5678', { pinId: 'auth' });
    await client.unblockPin(CARD, '12345678', '1234', { pinId: 'auth' });
    await client.sign(CARD, { digest: new Uint8Array(32) });
    await client.signDocument(CARD, { format: 'cms', content: 'x' });
    await client.sign(CARD, { digest: new Uint8Array(32), certificate: 'auth' });
    const optional = [
      () => client.validate(CARD, 'sign', { at: '2030-01-01T00:00:00Z' }),
      () => client.selftest(CARD),
      () => client.pair(),
    ];
    for (const call of optional) await call();
    const operations = Object.values(OPERATIONS);
    const missing = [];
    for (const call of f.calls) {
      const path = new URL(call.url).pathname.replace(/^\/v1/, '');
      if (!operations.some((op) => op.method === call.method && matchesTemplate(path, op.path))) missing.push(`${call.method} ${path}`);
    }
    // validate, selftest and pairing join the contract with the endpoints; until then they are the only exceptions.
    const pending = missing.filter((m) => !/\/validation$|\/selftest$|\/pairings|\/access$/.test(m));
    assert.deepEqual(pending, []);
  });
});

describe('answers', () => {
  it('a problem+json answer is an InkanError with its fields', async () => {
    const f = fakeFetch(() => problem(403, 'PIN_INCORRECT', { triesLeft: 7 }));
    await rejectsWith(new InkanClient({ fetch: f }).sign(CARD, { digest: new Uint8Array(32), pin: '0000' }), 'PIN_INCORRECT', (e) => {
      assert.equal(e.status, 403);
      assert.equal(e.triesLeft, 7);
      assert.equal(e.detail, 'detail of PIN_INCORRECT');
      assert.equal(e.title, 'PIN_INCORRECT');
      assert.equal(e.type, 'urn:inkan:problem:pin-incorrect');
      assert.equal(e.fromDaemon, true);
      assert.equal(e.serverCode, undefined);
    });
  });

  it('CARD_ERROR carries the status word; rate limits their retry delay', async () => {
    await rejectsWith(new InkanClient({ fetch: fakeFetch(() => problem(502, 'CARD_ERROR', { statusWord: '6A80' })) }).pinStatus(CARD), 'CARD_ERROR',
      (e) => assert.equal(e.statusWord, '6A80'));
    await rejectsWith(new InkanClient({ fetch: fakeFetch(() => problem(429, 'PIN_RATE_LIMITED', { retryAfterSeconds: 60 })) }).verifyPin(CARD, '1'), 'PIN_RATE_LIMITED',
      (e) => assert.equal(e.retryAfterSeconds, 60));
  });

  it('ORIGIN_FORBIDDEN is reported as ORIGIN_NOT_PAIRED, keeping the daemon code', async () => {
    await rejectsWith(new InkanClient({ fetch: fakeFetch(() => problem(403, 'ORIGIN_FORBIDDEN')) }).cards(), 'ORIGIN_NOT_PAIRED', (e) => {
      assert.equal(e.serverCode, 'ORIGIN_FORBIDDEN');
      assert.equal(e.status, 403);
      assert.match(e.message, /pair\(\)/);
    });
  });

  it('a code unknown to this SDK passes through', async () => {
    await rejectsWith(new InkanClient({ fetch: fakeFetch(() => problem(409, 'SOMETHING_NEW')) }).cards(), 'SOMETHING_NEW');
  });

  it('answers outside the contract are INVALID_RESPONSE', async () => {
    const cases = [
      () => new Response('<html>', { status: 500, headers: { 'Content-Type': 'text/html' } }),
      () => new Response('{not json', { status: 200, headers: { 'Content-Type': 'application/json' } }),
      () => new Response('{}', { status: 200, headers: { 'Content-Type': 'text/plain' } }),
      () => json(400, { message: 'no code' }, 'application/problem+json'),
    ];
    for (const answer of cases) {
      await rejectsWith(new InkanClient({ fetch: fakeFetch(answer) }).status(), 'INVALID_RESPONSE');
    }
  });

  it('certificate() decodes der; bad base64 is INVALID_RESPONSE', async () => {
    const ok = await new InkanClient({ fetch: fakeFetch(() => json(200, { id: 'sign', der: 'AQID' })) }).certificate(CARD, 'sign');
    assert.deepEqual([...ok.derBytes], [1, 2, 3]);
    await rejectsWith(new InkanClient({ fetch: fakeFetch(() => json(200, { id: 'sign', der: 'A*B=' })) }).certificate(CARD, 'sign'), 'INVALID_RESPONSE');
  });
});

describe('sign()', () => {
  it('hashes data with WebCrypto and sends the base64 digest, PIN and options', async () => {
    const f = fakeFetch(() => json(200, SIGN_RESULT));
    const client = new InkanClient({ fetch: f });
    const result = await client.sign(CARD, { data: 'こんにちは', digestAlgorithm: 'SHA-384', pin: '1234', acknowledgeLowTries: true, certificate: 'sign' });
    const expected = createHash('sha384').update('こんにちは', 'utf8').digest();
    assert.deepEqual(f.calls[0].body, {
      digest: expected.toString('base64'), digestAlgorithm: 'SHA-384', pin: '1234', certificate: 'sign', acknowledgeLowTries: true,
    });
    assert.deepEqual(Buffer.from(result.digest), expected);
    assert.deepEqual([...result.signature], [0, 1, 2]);
    assert.equal(result.signatureBase64, 'AAEC');
    assert.equal(result.certificateBase64, 'MIIB');
  });

  it('leaves out pin and acknowledgeLowTries when not given (inkand asks the user itself)', async () => {
    const f = fakeFetch(() => json(200, SIGN_RESULT));
    await new InkanClient({ fetch: f }).sign(CARD, { digest: new ArrayBuffer(64), digestAlgorithm: 'SHA-512' });
    assert.deepEqual(Object.keys(f.calls[0].body).sort(), ['digest', 'digestAlgorithm']);
  });

  it('refuses wrong input without sending anything', async () => {
    const f = fakeFetch(() => json(200, SIGN_RESULT));
    const client = new InkanClient({ fetch: f });
    await rejectsWith(client.sign(CARD, { digest: new Uint8Array(20) }), 'INVALID_ARGUMENT');
    await rejectsWith(client.sign(CARD, { digest: new Uint8Array(32), digestAlgorithm: 'SHA-1' }), 'INVALID_ARGUMENT');
    await rejectsWith(client.sign(CARD, { digest: new Uint8Array(32), digestAlgorithm: 'constructor' }), 'INVALID_ARGUMENT');
    await rejectsWith(client.sign(CARD, {}), 'INVALID_ARGUMENT');
    await rejectsWith(client.sign(CARD, { digest: 'not bytes' }), 'INVALID_ARGUMENT');
    await rejectsWith(client.sign(CARD, { data: 42 }), 'INVALID_ARGUMENT');
    await rejectsWith(client.sign(CARD, { digest: new Uint8Array(32), pin: 1234 }), 'INVALID_ARGUMENT');
    await rejectsWith(client.sign('', { digest: new Uint8Array(32) }), 'INVALID_ARGUMENT');
    assert.equal(f.calls.length, 0);
  });

  it('copies the digest: changing the caller\'s buffer afterwards changes nothing', async () => {
    const f = fakeFetch(() => json(200, SIGN_RESULT));
    const digest = new Uint8Array(32).fill(7);
    const result = await new InkanClient({ fetch: f }).sign(CARD, { digest });
    digest.fill(0);
    assert.equal(result.digest[0], 7);
  });
});

describe('aborting', () => {
  it('an aborted signal is ABORTED before and during a request', async () => {
    const controller = new AbortController();
    controller.abort();
    const f = fakeFetch(() => json(200, {}));
    await rejectsWith(new InkanClient({ fetch: f }).status({ signal: controller.signal }), 'ABORTED');
    assert.equal(f.calls.length, 0);
    const later = new AbortController();
    const hanging = fakeFetch((call) => new Promise((_, reject) => call.init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))));
    const pending = new InkanClient({ fetch: hanging }).cards({ signal: later.signal });
    later.abort();
    await rejectsWith(pending, 'ABORTED');
  });
});

describe('diagnosing a fetch that failed', () => {
  const unreachable = () => { throw failedToFetch(); };

  it('Node.js: ECONNREFUSED is DAEMON_UNREACHABLE, a certificate error CERTIFICATE_UNTRUSTED', async () => {
    const refused = fakeFetch(() => { throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }); });
    await rejectsWith(new InkanClient({ fetch: refused }).status(), 'DAEMON_UNREACHABLE', (e) => {
      assert.equal(e.status, 0);
      assert.equal(e.fromDaemon, false);
      assert.doesNotMatch(e.message, /trust/);
    });
    const untrusted = fakeFetch(() => { throw new TypeError('fetch failed', { cause: Object.assign(new Error('self-signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }) }); });
    await rejectsWith(new InkanClient({ fetch: untrusted }).status(), 'CERTIFICATE_UNTRUSTED', (e) => assert.match(e.message, /inkan trust install/));
  });

  it('browser: a denied Local Network Access permission is LOCAL_NETWORK_ACCESS_DENIED', async () => {
    await asBrowserPage({ permission: 'denied' }, async () => {
      const f = fakeFetch(unreachable);
      await rejectsWith(new InkanClient({ fetch: f }).cards(), 'LOCAL_NETWORK_ACCESS_DENIED', (e) => assert.match(e.message, /Local Network Access/));
      assert.equal(f.calls.length, 1, 'no probes once the permission explains it');
    });
  });

  it('browser: GET /v1/access says the origin is unknown: ORIGIN_NOT_PAIRED', async () => {
    await asBrowserPage({ permission: 'granted' }, async () => {
      const f = fakeFetch((call) => {
        if (call.url.endsWith('/v1/access')) return json(200, { standing: 'unknown', origin: 'https://portal.example.jp', operations: [] });
        throw failedToFetch();
      });
      await rejectsWith(new InkanClient({ fetch: f }).sign(CARD, { digest: new Uint8Array(32) }), 'ORIGIN_NOT_PAIRED', (e) => assert.match(e.message, /pair\(\)/));
      assert.deepEqual(f.calls.slice(1).map((c) => [c.method, c.init.mode, new URL(c.url).pathname]), [['GET', 'cors', '/v1/access']]);
      assert.equal(f.calls[1].init.credentials, 'omit');
    });
  });

  it('browser: no readable answer but a trusted TLS server (no-cors probe): ORIGIN_NOT_PAIRED', async () => {
    await asBrowserPage({ permission: 'granted' }, async () => {
      const f = fakeFetch((call) => {
        if (call.init.mode === 'no-cors' && call.url.startsWith('https:')) return new Response(null, { status: 200 });
        throw failedToFetch();
      });
      await rejectsWith(new InkanClient({ fetch: f }).cards(), 'ORIGIN_NOT_PAIRED');
      const probes = f.calls.slice(1);
      assert.deepEqual(probes.map((c) => [c.method, c.init.mode, new URL(c.url).pathname]), [['GET', 'cors', '/v1/access'], ['GET', 'no-cors', '/v1/status']]);
      for (const probe of probes) assert.equal(probe.init.credentials, 'omit');
    });
  });

  it('browser: when the origin is allowed after all, the failure was passing: DAEMON_UNREACHABLE', async () => {
    await asBrowserPage({}, async () => {
      const f = fakeFetch((call) => {
        if (call.url.endsWith('/v1/access')) return json(200, { standing: 'allowlisted', operations: ['read', 'sign'] });
        throw failedToFetch();
      });
      await rejectsWith(new InkanClient({ fetch: f }).cards(), 'DAEMON_UNREACHABLE', (e) => assert.match(e.message, /broke/));
    });
  });

  it('browser: only plain http answers on the port: CERTIFICATE_UNTRUSTED', async () => {
    await asBrowserPage({ permission: 'prompt' }, async () => {
      const f = fakeFetch((call) => {
        if (call.init.mode === 'no-cors' && call.url.startsWith('http:')) return new Response(null, { status: 400 });
        throw failedToFetch();
      });
      await rejectsWith(new InkanClient({ fetch: f }).cards(), 'CERTIFICATE_UNTRUSTED');
      assert.equal(new URL(f.calls.at(-1).url).origin, 'http://127.0.0.1:24713');
    });
  });

  it('browser: nothing answers at all: DAEMON_UNREACHABLE naming both possible causes', async () => {
    await asBrowserPage({}, async () => {
      await rejectsWith(new InkanClient({ fetch: fakeFetch(unreachable) }).cards(), 'DAEMON_UNREACHABLE', (e) => {
        assert.match(e.message, /not running/);
        assert.match(e.message, /inkan trust install/);
      });
    });
  });

  it('localNetworkAccess() reports the permission, undefined where it does not exist', async () => {
    const client = new InkanClient({ fetch: fakeFetch(unreachable) });
    await asBrowserPage({ permission: 'prompt' }, async () => assert.equal(await client.localNetworkAccess(), 'prompt'));
    await asBrowserPage({}, async () => assert.equal(await client.localNetworkAccess(), undefined));
  });
});

describe('pair()', () => {
  const pending = { id: 'p1', origin: 'https://portal.example.jp', code: '4821', status: 'pending', expiresAt: '2030-01-01T00:00:00Z' };

  it('shows the code, polls until approved and resolves with the pairing', async () => {
    let polls = 0;
    const f = fakeFetch((call) => {
      if (call.method === 'POST') return json(202, pending);
      polls++;
      return json(200, { ...pending, status: polls < 3 ? 'pending' : 'approved' });
    });
    const codes = [];
    const pairing = await new InkanClient({ fetch: f }).pair({ onCode: (p) => codes.push(p.code), pollIntervalMs: 1 });
    assert.equal(pairing.status, 'approved');
    assert.deepEqual(codes, ['4821']);
    assert.equal(f.calls[0].url, 'https://127.0.0.1:24713/v1/pairings');
    assert.equal(f.calls[0].headers.get('Content-Type'), 'application/json');
    assert.ok(f.calls.slice(1).every((c) => c.method === 'GET' && c.url.endsWith('/v1/pairings/p1')));
    assert.equal(polls, 3);
  });

  it('denied is PAIRING_DENIED, expired or forgotten PAIRING_EXPIRED', async () => {
    const outcome = (status) => fakeFetch((call) => (call.method === 'POST' ? json(202, pending) : status === 404 ? problem(404, 'NOT_FOUND') : json(200, { ...pending, status })));
    await rejectsWith(new InkanClient({ fetch: outcome('denied') }).pair({ pollIntervalMs: 1 }), 'PAIRING_DENIED');
    await rejectsWith(new InkanClient({ fetch: outcome('expired') }).pair({ pollIntervalMs: 1 }), 'PAIRING_EXPIRED');
    await rejectsWith(new InkanClient({ fetch: outcome(404) }).pair({ pollIntervalMs: 1 }), 'PAIRING_EXPIRED');
  });

  it('stops polling when aborted', async () => {
    const controller = new AbortController();
    const f = fakeFetch((call) => (call.method === 'POST' ? json(202, pending) : json(200, pending)));
    const pairing = new InkanClient({ fetch: f }).pair({ signal: controller.signal, pollIntervalMs: 1000, onCode: () => setTimeout(() => controller.abort(), 10) });
    await rejectsWith(pairing, 'ABORTED');
  });
});

describe('validate()', () => {
  it('sends at as an ISO 8601 query parameter and refuses an invalid date', async () => {
    const f = fakeFetch(() => json(200, { valid: true }));
    const client = new InkanClient({ fetch: f });
    await client.validate(CARD, 'sign', { at: new Date(Date.UTC(2027, 0, 2, 3, 4, 5)) });
    assert.equal(new URL(f.calls[0].url).searchParams.get('at'), '2027-01-02T03:04:05.000Z');
    await client.validate(CARD, 'sign');
    assert.equal(new URL(f.calls[1].url).search, '');
    await rejectsWith(client.validate(CARD, 'sign', { at: 'yesterday-ish' }), 'INVALID_ARGUMENT');
  });
});
