// @inkan/client against a running inkand with the virtual card (started by
// tests/integration/test_sdk.py). Every signature is verified with the
// certificate the card returned; refusals are checked against the virtual
// card's APDU log.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate, createHash, verify } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, before } from 'node:test';

import { InkanClient, InkanError } from '../../dist/index.js';
import { apduCount, fetchAsOrigin, stack, waitFor } from './env.mjs';

const HASHES = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const WRONG_PIN = '9999';

const local = new InkanClient({ port: stack.port, token: stack.token });

/** Verifies an RSASSA-PKCS1-v1_5 signature over `data` with the certificate's key (OpenSSL via node:crypto). */
function assertVerifies(certificateDer, algorithm, data, signature) {
  const certificate = new X509Certificate(Buffer.from(certificateDer));
  assert.ok(verify(HASHES[algorithm], Buffer.from(data), certificate.publicKey, Buffer.from(signature)),
    `${algorithm} signature does not verify`);
}

async function rejectsWith(promise, code, check = () => {}) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof InkanError, `expected an InkanError, got ${error}`);
    assert.equal(error.code, code, error.message);
    check(error);
    return true;
  });
}

function closedPort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

describe('reading', () => {
  it('status() lists the reader holding the virtual card', async () => {
    const status = await local.status();
    assert.equal(status.pcscAvailable, true);
    assert.ok(status.version);
    const reader = status.readers.find((r) => r.cardId === stack.cardId);
    assert.ok(reader, JSON.stringify(status));
    assert.equal(reader.cardPresent, true);
  });

  it('cards() and card() describe the card with its PIN state and certificates', async () => {
    const cards = await local.cards();
    const card = cards.find((c) => c.id === stack.cardId);
    assert.ok(card);
    assert.equal(card.pin.maxTries, 10);
    assert.ok(card.certificates.some((c) => c.id === 'sign'));
    assert.deepEqual(await local.card(stack.cardId), card);
  });

  it('certificate() returns the DER as base64 and as bytes of a parseable certificate', async () => {
    const certificate = await local.certificate(stack.cardId, 'sign');
    assert.ok(certificate.derBytes instanceof Uint8Array);
    assert.equal(Buffer.from(certificate.derBytes).toString('base64'), certificate.der);
    const x509 = new X509Certificate(Buffer.from(certificate.derBytes));
    assert.equal(x509.serialNumber.replace(/^0+/, ''), certificate.serialNumber.replace(/^0+/, ''));
    assert.match(certificate.subject, /株式会社いんかん商事/);
  });

  it('an unknown certificate or card is an InkanError with the problem fields', async () => {
    await rejectsWith(local.certificate(stack.cardId, 'nope'), 'NOT_FOUND', (e) => {
      assert.equal(e.status, 404);
      assert.equal(e.type, 'urn:inkan:problem:not-found');
      assert.ok(e.title && e.detail);
      assert.equal(e.fromDaemon, true);
    });
    await rejectsWith(local.card('0000000000000000'), 'CARD_NOT_FOUND', (e) => assert.equal(e.status, 404));
  });

  it('pinStatus() reads the tries left', async () => {
    const pin = await local.pinStatus(stack.cardId);
    assert.deepEqual(pin, { triesLeft: 10, maxTries: 10, blocked: false });
  });

  it('validate() checks the certificate now and as of a date', async () => {
    const now = await local.validate(stack.cardId, 'sign');
    assert.equal(now.cardId, stack.cardId);
    assert.equal(now.certificateId, 'sign');
    assert.ok(['valid', 'invalid', 'revoked', 'suspended', 'unknown'].includes(now.verdict), now.verdict);
    // Long before the certificate was issued it cannot be valid.
    const then = await local.validate(stack.cardId, 'sign', { at: new Date('2000-01-01T00:00:00Z') });
    assert.notEqual(then.verdict, 'valid');
    await rejectsWith(local.validate(stack.cardId, 'nope'), 'NOT_FOUND');
  });
});

describe('signing', () => {
  for (const algorithm of Object.keys(HASHES)) {
    it(`sign({data}) hashes with WebCrypto (${algorithm}) and the signature verifies`, async () => {
      const data = `申請書 ${algorithm}`;
      const result = await local.sign(stack.cardId, { data, digestAlgorithm: algorithm, pin: stack.pin });
      assert.ok(result.signature instanceof Uint8Array && result.certificate instanceof Uint8Array);
      assert.equal(Buffer.from(result.signature).toString('base64'), result.signatureBase64);
      assert.equal(Buffer.from(result.certificate).toString('base64'), result.certificateBase64);
      assert.deepEqual(Buffer.from(result.digest), createHash(HASHES[algorithm]).update(data, 'utf8').digest());
      assert.equal(result.digestAlgorithm, algorithm);
      assert.equal(result.certificateId, 'sign');
      assert.match(result.signatureAlgorithm, new RegExp(algorithm));
      assertVerifies(result.certificate, algorithm, Buffer.from(data, 'utf8'), result.signature);
    });
  }

  it('signDocument({format: "cms"}) returns a detached CMS signature that openssl cms verifies', async () => {
    const text = '登記申請書\r\n商号 株式会社いんかん商事\n';
    const result = await local.signDocument(stack.cardId, { format: 'cms', content: text, name: '申請書.txt', pin: stack.pin });
    assert.equal(result.format, 'cms');
    assert.equal(result.certificateId, 'sign');
    assert.equal(result.document.size, Buffer.byteLength(text, 'utf8'));
    assert.equal(result.document.sha256, createHash('sha256').update(text, 'utf8').digest('hex'));
    assert.equal(Buffer.from(result.signature).toString('base64'), result.signatureBase64);
    const dir = mkdtempSync(join(tmpdir(), 'inkan-sdk-cms-'));
    try {
      writeFileSync(join(dir, 'doc.txt'), text);
      writeFileSync(join(dir, 'doc.p7s'), result.signature);
      const certificate = new X509Certificate(Buffer.from(result.certificate));
      writeFileSync(join(dir, 'signer.pem'), certificate.toString());
      const verify = (content) => spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, 'doc.p7s'),
        '-content', content, '-noverify', '-certfile', join(dir, 'signer.pem'), '-out', '/dev/null'], { encoding: 'utf8' });
      const good = verify(join(dir, 'doc.txt'));
      assert.equal(good.status, 0, good.stderr);
      writeFileSync(join(dir, 'other.txt'), text + ' ');
      assert.notEqual(verify(join(dir, 'other.txt')).status, 0, 'another content must not verify');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('signDocument({format: "pdf"}) returns the PDF signed, which pdfsig finds valid', async () => {
    // A one-page PDF with a classic xref table, written here.
    const objects = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>'];
    let pdf = '%PDF-1.7\n';
    const offsets = objects.map((body, i) => { const at = pdf.length; pdf += `${i + 1} 0 obj\n${body}\nendobj\n`; return at; });
    const xref = pdf.length;
    pdf += `xref\n0 4\n0000000000 65535 f\r\n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n\r\n`).join('')}`;
    pdf += `trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    const original = Buffer.from(pdf, 'latin1');
    const result = await local.signDocument(stack.cardId, { format: 'pdf', content: original, name: '申請書.pdf', reason: '登記申請',
      visible: true, pin: stack.pin });
    assert.equal(result.format, 'pdf');
    assert.equal(result.document.pages, 1);
    assert.equal(result.document.size, original.length);
    assert.deepEqual(Buffer.from(result.signature.subarray(0, original.length)), original);
    const dir = mkdtempSync(join(tmpdir(), 'inkan-sdk-pdf-'));
    try {
      writeFileSync(join(dir, 'signed.pdf'), result.signature);
      const checked = spawnSync('pdfsig', [join(dir, 'signed.pdf')], { encoding: 'utf8' });
      assert.equal(checked.status, 0, checked.stderr);
      assert.match(checked.stdout, /Signature Validation: Signature is Valid\./);
      assert.match(checked.stdout, /Signature Type: adbe\.pkcs7\.detached/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('signDocument refuses bad arguments before anything is sent', async () => {
    const before = apduCount();
    await rejectsWith(local.signDocument(stack.cardId, { format: 'docx', content: 'x', pin: stack.pin }), 'INVALID_ARGUMENT');
    await rejectsWith(local.signDocument(stack.cardId, { format: 'cms', content: '', pin: stack.pin }), 'INVALID_ARGUMENT');
    await rejectsWith(local.signDocument(stack.cardId, { format: 'cms', content: 'x', digestAlgorithm: 'MD5', pin: stack.pin }),
      'INVALID_ARGUMENT');
    await rejectsWith(local.signDocument(stack.cardId, { format: 'cms', content: 'x', visible: true, pin: stack.pin }), 'INVALID_ARGUMENT');
    assert.equal(apduCount(), before);
  });

  it('sign({digest}) takes an ArrayBuffer or a view into a larger buffer', async () => {
    const data = Buffer.from('e-Gov 申請データ');
    const digest = createHash('sha256').update(data).digest();
    const padded = new Uint8Array(digest.length + 7);
    padded.set(digest, 3);
    const view = padded.subarray(3, 3 + digest.length);
    const viaView = await local.sign(stack.cardId, { digest: view, pin: stack.pin });
    assertVerifies(viaView.certificate, 'SHA-256', data, viaView.signature);
    const buffer = digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.length);
    const viaBuffer = await local.sign(stack.cardId, { digest: buffer, pin: stack.pin });
    assertVerifies(viaBuffer.certificate, 'SHA-256', data, viaBuffer.signature);
  });

  it('the signature verifies with the openssl command too', async () => {
    const data = Buffer.from('detached CMS content');
    const result = await local.sign(stack.cardId, { data, digestAlgorithm: 'SHA-256', pin: stack.pin });
    const dir = mkdtempSync(join(tmpdir(), 'inkan-sdk-'));
    try {
      writeFileSync(join(dir, 'cert.der'), result.certificate);
      writeFileSync(join(dir, 'data.bin'), data);
      writeFileSync(join(dir, 'sig.bin'), result.signature);
      execFileSync('openssl', ['x509', '-inform', 'DER', '-in', join(dir, 'cert.der'), '-pubkey', '-noout', '-out', join(dir, 'pub.pem')]);
      const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig.bin'), join(dir, 'data.bin')], { encoding: 'utf8' });
      assert.match(out, /Verified OK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a digest of the wrong length or both digest and data are refused before anything is sent', async () => {
    const before = apduCount();
    await rejectsWith(local.sign(stack.cardId, { digest: new Uint8Array(31), pin: stack.pin }), 'INVALID_ARGUMENT', (e) => assert.equal(e.status, 0));
    await rejectsWith(local.sign(stack.cardId, { digest: new Uint8Array(32), digestAlgorithm: 'SHA-512', pin: stack.pin }), 'INVALID_ARGUMENT');
    await rejectsWith(local.sign(stack.cardId, { digest: new Uint8Array(32), data: 'x', pin: stack.pin }), 'INVALID_ARGUMENT');
    await rejectsWith(local.sign(stack.cardId, { pin: stack.pin }), 'INVALID_ARGUMENT');
    await rejectsWith(local.sign(stack.cardId, { data: 'x', digestAlgorithm: 'MD5', pin: stack.pin }), 'INVALID_ARGUMENT');
    assert.equal(apduCount(), before);
  });

  it('a wrong PIN is PIN_INCORRECT with triesLeft; the right one restores the tries', async () => {
    await rejectsWith(local.sign(stack.cardId, { data: 'x', pin: WRONG_PIN }), 'PIN_INCORRECT', (e) => {
      assert.equal(e.status, 403);
      assert.equal(e.triesLeft, 9);
      assert.equal(e.problem.triesLeft, 9);
    });
    assert.equal((await local.pinStatus(stack.cardId)).triesLeft, 9);
    await local.sign(stack.cardId, { data: 'x', pin: stack.pin });
    assert.equal((await local.pinStatus(stack.cardId)).triesLeft, 10);
  });

  it('a PIN that cannot be valid is PIN_FORMAT and never reaches the card', async () => {
    const before = apduCount();
    await rejectsWith(local.sign(stack.cardId, { data: 'x', pin: 'abc' }), 'PIN_FORMAT', (e) => assert.equal(e.status, 400));
    assert.equal(apduCount(), before);
  });

  it('verifyPin() then sign() without a PIN signs once', async () => {
    const status = await local.verifyPin(stack.cardId, stack.pin);
    assert.equal(status.triesLeft, 10);
    const result = await local.sign(stack.cardId, { data: 'once' });
    assertVerifies(result.certificate, 'SHA-256', Buffer.from('once'), result.signature);
    await rejectsWith(local.sign(stack.cardId, { data: 'twice' }), 'PIN_REQUIRED');
  });

  it('changePin() changes the PIN and back', async () => {
    const newPin = '5678';
    await local.changePin(stack.cardId, stack.pin, newPin);
    try {
      await rejectsWith(local.sign(stack.cardId, { data: 'x', pin: stack.pin }), 'PIN_INCORRECT');
      const result = await local.sign(stack.cardId, { data: 'x', pin: newPin });
      assert.ok(result.signature.length > 0);
    } finally {
      await local.changePin(stack.cardId, newPin, stack.pin);
    }
    assert.equal((await local.pinStatus(stack.cardId)).triesLeft, 10);
  });
});

describe('self-test', () => {
  it('selftest() without a PIN checks everything but the key; with the PIN the key too', async () => {
    const quick = await local.selftest(stack.cardId);
    assert.equal(quick.cardId, stack.cardId);
    const key = quick.checks.find((c) => c.name === 'key');
    assert.equal(key?.result, 'skipped');
    const full = await local.selftest(stack.cardId, { pin: stack.pin });
    assert.equal(full.checks.find((c) => c.name === 'key')?.result, 'pass', JSON.stringify(full.checks));
    assert.equal((await local.pinStatus(stack.cardId)).triesLeft, 10);
  });
});

describe('browser origins', () => {
  it('an allowlisted origin needs no token, and every request carries Inkan-Client', async () => {
    const seen = [];
    const page = new InkanClient({ port: stack.port, fetch: fetchAsOrigin(stack.allowedOrigin, seen) });
    const access = await page.access();
    assert.equal(access.standing, 'allowlisted');
    assert.equal(access.pinSource, 'request');
    const cards = await page.cards();
    assert.ok(cards.some((c) => c.id === stack.cardId));
    const result = await page.sign(stack.cardId, { data: 'from a portal page', pin: stack.pin });
    assertVerifies(result.certificate, 'SHA-256', Buffer.from('from a portal page'), result.signature);
    for (const { method, headers, response } of seen) {
      assert.ok(headers.get('Inkan-Client')?.startsWith('@inkan/client '), method);
      assert.equal(headers.get('Authorization'), null);
      if (method === 'POST') assert.equal(headers.get('Content-Type'), 'application/json');
      assert.equal(response.headers.get('Access-Control-Allow-Origin'), stack.allowedOrigin);
    }
  });

  it('another origin is ORIGIN_NOT_PAIRED (inkand: ORIGIN_FORBIDDEN) and nothing reaches the card', async () => {
    const evil = new InkanClient({ port: stack.port, fetch: fetchAsOrigin('https://evil.test') });
    const before = apduCount();
    const check = (e) => {
      assert.equal(e.serverCode, 'ORIGIN_FORBIDDEN');
      assert.equal(e.status, 403);
    };
    await rejectsWith(evil.cards(), 'ORIGIN_NOT_PAIRED', check);
    await rejectsWith(evil.sign(stack.cardId, { data: 'forged', pin: stack.pin }), 'ORIGIN_NOT_PAIRED', check);
    await rejectsWith(evil.pinStatus(stack.cardId), 'ORIGIN_NOT_PAIRED', check);
    // A look-alike of the allowed origin is another origin.
    const lookalike = new InkanClient({ port: stack.port, fetch: fetchAsOrigin(`${stack.allowedOrigin}.evil.test`) });
    await rejectsWith(lookalike.sign(stack.cardId, { data: 'forged', pin: stack.pin }), 'ORIGIN_NOT_PAIRED');
    assert.equal(apduCount(), before);
  });

  it('a caller with neither origin nor token is UNAUTHORIZED', async () => {
    await rejectsWith(new InkanClient({ port: stack.port }).status(), 'UNAUTHORIZED', (e) => assert.equal(e.status, 401));
  });
});

describe('when inkand cannot be reached', () => {
  it('nothing listening is DAEMON_UNREACHABLE', async () => {
    const client = new InkanClient({ port: await closedPort(), token: stack.token });
    await rejectsWith(client.status(), 'DAEMON_UNREACHABLE', (e) => {
      assert.equal(e.status, 0);
      assert.match(e.message, /not running/);
    });
  });

  it('a certificate the runtime does not trust is CERTIFICATE_UNTRUSTED', () => {
    // A fresh node without NODE_EXTRA_CA_CERTS does not trust inkand's local CA.
    const script = `
      import { InkanClient } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
      try { await new InkanClient({ port: ${stack.port}, token: ${JSON.stringify(stack.token)} }).status(); console.log('OK'); }
      catch (e) { console.log(e.code); }`;
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    assert.equal(result.stdout.trim(), 'CERTIFICATE_UNTRUSTED', result.stderr);
  });

  it('an aborted call is ABORTED', async () => {
    const controller = new AbortController();
    controller.abort();
    await rejectsWith(local.status({ signal: controller.signal }), 'ABORTED');
  });
});

describe('events', () => {
  before(async () => {
    await waitFor(async () => (await local.cards()).some((c) => c.id === stack.cardId), 'the card');
  });

  /** The next event of one of `types`; `pending` is an already started next() call, if any. */
  async function nextOfType(iterator, types, pending = null, timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no ${types.join('/')} event in time`);
      let timer;
      const result = await Promise.race([
        pending ?? iterator.next(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no ${types.join('/')} event in time`)), remaining); }),
      ]).finally(() => clearTimeout(timer));
      pending = null;
      if (result.done) throw new Error('the event stream ended');
      if (types.includes(result.value.type)) return result.value;
    }
  }

  it('removing and re-inserting the card arrive as card-removed and card-inserted; a reconnect resumes from Last-Event-ID', async () => {
    const opened = [];
    const stream = local.events({ onOpen: () => opened.push(Date.now()) });
    const first = stream.next();  // starts the stream
    await waitFor(() => opened.length > 0, 'the event stream to open');
    process.kill(stack.vcardPid, 'SIGUSR1');
    const removed = await nextOfType(stream, ['card-removed'], first);
    assert.equal(removed.data.cardId, stack.cardId);
    process.kill(stack.vcardPid, 'SIGUSR2');
    const inserted = await nextOfType(stream, ['card-inserted']);
    assert.equal(inserted.data.cardId, stack.cardId);
    assert.ok(Number(inserted.id) > Number(removed.id));
    await stream.return();

    // Resuming from just before the removal replays both events.
    const resumed = local.events({ lastEventId: String(Number(removed.id) - 1) });
    const replayedRemoval = await nextOfType(resumed, ['card-removed', 'reset']);
    assert.equal(replayedRemoval.type, 'card-removed');
    assert.equal(replayedRemoval.id, removed.id);
    const replayedInsertion = await nextOfType(resumed, ['card-inserted']);
    assert.equal(replayedInsertion.id, inserted.id);
    await resumed.return();
    await waitFor(async () => (await local.cards()).some((c) => c.id === stack.cardId), 'the card to be back');
  });

  it('another origin cannot subscribe', async () => {
    const evil = new InkanClient({ port: stack.port, fetch: fetchAsOrigin('https://evil.test') });
    const stream = evil.events();
    await rejectsWith(stream.next(), 'ORIGIN_NOT_PAIRED');
  });
});

describe('pairing', () => {
  /** The user's side of pairing, as `inkan pair approve|deny` does it: the local token, no Origin. */
  async function decide(pairing, verdict) {
    const response = await fetch(`https://127.0.0.1:${stack.port}/v1/pairings/${encodeURIComponent(pairing.id)}/${verdict}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${stack.token}`, 'Content-Type': 'application/json', 'Inkan-Client': 'sdk-tests' },
      body: JSON.stringify(verdict === 'approve' ? { code: pairing.code } : {}),
    });
    assert.equal(response.status, 200, await response.text());
  }

  /** The user's decision `ms` after the code is shown; awaited by the test, so its failure is the test's own. */
  function later(ms, act) {
    return new Promise((resolve) => { setTimeout(resolve, ms); }).then(act);
  }

  it('an unknown origin learns where it stands from access() and gets nothing else', async () => {
    const page = new InkanClient({ port: stack.port, fetch: fetchAsOrigin('https://newcomer.test') });
    const access = await page.access();
    assert.equal(access.standing, 'unknown');
    await rejectsWith(page.cards(), 'ORIGIN_NOT_PAIRED');
  });

  it('pair() shows the code, waits for the user\'s approval, and the origin may then read the cards', async () => {
    const origin = 'https://newcomer.test';
    const page = new InkanClient({ port: stack.port, fetch: fetchAsOrigin(origin) });
    const shown = [];
    let decided;
    const pairing = await page.pair({
      pollIntervalMs: 200,
      onCode: (p) => {
        shown.push(p);
        decided = later(300, () => decide(p, 'approve'));
      },
    });
    await decided;
    assert.equal(shown.length, 1);
    assert.match(shown[0].code, /\S/);
    assert.equal(shown[0].origin, origin);
    assert.equal(pairing.status, 'approved');
    assert.equal((await page.access()).standing, 'paired');
    assert.ok((await page.cards()).some((c) => c.id === stack.cardId));
    await rejectsWith(page.pair({ pollIntervalMs: 200 }), 'ALREADY_PAIRED');
  });

  it('a denied pairing is PAIRING_DENIED and the origin stays refused', async () => {
    const page = new InkanClient({ port: stack.port, fetch: fetchAsOrigin('https://refused.test') });
    let decided;
    await rejectsWith(page.pair({ pollIntervalMs: 200, onCode: (p) => { decided = later(300, () => decide(p, 'deny')); } }),
      'PAIRING_DENIED');
    await decided;
    await rejectsWith(page.cards(), 'ORIGIN_NOT_PAIRED');
  });
});
