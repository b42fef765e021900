// @inkan/client against a running inkand with the virtual My Number card
// (inkan-vcard --profile jpki; started by tests/integration/test_sdk.py): two
// PINs with their own counters and formats, two keys, the signing certificate
// the card shows only after its PIN. Signatures are verified with the
// certificate the card returned; refusals "before the card" are checked
// against the virtual card's APDU log.
import assert from 'node:assert/strict';
import { X509Certificate, createHash, verify } from 'node:crypto';
import { describe, it } from 'node:test';

import { InkanClient, InkanError } from '../../dist/index.js';
import { apduCount, stack } from '../stack/env.mjs';

const AUTH_PIN = process.env.INKAN_TEST_AUTH_PIN;
const SIGN_PIN = process.env.INKAN_TEST_SIGN_PIN;
if (!AUTH_PIN || !SIGN_PIN) throw new Error('INKAN_TEST_AUTH_PIN / INKAN_TEST_SIGN_PIN are not set: run through tests/integration/test_sdk.py');

const local = new InkanClient({ port: stack.port, token: stack.token });
const card = stack.cardId;

async function rejectsWith(promise, code, check = () => {}) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof InkanError, `expected an InkanError, got ${error}`);
    assert.equal(error.code, code, error.message);
    check(error);
    return true;
  });
}

/** `action` must send nothing to the card. */
async function sendsNothing(action) {
  const before = apduCount();
  await action();
  assert.equal(apduCount(), before, 'APDUs reached the card');
}

function assertVerifies(result, data) {
  const certificate = new X509Certificate(Buffer.from(result.certificate));
  assert.ok(verify('sha256', Buffer.from(data, 'utf8'), certificate.publicKey, Buffer.from(result.signature)),
    `the ${result.certificateId} signature does not verify with its certificate`);
  return certificate;
}

describe('the My Number card through @inkan/client', () => {
  it('card() lists both PINs, the signing certificate and the locked certificate', async () => {
    const listed = await local.card(card);
    assert.equal(listed.profile, 'jpki');
    assert.equal(listed.signingCertificate, 'sign');
    assert.deepEqual(listed.pins.map((p) => p.id), ['sign', 'auth']);
    const sign = listed.certificates.find((c) => c.id === 'sign');
    assert.equal(sign.readable, false);
    assert.equal(sign.readAfterPin, 'sign');
    assert.equal(sign.keyPin, 'sign');
    assert.equal(sign.subject, undefined);
    const auth = listed.certificates.find((c) => c.id === 'auth');
    assert.equal(auth.readable, true);
    assert.equal(auth.keyPin, 'auth');
    assert.deepEqual(listed.pin, { triesLeft: 5, maxTries: 5, blocked: false });
  });

  it('pins() answers from inkand without an APDU; pin() reads one counter from the card', async () => {
    let pins;
    await sendsNothing(async () => { pins = await local.pins(card); });
    const byId = Object.fromEntries(pins.map((p) => [p.id, p]));
    assert.equal(byId.sign.maxTries, 5);
    assert.equal(byId.auth.maxTries, 3);
    assert.deepEqual(byId.sign.format, { minLength: 6, maxLength: 16, alphabet: 'upper-alphanumeric' });
    assert.deepEqual(byId.auth.format, { minLength: 4, maxLength: 4, alphabet: 'digits' });
    assert.equal(byId.sign.unblockable, false);
    assert.equal(byId.auth.unblockable, false);
    assert.ok(byId.auth.label);

    const before = apduCount();
    const auth = await local.pin(card, 'auth');
    assert.ok(apduCount() > before, 'pin() should ask the card');
    assert.deepEqual({ ...auth, label: undefined }, { ...byId.auth, label: undefined });
    assert.deepEqual(await local.pinStatus(card, { pinId: 'auth' }), { triesLeft: 3, maxTries: 3, blocked: false });
    assert.deepEqual(await local.pinStatus(card), { triesLeft: 5, maxTries: 5, blocked: false });
    await rejectsWith(local.pin(card, 'user'), 'NOT_FOUND', (e) => assert.equal(e.status, 404));
  });

  it('a wrong auth PIN spends one try of the auth PIN only; the right one restores it', async () => {
    await rejectsWith(local.verifyPin(card, '9999', { pinId: 'auth' }), 'PIN_INCORRECT', (e) => assert.equal(e.triesLeft, 2));
    assert.equal((await local.pin(card, 'auth')).triesLeft, 2);
    assert.equal((await local.pin(card, 'sign')).triesLeft, 5);
    assert.deepEqual(await local.verifyPin(card, AUTH_PIN, { pinId: 'auth' }), { triesLeft: 3, maxTries: 3, blocked: false });
  });

  it('a PIN outside its format is refused before the card', async () => {
    await sendsNothing(() => rejectsWith(local.verifyPin(card, 'abc123', { pinId: 'sign' }), 'PIN_FORMAT'));
    await sendsNothing(() => rejectsWith(local.changePin(card, AUTH_PIN, '12345', { pinId: 'auth' }), 'PIN_FORMAT'));
  });

  it('changePin({pinId: "auth"}) changes the auth PIN and back', async () => {
    assert.equal((await local.changePin(card, AUTH_PIN, '4321', { pinId: 'auth' })).triesLeft, 3);
    await rejectsWith(local.verifyPin(card, AUTH_PIN, { pinId: 'auth' }), 'PIN_INCORRECT', (e) => assert.equal(e.triesLeft, 2));
    assert.equal((await local.changePin(card, '4321', AUTH_PIN, { pinId: 'auth' })).triesLeft, 3);
  });

  it('unblocking a PIN the card cannot unblock is UNSUPPORTED_OPERATION, nothing sent', async () => {
    await sendsNothing(async () => {
      await rejectsWith(local.unblockPin(card, '12345678', 'NEW123', { pinId: 'sign' }), 'UNSUPPORTED_OPERATION', (e) => assert.equal(e.status, 409));
      await rejectsWith(local.unblockPin(card, '12345678', '5678', { pinId: 'auth' }), 'UNSUPPORTED_OPERATION');
      await rejectsWith(local.unblockPin(card, '12345678', 'NEW123'), 'UNSUPPORTED_OPERATION');
      await rejectsWith(local.unblockCodeStatus(card), 'UNSUPPORTED_OPERATION');
    });
  });

  it('sign({certificate: "auth"}) signs with the auth key and its PIN', async () => {
    const data = '利用者証明 through @inkan/client';
    const result = await local.sign(card, { data, pin: AUTH_PIN, certificate: 'auth' });
    assert.equal(result.certificateId, 'auth');
    const certificate = assertVerifies(result, data);
    assert.deepEqual(Buffer.from(result.digest), createHash('sha256').update(data, 'utf8').digest());
    assert.equal(certificate.raw.toString('base64'), (await local.certificate(card, 'auth')).der);
  });

  it('sign() signs with the signing key and its PIN; the signing certificate is then listed', async () => {
    const data = '電子署名 through @inkan/client';
    const result = await local.sign(card, { data, pin: SIGN_PIN });
    assert.equal(result.certificateId, 'sign');
    assertVerifies(result, data);
    const sign = (await local.card(card)).certificates.find((c) => c.id === 'sign');
    assert.equal(sign.readable, true);
    assert.match(sign.subject, /テスト 花子/);
    assert.equal(sign.keyPin, 'sign');
  });

  it('verifyPin({pinId}) then sign without a PIN uses that PIN\'s key', async () => {
    await local.verifyPin(card, AUTH_PIN, { pinId: 'auth' });
    const result = await local.sign(card, { data: 'after verify', certificate: 'auth' });
    assertVerifies(result, 'after verify');
  });
});
