// The local console with the virtual My Number card (inkan-vcard --profile
// jpki) in Debian's Chromium, driven by playwright-core, against the real stack
// that tests/integration/test_console.py (ConsoleWithJpkiCardTest) started:
// each PIN with its own tries and lock rule (the sign PIN locks after 5, the
// auth PIN after 3, and only the municipal office resets them), the PIN change
// per PIN, no way to unblock, and the signing certificate shown as locked.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { launchChromium, required } from './chromium.mjs';

const RUNNER = 'tests/integration/test_console.py';

const env = {
  url: required('INKAN_CONSOLE_URL', RUNNER),
  cardId: required('INKAN_CARD_ID', RUNNER),
  authPin: required('INKAN_AUTH_PIN', RUNNER),
  screenshots: required('SCREENSHOT_DIR', RUNNER),
  work: required('E2E_WORK_DIR', RUNNER),
  inkan: required('INKAN_CLI', RUNNER),
  stateDir: required('INKAN_CLI_STATE_DIR', RUNNER),
  port: required('INKAN_PORT', RUNNER),
};
const NEW_AUTH_PIN = '4321';
const WRONG_AUTH_PIN = '9999';
const TIMEOUT = 20000;

let context;
let page;
const problems = [];
const apiCalls = [];  // [method, path] of every /v1 request the page made

async function screenshot(name) {
  mkdirSync(env.screenshots, { recursive: true });
  await page.screenshot({ path: join(env.screenshots, `${name}.png`), fullPage: true });
}

function loginUrl() {
  return execFileSync(env.inkan, ['--state-dir', env.stateDir, '--port', env.port, 'console', '--print'],
    { encoding: 'utf8', env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' } }).trim();
}

const cardArticle = () => page.locator(`article.card[data-card-id="${env.cardId}"]`);
const pinFacts = (id) => cardArticle().locator(`.pin-facts[data-pin-id="${id}"]`);

async function changePin(current, next) {
  await page.fill('#pin-current', current);
  await page.fill('#pin-new', next);
  await page.fill('#pin-confirm', next);
  await page.click('#pin-submit');
  await page.waitForFunction(() => document.getElementById('pin-message').textContent.trim() !== ''
    && !document.getElementById('pin-submit').disabled, null, { timeout: TIMEOUT });
  return (await page.textContent('#pin-message')).trim();
}

before(async () => {
  context = await launchChromium({ workDir: env.work, viewport: { width: 1200, height: 1000 } });
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith('/v1/')) apiCalls.push([request.method(), pathname]);
  });
  await page.goto(loginUrl());
  await cardArticle().waitFor({ timeout: TIMEOUT });
});

after(async () => {
  await context?.close();
});

describe('the console with the My Number card', () => {
  it('shows each PIN with its own tries and its own lock rule', async () => {
    assert.match(await pinFacts('sign').locator('[data-role="pin"]').textContent(), /5 \/ 5 回/);
    assert.match(await pinFacts('auth').locator('[data-role="pin"]').textContent(), /3 \/ 3 回/);
    const signRule = await pinFacts('sign').locator('[data-role="pin-rule"]').textContent();
    const authRule = await pinFacts('auth').locator('[data-role="pin-rule"]').textContent();
    assert.match(signRule, /5 回続けて間違えるとロック/);
    assert.match(authRule, /3 回続けて間違えるとロック/);
    for (const rule of [signRule, authRule]) assert.match(rule, /市区町村の窓口/);
    assert.match(signRule, /署名用パスワード/);
    assert.match(authRule, /利用者証明用パスワード/);
  });

  it('shows the signing certificate as locked until its PIN is verified', async () => {
    const locked = cardArticle().locator('tr[data-cert-id="sign"][data-locked="true"]');
    assert.equal(await locked.count(), 1);
    assert.match(await locked.textContent(), /署名用パスワード.*照合後に読み取れます/);
    // The auth certificate is read: its dates are there.
    assert.match(await cardArticle().locator('tr[data-cert-id="auth"]').textContent(), /あと \d+ 日/);
    await screenshot('console-jpki');
  });

  it('offers no way to unblock a PIN the card cannot unblock', async () => {
    assert.equal(await page.locator('button', { hasText: /ロック解除|unblock/i }).count(), 0);
    assert.equal(await page.locator('#pin-unblock, [data-action="unblock"]').count(), 0);
  });

  it('changes the auth PIN by its own rules, and tells its own tries after a wrong one', async () => {
    assert.ok(await page.locator('#pin-id-field').isVisible());
    await page.selectOption('#pin-id', 'auth');
    assert.match(await page.textContent('#pin-warning'), /3 回続けて間違えるとロック/);
    assert.match(await page.textContent('#pin-warning'), /市区町村の窓口/);
    assert.match(await page.textContent('#pin-tries'), /3 \/ 3 回/);
    assert.match(await page.textContent('#pin-new-label'), /4 桁の数字/);

    // A wrong current auth PIN spends one auth try: 2 of 3 left, and who resets it.
    let message = await changePin(WRONG_AUTH_PIN, NEW_AUTH_PIN);
    assert.match(message, /残り 2 回/);
    assert.match(message, /市区町村の窓口/);
    await page.waitForFunction(() => /2 \/ 3 回/.test(document.getElementById('pin-tries').textContent), null, { timeout: TIMEOUT });
    assert.match(await pinFacts('auth').locator('[data-role="pin"]').textContent(), /2 \/ 3 回/);
    assert.match(await pinFacts('sign').locator('[data-role="pin"]').textContent(), /5 \/ 5 回/);
    await screenshot('console-jpki-auth-incorrect');

    // Not the auth PIN's format (4 digits): refused in the page, nothing sent. (The field
    // itself takes at most 4 characters.)
    assert.equal(await page.getAttribute('#pin-new', 'maxlength'), '4');
    const sent = apiCalls.length;
    message = await changePin(env.authPin, '123');
    assert.match(message, /4 桁の数字/);
    assert.equal(apiCalls.slice(sent).filter(([method]) => method === 'POST').length, 0);

    assert.equal(await changePin(env.authPin, NEW_AUTH_PIN), 'PIN を変更しました。');
    assert.ok(apiCalls.some(([method, path]) => method === 'POST' && path === `/v1/cards/${env.cardId}/pins/auth/change`));
    assert.match(await page.textContent('#pin-tries'), /3 \/ 3 回/);
    assert.equal(await changePin(NEW_AUTH_PIN, env.authPin), 'PIN を変更しました。');
  });

  it('switches the form to the sign PIN: 5 tries, its own format', async () => {
    await page.selectOption('#pin-id', 'sign');
    assert.match(await page.textContent('#pin-warning'), /5 回続けて間違えるとロック/);
    assert.match(await page.textContent('#pin-tries'), /5 \/ 5 回/);
    assert.match(await page.textContent('#pin-new-label'), /6〜16 文字の英大文字と数字/);
    const sent = apiCalls.length;
    const message = await changePin('abc123', 'XYZ789');
    assert.match(message, /英大文字と数字/);
    assert.equal(apiCalls.slice(sent).filter(([method]) => method === 'POST').length, 0);
  });

  it('says the same in English', async () => {
    await page.click('#language');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await pinFacts('sign').locator('[data-role="pin-rule"]').textContent(), /5 wrong entries .* municipal office/);
    assert.match(await pinFacts('auth').locator('[data-role="pin-rule"]').textContent(), /3 wrong entries .* municipal office/);
    assert.match(await cardArticle().locator('tr[data-locked="true"]').textContent(), /locked: read after the .* is verified/);
    await screenshot('console-jpki-en');
    await page.click('#language');
  });

  it('ran without script errors or policy violations', () => {
    assert.deepEqual(problems, []);
  });
});
