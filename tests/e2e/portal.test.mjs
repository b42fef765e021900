// The example portal (client-sdk/examples/portal) in Debian's Chromium, driven
// by playwright-core, against the real stack that tests/integration/test_browser.py
// started. The page is served over HTTPS from https://portal.test:PORT (allowlisted
// in inkand), https://pad.test:PORT (allowlisted, its PIN typed on the reader's PIN
// pad) and https://evil.test:PORT (not allowlisted); the names map to 127.0.0.1
// with --host-resolver-rules. Chromium trusts the portal's test CA and
// inkand's local CA only through the NSS database under $HOME (no
// --ignore-certificate-errors): the trust path users get with `inkan trust install`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate, verify } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { launchChromium, required } from './chromium.mjs';

import { startServer } from '../../client-sdk/examples/serve.mjs';
import { countApdus } from '../../client-sdk/js/test/apdu-log.mjs';

const RUNNER = 'tests/integration/test_browser.py';

const env = {
  portalPort: Number(required('PORTAL_PORT', RUNNER)),
  portalCert: required('PORTAL_CERT', RUNNER),
  portalKey: required('PORTAL_KEY', RUNNER),
  portalRoot: required('PORTAL_ROOT', RUNNER),  // client-sdk/: examples/ and js/dist/ below it
  inkanPort: Number(required('INKAN_PORT', RUNNER)),
  cardId: required('INKAN_CARD_ID', RUNNER),
  pin: required('INKAN_PIN', RUNNER),
  apduLog: required('INKAN_APDU_LOG', RUNNER),
  keypad: required('INKAN_KEYPAD', RUNNER),  // the virtual PIN pad reader's keypad: a line is what the user types
  vcardPid: Number(required('INKAN_VCARD_PID', RUNNER)),
  screenshots: required('SCREENSHOT_DIR', RUNNER),
  work: required('E2E_WORK_DIR'),
  token: required('INKAN_TOKEN', RUNNER),  // only for approving the pairing, as `inkan pair approve` does
};

const PORTAL = `https://portal.test:${env.portalPort}`;
const EVIL = `https://evil.test:${env.portalPort}`;
const PAD = `https://pad.test:${env.portalPort}`;
const PAGE = `/examples/portal/index.html?port=${env.inkanPort}`;
const CORPORATE_NAME = '株式会社いんかん商事';
const WRONG_PIN = '9999';
const TIMEOUT = 20000;

/** The portal's files over HTTPS for both host names (one certificate with both names). */
function startPortalServer() {
  return startServer({ port: env.portalPort, root: env.portalRoot, cert: env.portalCert, key: env.portalKey });
}

function apduCount() {
  return countApdus(env.apduLog);
}

/** What a portal's back end does with the page's result: the signature over `text` verifies (openssl, node). */
function assertVerifies(text, signature, certificate) {
  const dir = mkdtempSync(join(env.work, 'verify-'));
  writeFileSync(join(dir, 'document.txt'), text);
  writeFileSync(join(dir, 'signature.bin'), signature);
  writeFileSync(join(dir, 'certificate.der'), certificate);
  execFileSync('openssl', ['x509', '-inform', 'DER', '-in', join(dir, 'certificate.der'), '-pubkey', '-noout', '-out', join(dir, 'public.pem')]);
  const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', join(dir, 'public.pem'), '-signature', join(dir, 'signature.bin'), join(dir, 'document.txt')], { encoding: 'utf8' });
  assert.match(out, /Verified OK/);
  const x509 = new X509Certificate(certificate);
  assert.ok(verify('sha256', Buffer.from(text, 'utf8'), x509.publicKey, signature));
  assert.match(x509.subject, new RegExp(CORPORATE_NAME));
}

let server;
let context;
const consoleLines = [];

async function screenshot(page, name) {
  mkdirSync(env.screenshots, { recursive: true });
  await page.screenshot({ path: join(env.screenshots, `${name}.png`), fullPage: true });
}

async function openPortal(origin = PORTAL) {
  const page = await context.newPage();
  page.on('console', (m) => consoleLines.push(`[${origin}] ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[${origin}] pageerror: ${e.message}`));
  await page.goto(origin + PAGE);
  await page.waitForSelector('body[data-ready="true"]', { timeout: TIMEOUT });
  return page;
}

/** Fails with what the page shows when it shows an error instead. */
async function pageError(page) {
  return page.evaluate(() => {
    const box = document.getElementById('error');
    return box.hidden ? null : `${box.dataset.code}: ${box.textContent.replace(/\s+/g, ' ')}`;
  });
}

before(async () => {
  server = await startPortalServer();
  context = await launchChromium({
    workDir: env.work,
    extraArgs: ['--host-resolver-rules=MAP portal.test 127.0.0.1, MAP pad.test 127.0.0.1, MAP evil.test 127.0.0.1'],
    viewport: { width: 1000, height: 1100 },
  });
});

after(async () => {
  await context?.close();
  await new Promise((done) => (server ? server.close(done) : done()));
  if (consoleLines.length) writeFileSync(join(env.work, 'browser-console.log'), consoleLines.join('\n') + '\n');
});

describe('the example portal on an allowlisted https origin', () => {
  it('lists the card with its 商号', async () => {
    const page = await openPortal();
    try {
      const item = page.locator(`[data-card-id="${env.cardId}"]`);
      await item.waitFor({ timeout: TIMEOUT }).catch(async (e) => { throw new Error(`${e.message}; page shows ${await pageError(page)}`); });
      assert.equal(await item.locator('.corporate-name').textContent(), CORPORATE_NAME);
      assert.match(await item.locator('.pin').textContent(), /10\/10/);
      assert.equal(await page.locator('#connection').getAttribute('data-state'), 'connected');
      await screenshot(page, 'portal-cards');
    } finally {
      await page.close();
    }
  });

  it('signs a digest of the typed text; the signature verifies with openssl', async () => {
    const page = await openPortal();
    try {
      await page.locator(`[data-card-id="${env.cardId}"]`).waitFor({ timeout: TIMEOUT });
      const text = `登記事項変更の申請 ${new Date().toISOString()}\n代表取締役 印鑑 太郎`;
      await page.fill('#document', text);
      await page.selectOption('#algorithm', 'SHA-256');
      await page.fill('#pin', env.pin);
      await page.click('#sign');
      await page.waitForSelector('#result:not([hidden])', { timeout: TIMEOUT }).catch(async (e) => { throw new Error(`${e.message}; page shows ${await pageError(page)}`); });
      assert.equal(await page.inputValue('#pin'), '', 'the page clears the PIN field');
      const signature = Buffer.from(await page.textContent('#signature'), 'base64');
      const certificate = Buffer.from(await page.textContent('#certificate'), 'base64');
      const digestHex = await page.textContent('#digest');
      assert.equal(digestHex, createHash('sha256').update(text, 'utf8').digest('hex'));
      assert.equal(await page.textContent('#signer'), CORPORATE_NAME);
      await screenshot(page, 'portal-signed');

      assertVerifies(text, signature, certificate);
    } finally {
      await page.close();
    }
  });

  it('a wrong PIN shows PIN_INCORRECT with the tries left', async () => {
    const page = await openPortal();
    try {
      await page.locator(`[data-card-id="${env.cardId}"]`).waitFor({ timeout: TIMEOUT });
      await page.fill('#pin', WRONG_PIN);
      await page.click('#sign');
      const box = page.locator('#error[data-code="PIN_INCORRECT"]');
      await box.waitFor({ timeout: TIMEOUT }).catch(async (e) => { throw new Error(`${e.message}; page shows ${await pageError(page)}`); });
      assert.equal(await box.getAttribute('data-tries-left'), '9');
      assert.match(await page.textContent('#error-message'), /残り 9 回/);
      // The list follows the card's PIN state.
      await page.locator(`[data-card-id="${env.cardId}"] .pin[data-tries-left="9"]`).waitFor({ timeout: TIMEOUT });
      await screenshot(page, 'portal-pin-incorrect');

      // The right PIN signs and restores the tries.
      await page.fill('#pin', env.pin);
      await page.click('#sign');
      await page.waitForSelector('#result:not([hidden])', { timeout: TIMEOUT });
      await page.locator(`[data-card-id="${env.cardId}"] .pin[data-tries-left="10"]`).waitFor({ timeout: TIMEOUT });
    } finally {
      await page.close();
    }
  });

  it('follows the card being removed and inserted again', async () => {
    const page = await openPortal();
    try {
      const item = page.locator(`[data-card-id="${env.cardId}"]`);
      await item.waitFor({ timeout: TIMEOUT });
      // Events when inkand has GET /v1/events; the page polls otherwise.
      await page.waitForFunction(() => ['events', 'polling'].includes(document.getElementById('live-mode').dataset.mode), null, { timeout: TIMEOUT });
      const mode = await page.getAttribute('#live-mode', 'data-mode');
      console.log(`# the portal follows cards by ${mode}`);
      writeFileSync(join(env.work, 'live-mode.txt'), mode);

      process.kill(env.vcardPid, 'SIGUSR1');  // inkan-vcard: card out
      await item.waitFor({ state: 'detached', timeout: TIMEOUT });
      await page.locator('#no-cards:not([hidden])').waitFor({ timeout: TIMEOUT });
      if (mode === 'events') await page.locator(`#events li[data-type="card-removed"]`).first().waitFor({ timeout: TIMEOUT });
      await screenshot(page, 'portal-card-removed');

      process.kill(env.vcardPid, 'SIGUSR2');  // card in
      await item.waitFor({ timeout: TIMEOUT });
      assert.equal(await item.locator('.corporate-name').textContent(), CORPORATE_NAME);
      if (mode === 'events') await page.locator(`#events li[data-type="card-inserted"]`).first().waitFor({ timeout: TIMEOUT });
      await screenshot(page, 'portal-card-reinserted');
    } finally {
      await page.close();
    }
  });
});

describe('a portal whose PIN is typed on the reader\'s PIN pad', () => {
  it('shows no PIN field, points to the reader, and signs with what the user typed there', async () => {
    const page = await openPortal(PAD);
    try {
      await page.locator(`[data-card-id="${env.cardId}"]`).waitFor({ timeout: TIMEOUT }).catch(async (e) => { throw new Error(`${e.message}; page shows ${await pageError(page)}`); });
      assert.ok(await page.isHidden('#pin'), 'no PIN field');
      assert.match(await page.textContent('#pin-pinpad:not([hidden])'), /PIN パッド/);
      const text = `役員変更登記申請 ${new Date().toISOString()}`;
      await page.fill('#document', text);
      await page.selectOption('#algorithm', 'SHA-256');
      appendFileSync(env.keypad, `${env.pin}\n`);  // the user types the PIN on the reader, then OK
      await page.click('#sign');
      await page.waitForSelector('#result:not([hidden])', { timeout: TIMEOUT }).catch(async (e) => { throw new Error(`${e.message}; page shows ${await pageError(page)}`); });
      assert.equal(readFileSync(env.keypad, 'utf8'), '', 'the reader took the PIN from its keypad');
      assertVerifies(text, Buffer.from(await page.textContent('#signature'), 'base64'),
        Buffer.from(await page.textContent('#certificate'), 'base64'));
      await screenshot(page, 'portal-pinpad-signed');
    } finally {
      await page.close();
    }
  });
});

describe('the event stream in the browser', () => {
  it('a reconnect resumes with Last-Event-ID: what happened meanwhile is replayed', async () => {
    const page = await openPortal();
    try {
      await page.locator(`[data-card-id="${env.cardId}"]`).waitFor({ timeout: TIMEOUT });
      await page.evaluate(async (port) => {
        const { InkanClient } = await import('/js/dist/index.js');
        const inkan = new InkanClient({ port });
        const errors = [];
        /** Opens a stream and resolves with it once connected. */
        const open = (lastEventId) => new Promise((resolve) => {
          const stream = inkan.events({ lastEventId, onError: (e) => errors.push(e.code), onOpen: () => resolve(stream) });
          stream.pending = stream.next();  // starts it
        });
        /** The next event of `type` (or null after `ms`). */
        const next = async (stream, type, ms) => {
          const deadline = Date.now() + ms;
          let pending = stream.pending;
          stream.pending = null;
          while (Date.now() < deadline) {
            const result = await Promise.race([pending ?? stream.next(), new Promise((r) => setTimeout(() => r(null), deadline - Date.now()))]);
            pending = null;
            if (!result || result.done) return null;
            if (result.value.type === type) return result.value;
          }
          return null;
        };
        window.__events = { inkan, errors, open, next };
      }, env.inkanPort);

      await page.evaluate(async () => { window.__events.first = await window.__events.open(); });
      process.kill(env.vcardPid, 'SIGUSR1');  // card out, seen live
      const removedId = await page.evaluate(async () => {
        const { first, next } = window.__events;
        const removed = await next(first, 'card-removed', 15000);
        await first.return();  // the page goes away (or loses the connection)
        return removed?.id ?? null;
      });
      assert.ok(removedId, 'no card-removed event');

      process.kill(env.vcardPid, 'SIGUSR2');  // card in while nobody listens
      await page.locator(`[data-card-id="${env.cardId}"]`).waitFor({ timeout: TIMEOUT });  // the portal page's own stream saw it

      const replay = await page.evaluate(async (lastEventId) => {
        const { open, next, errors } = window.__events;
        const stream = await Promise.race([open(lastEventId), new Promise((r) => setTimeout(() => r(null), 15000))]);
        if (!stream) return { errors };
        const inserted = await next(stream, 'card-inserted', 15000);
        await stream.return();
        return { inserted, errors };
      }, removedId);
      assert.deepEqual(replay.errors, [], 'the resumed stream failed (is Last-Event-ID allowed by CORS?)');
      assert.ok(replay.inserted, 'card-inserted was not replayed');
      assert.ok(Number(replay.inserted.id) > Number(removedId));
      assert.equal(replay.inserted.data.cardId, env.cardId);
    } finally {
      await page.close();
    }
  });
});

describe('the same page on another origin', () => {
  it('is refused (ORIGIN_NOT_PAIRED) and no APDU reaches the card', async () => {
    const before = apduCount();
    const page = await openPortal(EVIL);
    try {
      const box = page.locator('#error[data-code]');
      await box.waitFor({ timeout: TIMEOUT });
      assert.equal(await box.getAttribute('data-code'), 'ORIGIN_NOT_PAIRED', await pageError(page));
      assert.equal(await page.locator('[data-card-id]').count(), 0);
      assert.equal(await page.isVisible('#pair'), true, 'the page offers pairing');
      await screenshot(page, 'evil-origin-refused');

      // Straight calls from that origin, with the card id known: refused as well.
      const outcome = await page.evaluate(async ({ port, cardId, pin }) => {
        const { InkanClient } = await import('/js/dist/index.js');
        const inkan = new InkanClient({ port });
        const codes = [];
        for (const call of [() => inkan.sign(cardId, { data: 'forged', pin }), () => inkan.pinStatus(cardId), () => inkan.changePin(cardId, pin, '0000')]) {
          try { await call(); codes.push('OK'); } catch (e) { codes.push(e.code); }
        }
        return codes;
      }, { port: env.inkanPort, cardId: env.cardId, pin: env.pin });
      assert.deepEqual(outcome, ['ORIGIN_NOT_PAIRED', 'ORIGIN_NOT_PAIRED', 'ORIGIN_NOT_PAIRED']);
      assert.equal(apduCount(), before, 'no APDU may reach the card for a refused origin');
    } finally {
      await page.close();
    }
  });
});

describe('pairing from the page', () => {
  it('the refused page asks for pairing, shows the code, and once the user approved it lists the card', async () => {
    const page = await openPortal(EVIL);
    try {
      await page.locator('#error[data-code="ORIGIN_NOT_PAIRED"]').waitFor({ timeout: TIMEOUT });
      await page.click('#pair');
      await page.locator('#pairing:not([hidden])').waitFor({ timeout: TIMEOUT });
      const code = (await page.locator('#pairing-code').textContent()).trim();
      assert.match(code, /\S/);
      await screenshot(page, 'evil-origin-pairing');

      // The user, at this computer, approves the pairing whose code the page shows
      // (what `inkan pair approve` does: the local token, no Origin).
      const api = (path, init = {}) => fetch(`https://127.0.0.1:${env.inkanPort}/v1${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${env.token}`, 'Content-Type': 'application/json', 'Inkan-Client': 'e2e-tests', ...init.headers },
      });
      const listing = await (await api('/pairings')).json();
      const pending = listing.pending.find((p) => p.origin === EVIL && p.code === code);
      assert.ok(pending, JSON.stringify(listing));
      const approved = await api(`/pairings/${encodeURIComponent(pending.id)}/approve`, { method: 'POST', body: JSON.stringify({ code }) });
      assert.equal(approved.status, 200, await approved.text());

      const item = page.locator(`[data-card-id="${env.cardId}"]`);
      await item.waitFor({ timeout: TIMEOUT }).catch(async (e) => { throw new Error(`${e.message}; page shows ${await pageError(page)}`); });
      assert.equal(await item.locator('.corporate-name').textContent(), CORPORATE_NAME);
      assert.equal(await page.isHidden('#error'), true);
      await screenshot(page, 'evil-origin-paired');
    } finally {
      await page.close();
    }
  });
});
