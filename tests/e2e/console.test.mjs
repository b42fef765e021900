// The local console (https://127.0.0.1:PORT/, console/) in Debian's Chromium,
// driven by playwright-core, against the real stack that
// tests/integration/test_console.py started. Chromium trusts inkand's local CA
// only through the NSS database under $HOME (no --ignore-certificate-errors).
// The console logs in as a user does it: the address `inkan console --print`
// prints; before that it shows only how to open it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { launchChromium, required } from './chromium.mjs';

const RUNNER = 'tests/integration/test_console.py';

const env = {
  url: required('INKAN_CONSOLE_URL', RUNNER),  // https://127.0.0.1:PORT/
  cardId: required('INKAN_CARD_ID', RUNNER),
  pin: required('INKAN_PIN', RUNNER),
  vcardPid: Number(required('INKAN_VCARD_PID', RUNNER)),
  screenshots: required('SCREENSHOT_DIR', RUNNER),
  work: required('E2E_WORK_DIR'),
  inkan: required('INKAN_CLI', RUNNER),               // the inkan binary
  stateDir: required('INKAN_CLI_STATE_DIR', RUNNER),  // inkand's state directory (its token)
  port: required('INKAN_PORT', RUNNER),
  // The card's certificate, a leaf of the test PKI that inkand trusts and whose
  // OCSP responder runs: what it says, and that it is valid.
  corporateName: required('INKAN_CORPORATE_NAME', RUNNER),
  registeredNumber: required('INKAN_REGISTERED_NUMBER', RUNNER),
};

const CORPORATE_NAME = env.corporateName;
const REGISTERED_NUMBER = env.registeredNumber;
// The self-test's checks in their order, and each one's result without a PIN.
const SELFTEST_EXPECTED = [['reader', 'pass'], ['card', 'pass'], ['pin', 'pass'], ['certificate:sign', 'pass'],
  ['certificate:ca', 'pass'], ['key', 'skipped'], ['chain', 'pass'], ['revocation', 'pass']];
const NEW_PIN = '24680';
const WRONG_PIN = '9999';
const TIMEOUT = 20000;

let context;
let page;
const problems = [];  // console errors and page errors: a CSP violation shows up here

async function screenshot(name) {
  mkdirSync(env.screenshots, { recursive: true });
  await page.screenshot({ path: join(env.screenshots, `${name}.png`), fullPage: true });
}

/** The one-time login address, as `inkan console --print` prints it. */
function loginUrl() {
  const printed = execFileSync(env.inkan, ['--state-dir', env.stateDir, '--port', env.port, 'console', '--print'],
    { encoding: 'utf8', env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' } }).trim();
  assert.match(printed, new RegExp(`^https://127\\.0\\.0\\.1:${env.port}/#login=[0-9a-f]{32}$`));
  return printed;
}

const apiAnswers = [];  // [status, path] of every /v1 answer the page got

const cardArticle = () => page.locator(`article.card[data-card-id="${env.cardId}"]`);

async function changePin(current, next) {
  await page.fill('#pin-current', current);
  await page.fill('#pin-new', next);
  await page.fill('#pin-confirm', next);
  await page.click('#pin-submit');
  // The answer replaces the message; the button comes back when it is in.
  await page.waitForFunction(() => document.getElementById('pin-message').textContent.trim() !== ''
    && !document.getElementById('pin-submit').disabled, null, { timeout: TIMEOUT });
  return (await page.textContent('#pin-message')).trim();
}

before(async () => {
  context = await launchChromium({ workDir: env.work, viewport: { width: 1200, height: 1000 } });
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (message) => {
    // API refusals (a wrong PIN is a 403) are answers the page handles, which
    // Chromium still logs as failed resources; anything else is a problem.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('response', (response) => {
    const { pathname } = new URL(response.url());
    if (pathname.startsWith('/v1/')) apiAnswers.push([response.status(), pathname]);
  });
});

after(async () => {
  await context?.close();
});

describe('the local console', () => {
  it('is served by inkand with a policy that allows only its own scripts and no framing', async () => {
    const response = await page.goto(env.url);
    assert.equal(response.status(), 200);
    const headers = response.headers();
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.match(headers['content-security-policy'], /script-src 'self'/);
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  });

  it('without a login shows how to open it with `inkan console`, in Japanese and English, and no card data', async () => {
    apiAnswers.length = 0;
    await page.goto(env.url);
    await page.waitForSelector('#login:not([hidden])', { timeout: TIMEOUT });
    const login = await page.textContent('#login');
    assert.match(login, /コンソールへのログイン/);
    assert.match(login, /inkan console/);
    assert.match(login, /inkan console --print/);
    assert.equal(await page.getAttribute('#connection', 'data-state'), 'loggedOut');
    assert.equal(await page.locator('article.card').count(), 0);
    assert.equal((await page.textContent('#cards')).trim(), '');
    assert.equal((await page.textContent('#readers')).trim(), '');
    // Only the login panel is shown: no card, reader, PIN or pairing section.
    for (const heading of ['#cards-heading', '#readers-heading', '#pin-heading', '#selftest-heading', '#pairings-heading',
      '#activity-heading', '#certificate-heading', '#logout']) {
      assert.ok(await page.locator(heading).isHidden(), `${heading} is shown without a login`);
    }
    assert.doesNotMatch(await page.textContent('body'), new RegExp(`${CORPORATE_NAME}|${env.cardId}`));
    await screenshot('console-login');

    await page.click('#language');
    assert.match(await page.textContent('#login'), /Log in to the console/);
    assert.match(await page.textContent('#login'), /Run this command in a terminal/);
    await screenshot('console-login-en');
    await page.click('#language');
    assert.match(await page.textContent('#login'), /コンソールへのログイン/);

    // inkand refused the page: it asked and got UNAUTHORIZED, and nothing else.
    assert.ok(apiAnswers.length > 0);
    for (const [status, path] of apiAnswers) assert.equal(status, 401, `${path} answered ${status}`);
    assert.deepEqual(await context.cookies(env.url), []);
  });

  it('logs in with the address `inkan console --print` prints, and takes the code out of the address bar', async () => {
    const url = loginUrl();
    const code = url.split('#login=')[1];
    await page.goto(url);
    await cardArticle().waitFor({ timeout: TIMEOUT });
    assert.ok(await page.locator('#login').isHidden());
    assert.ok(await page.locator('#pin-heading').isVisible());
    assert.ok(await page.locator('#logout').isVisible());
    assert.equal(page.url(), env.url);
    assert.ok(!page.url().includes(code));
    const cookies = await context.cookies(env.url);
    assert.equal(cookies.length, 1, JSON.stringify(cookies.map((cookie) => cookie.name)));
    const [cookie] = cookies;
    assert.equal(cookie.name, `__Host-inkan-console-${env.port}`);
    assert.match(cookie.value, /^[0-9a-f]{32}$/);
    assert.notEqual(cookie.value, code);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.expires, -1);  // a session cookie: the browser forgets it when it closes
    // The page's scripts cannot read it.
    assert.equal(await page.evaluate(() => document.cookie), '');
  });

  it('refuses a used login address, but keeps the session it has', async () => {
    const used = loginUrl();
    await page.goto(used);
    await cardArticle().waitFor({ timeout: TIMEOUT });
    const other = await context.newPage();
    await other.goto(used);
    await other.waitForSelector('#connection[data-state="live"]', { timeout: TIMEOUT });
    assert.ok(await other.locator('#login').isHidden());
    await other.close();
  });

  it('shows the card live, with its certificate and the 商号, in Japanese', async () => {
    await page.goto(env.url);
    await cardArticle().waitFor({ timeout: TIMEOUT });
    await page.waitForSelector('#connection[data-state="live"]', { timeout: TIMEOUT });
    const card = await cardArticle().textContent();
    assert.match(card, new RegExp(CORPORATE_NAME));
    assert.match(card, /10 \/ 10 回/);
    assert.match(await page.textContent('h1'), /inkan コンソール/);
    // The card sits in the virtual reader with a PIN pad (tools/vpinpad): the list marks it.
    const reader = page.locator('ul.readers li', { hasText: env.cardId });
    assert.match(await reader.textContent(), /PINパッド付き/);

    await cardArticle().getByRole('button', { name: /証明書「sign」の詳細を表示/ }).click();
    await page.waitForSelector('dl.registry', { timeout: TIMEOUT });
    const registry = await page.textContent('dl.registry');
    assert.match(registry, new RegExp(`商号${CORPORATE_NAME}`));
    assert.match(registry, new RegExp(`会社法人等番号${REGISTERED_NUMBER}`));
    assert.match(registry, /代表者/);
    assert.match(await page.textContent('[data-role="days-left"]'), /あと \d+ 日/);
    await screenshot('console');
  });

  it('checks the certificate\'s validity on request', async () => {
    await page.click('#validation-run');
    await page.waitForSelector('#validation-result [data-verdict]', { timeout: TIMEOUT });
    assert.equal(await page.getAttribute('#validation-result [data-verdict]', 'data-verdict'), 'valid',
      await page.textContent('#validation-result'));
    const shown = await page.textContent('#validation-result');
    assert.match(shown, /有効/);
    assert.match(shown, /good/);  // the revocation status the OCSP responder gave
  });

  it('follows the card being pulled out and put back without a reload', async () => {
    process.kill(env.vcardPid, 'SIGUSR1');  // inkan-vcard: remove the card
    await cardArticle().waitFor({ state: 'detached', timeout: TIMEOUT });
    await page.waitForSelector('#activity li[data-type="card-removed"]', { timeout: TIMEOUT });
    assert.match(await page.textContent('#cards'), /カードが挿入されていません/);
    await screenshot('console-card-removed');

    process.kill(env.vcardPid, 'SIGUSR2');  // put it back
    await cardArticle().waitFor({ timeout: TIMEOUT });
    await page.waitForSelector('#activity li[data-type="card-inserted"]', { timeout: TIMEOUT });
    assert.match(await cardArticle().textContent(), new RegExp(CORPORATE_NAME));
  });

  it('shows the tries left and the lock warning after a wrong current PIN', async () => {
    assert.match(await page.textContent('#pin-warning'), /10 回続けて間違えるとカードがロック/);
    assert.match(await page.textContent('#pin-tries'), /10 \/ 10 回/);
    const message = await changePin(WRONG_PIN, NEW_PIN);
    assert.match(message, /現在の PIN が違います。残り 9 回/);
    await page.waitForFunction(() => /9 \/ 10 回/.test(document.getElementById('pin-tries').textContent), null, { timeout: TIMEOUT });
    assert.match(await cardArticle().textContent(), /9 \/ 10 回/);
    // The PIN fields never keep what was typed.
    assert.equal(await page.inputValue('#pin-current'), '');
    await screenshot('console-pin-incorrect');
  });

  it('changes the PIN through the console, and back', async () => {
    assert.equal(await changePin(env.pin, NEW_PIN), 'PIN を変更しました。');
    assert.match(await page.textContent('#pin-tries'), /10 \/ 10 回/);
    await screenshot('console-pin-changed');
    assert.equal(await changePin(NEW_PIN, env.pin), 'PIN を変更しました。');
    await page.waitForSelector('#activity li[data-type="pin-status"]', { timeout: TIMEOUT });
  });

  it('refuses mismatched new PINs before asking the card', async () => {
    await page.fill('#pin-current', env.pin);
    await page.fill('#pin-new', NEW_PIN);
    await page.fill('#pin-confirm', '13579');
    await page.click('#pin-submit');
    assert.match(await page.textContent('#pin-message'), /一致しません/);
    assert.match(await page.textContent('#pin-tries'), /10 \/ 10 回/);
  });

  it('runs the self-test', async () => {
    await page.click('#selftest-run');
    await page.waitForSelector('#selftest-result .message', { timeout: TIMEOUT });
    const checks = await page.locator('#selftest-result .checks li').evaluateAll((items) => items.map(
      (item) => [item.querySelector('strong').textContent, item.dataset.result]));
    assert.deepEqual(checks, SELFTEST_EXPECTED, await page.textContent('#selftest-result'));
    assert.ok(await page.locator('#selftest-result .message.ok').isVisible());
  });

  it('keeps the 使用簿: the latest uses, newest first, and the CSV download', async () => {
    // The self-test just run is the newest entry; the PIN changes before it follow.
    await page.waitForFunction(() => /自己診断/.test(document.querySelector('#usage tbody tr')?.textContent ?? ''), null,
      { timeout: TIMEOUT });
    const rows = await page.locator('#usage tbody tr').evaluateAll((items) => items.map(
      (item) => [...item.querySelectorAll('td')].map((cell) => cell.textContent)));
    const columns = await page.locator('#usage thead th').allTextContents();
    assert.deepEqual(columns, ['日時', '利用者/サイト', 'カード', '商号', '操作', '対象', '結果']);
    assert.deepEqual(rows.slice(0, 4).map((row) => [row[1], row[3], row[4], row[6]]), [
      ['コンソール', CORPORATE_NAME, '自己診断', '成功'],
      ['コンソール', CORPORATE_NAME, 'PIN変更', '成功(残り10回)'],
      ['コンソール', CORPORATE_NAME, 'PIN変更', '成功(残り10回)'],
      ['コンソール', CORPORATE_NAME, 'PIN変更', 'PIN_INCORRECT(残り9回)'],
    ]);
    // Nothing typed as a PIN is shown or kept.
    assert.doesNotMatch(await page.textContent('#usage'), new RegExp(`${NEW_PIN}|${WRONG_PIN}`));

    const downloading = page.waitForEvent('download', { timeout: TIMEOUT });
    await page.click('#usage-csv');
    const download = await downloading;
    assert.equal(download.suggestedFilename(), '使用簿.csv');
    const bytes = readFileSync(await download.path());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xEF, 0xBB, 0xBF]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n');
    assert.equal(lines.at(-1), '');
    assert.match(lines[0], /^"記録番号","日時","利用者\/サイト","カード"/);
    assert.equal(lines.length - 2, rows.length);
    assert.match(lines.at(-2), /"自己診断"/);
  });

  it('switches to English and remembers it', async () => {
    await page.click('#language');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await page.textContent('h1'), /inkan console/);
    await page.reload();
    await cardArticle().waitFor({ timeout: TIMEOUT });
    assert.match(await page.textContent('h1'), /inkan console/);
    assert.match(await cardArticle().textContent(), /10 of 10/);
    await screenshot('console-en');
    await page.click('#language');
    assert.match(await page.textContent('h1'), /inkan コンソール/);
  });

  it('cannot be shown inside another page\'s frame: inkand\'s own headers refuse it', async () => {
    // The control: a page served without those headers, in the same kind of
    // frame of the same framing page, does load.
    const control = createServer((request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><title>control</title><div id="cards">control</div>');
    });
    await new Promise((resolve) => { control.listen(0, '127.0.0.1', resolve); });
    const controlUrl = `http://127.0.0.1:${control.address().port}/`;
    const framer = await context.newPage();
    try {
      const consoleAnswer = framer.waitForResponse((response) => response.url() === env.url, { timeout: TIMEOUT });
      const controlAnswer = framer.waitForResponse((response) => response.url() === controlUrl, { timeout: TIMEOUT });
      await framer.setContent(`<iframe name="control" src="${controlUrl}"></iframe><iframe name="console" src="${env.url}"></iframe>`);
      // inkand answered the frame, and refused it by its headers.
      const headers = (await consoleAnswer).headers();
      assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
      assert.equal(headers['x-frame-options'], 'DENY');
      await controlAnswer;
      const frameShows = async (name) => {
        const frame = framer.frame({ name });
        return frame ? frame.evaluate(() => Boolean(document.getElementById('cards'))).catch(() => false) : false;
      };
      const deadline = Date.now() + TIMEOUT;
      while (!await frameShows('control') && Date.now() < deadline) await framer.waitForTimeout(100);
      assert.equal(await frameShows('control'), true, 'the control frame loads');
      assert.equal(await frameShows('console'), false, 'the console must not load in a frame');
    } finally {
      await framer.close();
      control.close();
    }
  });

  it('logs out: the session ends, and the page shows how to log in again', async () => {
    await page.goto(env.url);
    await cardArticle().waitFor({ timeout: TIMEOUT });
    await page.click('#logout');
    await page.waitForSelector('#login:not([hidden])', { timeout: TIMEOUT });
    assert.match(await page.textContent('#login-problem'), /ログアウト/);
    assert.equal(await page.locator('article.card').count(), 0);
    assert.equal(await page.textContent('#usage'), '');
    assert.ok(await page.locator('#cards-heading').isHidden());
    assert.deepEqual(await context.cookies(env.url), []);
    await page.reload();
    await page.waitForSelector('#login:not([hidden])', { timeout: TIMEOUT });
    assert.equal(await page.locator('article.card').count(), 0);
  });

  it('ran without script errors or policy violations', () => {
    assert.deepEqual(problems, []);
  });
});
