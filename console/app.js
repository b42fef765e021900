// The inkan console: readers, cards, certificates and the PIN, kept current
// by inkand's event stream. Plain ES modules, no framework, no build step.
//
// It logs in first (docs/security.md "The console logs in"): `inkan console`
// opens it at /#login=CODE; the code leaves the address bar at once and is
// traded for a session cookie. Without a session the page shows only how to
// open it with `inkan console`, and asks inkand for nothing else.

import { followEvents, inkan, isLoggedOut, isUnreachable } from './api.js';
import { definitions, fill, h } from './dom.js';
import { formatDateTime, language, setLanguage, t, translateStatic } from './i18n.js';

// A card lists each PIN's format (openapi.yaml PinFormat); the reference
// card's (docs/reference-card.md) for a card listed without one.
const DEFAULT_PIN_FORMAT = { minLength: 4, maxLength: 16, alphabet: 'digits' };
// `any`: a file credential's password (docs/credentials.md): no control characters.
const PIN_ALPHABETS = { digits: '[0-9]', 'upper-alphanumeric': '[A-Z0-9]', any: '[^\\x00-\\x1f\\x7f]' };
const FORMAT_TEXTS = { digits: 'pin.formatDigits', 'upper-alphanumeric': 'pin.formatAlphanumeric', any: 'pin.formatAny' };
// inkand's PIN guard keeps this share of each PIN's own maximum unspent
// (docs/security.md): the console warns at that many tries left or fewer.
const GUARDED_SHARE = 0.3;
// The My Number card's profile (docs/jpki.md): a locked PIN is reset only at the municipal office.
const JPKI_PROFILE = 'jpki';
const ACTIVITY_LENGTH = 20;
const MS_PER_DAY = 86400000;
// The 使用簿 panel (docs/audit.md): the newest uses shown, pages read for them and the CSV.
const USAGE_SHOWN = 50;
const USAGE_PAGE = 1000;
const USAGE_MAX_PAGES = 100;
const DIGEST_SHOWN = 16;

const state = {
  status: null,
  cards: [],
  unreachable: false,
  connection: 'connecting',
  selected: null,          // { cardId, certId } of the certificate shown
  certificate: null,       // its resource, or { error }
  validation: null,        // the last validity check, or { error } / { running }
  selftest: null,          // the last self-test report, or { error } / { running }
  pairings: null,          // GET /v1/pairings, or { error }
  usage: null,             // every operation of GET /v1/audit (oldest first), or { error }
  usageCard: '',           // the card the 使用履歴 shows ('' : every card)
  pinMessage: null,        // { kind: 'ok' | 'error', text: () => string } (in the language shown)
  pinBusy: false,
  activity: [],            // { time, text }, newest first
  login: null,             // while logged out: 'none' | 'failed' | 'ended' (why), with `loginProblem`
  loginProblem: null,      // () => string, or null
};

let events = null;         // the followed event stream, once logged in

const $ = (id) => document.getElementById(id);

// --- Loading ----------------------------------------------------------------------

let refreshing = null;
let refreshAgain = false;

/** Read status and cards again; overlapping calls collapse into one more. */
async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      try {
        const [status, cards] = await Promise.all([inkan.status(), inkan.cards()]);
        state.status = status;
        state.cards = cards;
        state.unreachable = false;
      } catch (error) {
        if (isLoggedOut(error)) {
          showLogin('ended');
          return;
        }
        state.unreachable = isUnreachable(error);
        if (!state.unreachable) console.warn('refresh failed', error);
      }
      if (state.selected && !state.cards.some((card) => card.id === state.selected.cardId)) {
        // The card was taken out: its certificate is no longer there to show.
        state.selected = null;
        state.certificate = null;
        state.validation = null;
      }
      render();
    } while (refreshAgain);
  })();
  try {
    await refreshing;
  } finally {
    refreshing = null;
  }
  return undefined;
}

async function loadPairings() {
  try {
    state.pairings = await inkan.request('GET', '/pairings');
  } catch (error) {
    if (isLoggedOut(error)) return showLogin('ended');
    state.pairings = { error };
  }
  renderPairings();
  return undefined;
}

let usageLoading = null;
let usageAgain = false;

/** Read the 使用簿 again (all pages, oldest first); overlapping calls collapse into one more. */
async function loadUsage() {
  if (usageLoading) {
    usageAgain = true;
    return usageLoading;
  }
  usageLoading = (async () => {
    do {
      usageAgain = false;
      try {
        const operations = [];
        let after = 0;
        for (let page = 0; page < USAGE_MAX_PAGES; page += 1) {
          const query = { limit: String(USAGE_PAGE), after: String(after) };
          if (state.usageCard) query.card = state.usageCard;
          const answer = await inkan.request('GET', '/audit', { query });
          operations.push(...(answer.operations ?? []));
          if (answer.next === null || answer.next === undefined) break;
          after = answer.next;
        }
        state.usage = operations;
      } catch (error) {
        if (isLoggedOut(error)) {
          showLogin('ended');
          return;
        }
        state.usage = { error };
      }
      renderUsage();
    } while (usageAgain);
  })();
  try {
    await usageLoading;
  } finally {
    usageLoading = null;
  }
  return undefined;
}

async function showCertificate(cardId, certId) {
  state.selected = { cardId, certId };
  state.certificate = null;
  state.validation = null;
  renderCertificate();
  $('certificate-panel').scrollIntoView({ block: 'start' });
  try {
    state.certificate = await inkan.certificate(cardId, certId);
  } catch (error) {
    if (isLoggedOut(error)) return showLogin('ended');
    state.certificate = { error };
  }
  renderCertificate();
}

// --- Events -------------------------------------------------------------------------

function describeEvent(type, data) {
  const values = {
    card: data?.cardId ?? '',
    reader: data?.reader ?? '',
    cert: data?.certificateId ?? '',
    days: data?.daysLeft ?? '',
    left: data?.triesLeft ?? '',
    max: data?.maxTries ?? '',
  };
  if (type === 'card-inserted' && !data?.cardId) return t('event.card-inserted-unusable', values);
  const key = `event.${type}`;
  const text = t(key, values);
  return text === key ? type : text;
}

function onEvent(event) {
  state.activity.unshift({ time: new Date(), type: event.type, data: event.data });
  // A PIN operation or a signature changes the try counter: the book has a new entry.
  if (event.type === 'pin-status' || event.type === 'pin-blocked') loadUsage();
  state.activity.length = Math.min(state.activity.length, ACTIVITY_LENGTH);
  switch (event.type) {
    case 'pin-status': {
      const card = state.cards.find((c) => c.id === event.data?.cardId);
      if (card) {
        const status = { triesLeft: event.data.triesLeft, maxTries: event.data.maxTries, blocked: event.data.blocked };
        updatePin(card, event.data.pinId, status);
      }
      render();
      break;
    }
    case 'reset':
    case 'pcsc-available':
    case 'pcsc-unavailable':
    case 'reader-added':
    case 'reader-removed':
    case 'card-inserted':
    case 'card-removed':
    case 'pin-blocked':
    case 'certificate-expiring':
    case 'certificate-expired':
      refresh();
      renderActivity();
      break;
    default:
      renderActivity();
  }
}

function onConnection(connection) {
  if (connection === 'loggedOut') {
    showLogin('ended');
    return;
  }
  state.connection = connection;
  renderConnection();
  // (Re)connected: what happened while the stream was down is read afresh.
  if (connection === 'live') refresh();
}

// --- Rendering ----------------------------------------------------------------------

function render() {
  if (state.login) return;  // logged out: only the login panel is shown
  renderConnection();
  renderNotices();
  renderReaders();
  renderCards();
  renderPinForm();
  renderCertificate();
  renderSelftest();
  renderActivity();
  renderUsage();
  $('version').textContent = state.status?.version ?? '–';
}

function renderConnection() {
  const element = $('connection');
  let connection = state.unreachable ? 'lost' : state.connection;
  if (state.login) connection = 'loggedOut';
  element.dataset.state = connection;
  element.textContent = t(`connection.${connection}`);
}

function daysLeftOf(certificate) {
  if (Number.isInteger(certificate.daysLeft)) return certificate.daysLeft;
  const notAfter = Date.parse(certificate.notAfter);
  return Number.isNaN(notAfter) ? null : Math.floor((notAfter - Date.now()) / MS_PER_DAY);
}

function daysText(days) {
  if (days === null) return '';
  if (days < 0) return t('days.expired', { days: -days });
  if (days === 0) return t('days.today');
  return t('days.left', { days });
}

function expiryClass(certificate) {
  const days = daysLeftOf(certificate);
  if (certificate.expired || (days !== null && days < 0)) return 'bad';
  if (certificate.expiringSoon) return 'warn';
  return '';
}

function renderNotices() {
  const notices = [];
  if (state.status && state.status.pcscAvailable === false) notices.push(t('notice.pcscDown'));
  for (const card of state.cards) {
    for (const pin of pinsOf(card)) {
      if (!pin.blocked) continue;
      // A PIN the card cannot unblock: say who resets it instead of pointing at an unblock code.
      notices.push(pin.unblockable === false
        ? t('notice.pinBlockedNoUnblock', { card: card.id, name: pinName(card, pin), rule: pinRule(card, pin) })
        : t('notice.pinBlocked', { card: card.id }));
    }
    for (const certificate of card.certificates ?? []) {
      const values = { card: card.id, cert: certificate.id, days: daysLeftOf(certificate), date: formatDateTime(certificate.notAfter) };
      if (certificate.expired) notices.push(t('notice.expired', values));
      else if (certificate.expiringSoon) notices.push(t('notice.expiring', values));
    }
  }
  if (state.unreachable) notices.unshift(t('connection.lost'));
  $('notices').hidden = notices.length === 0;
  fill($('notice-list'), notices.map((text) => h('li', {}, text)));
}

function renderReaders() {
  const status = state.status;
  if (!status) {
    fill($('readers'));
    return;
  }
  const pcsc = definitions([[t('readers.pcsc'), status.pcscAvailable ? t('readers.pcscOk') : t('readers.pcscDown')]], { class: 'facts' });
  if (!status.readers?.length) {
    fill($('readers'), pcsc, h('p', { class: 'empty' }, t('readers.none')));
    return;
  }
  const list = h('ul', { class: 'readers' });
  for (const reader of status.readers) {
    let presence = t('readers.empty');
    if (reader.cardPresent) presence = reader.cardId ? `${t('readers.cardPresent')} (${reader.cardId})` : t('readers.unsupported');
    const item = h('li', { dataset: { present: reader.cardPresent ? 'yes' : 'no' } },
      h('span', { class: 'reader-name' }, reader.name), ' ', h('span', { class: 'badge' }, presence));
    // A reader with its own keypad: PINs typed there never reach the computer.
    if (reader.pinpad) item.append(' ', h('span', { class: 'badge pinpad' }, t('readers.pinpad')));
    list.append(item);
  }
  fill($('readers'), pcsc, list);
}

function pinText(pin) {
  if (!pin) return '';
  if (pin.blocked) return t('cards.pinBlocked');
  // A PKCS#11 token tells no counter, only its final try (docs/credentials.md).
  if (!Number.isInteger(pin.triesLeft)) return t('cards.pinTriesUnknown');
  if (!Number.isInteger(pin.maxTries)) return t('cards.pinFinalTry');
  return t('cards.pinTries', { left: pin.triesLeft, max: pin.maxTries });
}

/** The card's PINs (`pins`, the default first); a card listed without them has its one `pin`. */
function pinsOf(card) {
  if (Array.isArray(card.pins) && card.pins.length) return card.pins;
  return card.pin ? [{ id: '', label: '', unblockable: true, format: DEFAULT_PIN_FORMAT, ...card.pin }] : [];
}

/** A PIN's new counter (from an answer or a pin-status event); `pinId` absent: the default PIN. */
function updatePin(card, pinId, status) {
  const pins = pinsOf(card);
  const index = pinId ? pins.findIndex((pin) => pin.id === pinId) : 0;
  if (index < 0) return;
  if (Array.isArray(card.pins) && card.pins[index]) Object.assign(card.pins[index], status);
  if (index === 0) card.pin = { ...status };
}

/** How many tries inkand's guard keeps for a PIN of `max` tries: 30%, rounded, at least 1 (never all). */
function guardedTries(max) {
  if (!Number.isInteger(max) || max <= 1) return 0;
  return Math.min(max - 1, Math.max(1, Math.round(GUARDED_SHARE * max)));
}

function fewTriesLeft(pin) {
  if (!pin || pin.blocked || !Number.isInteger(pin.triesLeft)) return false;
  // Without a maximum (a PKCS#11 token) only the final try is told, and guarded.
  if (!Number.isInteger(pin.maxTries)) return pin.triesLeft <= 1;
  return pin.triesLeft <= guardedTries(pin.maxTries);
}

/** "PIN" for a card with one PIN, else its label (or id). */
function pinName(card, pin) {
  return pinsOf(card).length > 1 ? (pin.label || pin.id) : 'PIN';
}

/** What happens after the PIN's last wrong try, and who undoes it. */
function pinRule(card, pin) {
  const values = { name: pinName(card, pin), max: pin.maxTries };
  if (pin.unblockable !== false) return t('pin.ruleUnblockable', values);
  return card.profile === JPKI_PROFILE ? t('pin.ruleMunicipal', values) : t('pin.ruleIssuer', values);
}

/** A PIN as its format asks (length and alphabet). */
function matchesFormat(value, format = DEFAULT_PIN_FORMAT) {
  const alphabet = PIN_ALPHABETS[format.alphabet] ?? PIN_ALPHABETS.digits;
  return new RegExp(`^${alphabet}{${format.minLength},${format.maxLength}}$`).test(value);
}

function formatText(format = DEFAULT_PIN_FORMAT) {
  const length = format.minLength === format.maxLength ? `${format.minLength}` : t('pin.lengthRange', { min: format.minLength, max: format.maxLength });
  return t(FORMAT_TEXTS[format.alphabet] ?? 'pin.formatDigits', { length });
}

function renderCards() {
  if (state.cards.length === 0) {
    fill($('cards'), h('p', { class: 'empty' }, state.status ? t('cards.none') : t('cert.loading')));
    return;
  }
  const articles = state.cards.map((card) => {
    const rows = (card.certificates ?? []).map((certificate) => {
      const selected = state.selected?.cardId === card.id && state.selected?.certId === certificate.id;
      if (certificate.readable === false) {
        // The card shows it only after its PIN is verified (the My Number card's signing certificate).
        const pin = pinsOf(card).find((p) => p.id === certificate.readAfterPin);
        return h('tr', { class: 'locked', dataset: { certId: certificate.id, locked: 'true' } },
          h('th', { scope: 'row' }, certificate.id),
          h('td', { colspan: '4', dataset: { role: 'locked-certificate' } },
            t('cards.lockedCertificate', { pin: pin ? pinName(card, pin) : certificate.readAfterPin })));
      }
      return h('tr', { class: selected ? 'selected' : '', dataset: { certId: certificate.id } },
        h('th', { scope: 'row' }, certificate.id),
        h('td', {}, certificate.registry?.corporateName ?? ''),
        h('td', {}, formatDateTime(certificate.notAfter)),
        h('td', { class: expiryClass(certificate) }, daysText(daysLeftOf(certificate))),
        h('td', {}, h('button', {
          type: 'button',
          class: 'link',
          'aria-label': t('cards.detailsLabel', { cert: certificate.id }),
          onclick: () => showCertificate(card.id, certificate.id),
        }, t('cards.details'))));
    });
    const pins = pinsOf(card);
    // Each PIN with its own counter and its own rule (after how many wrong tries it locks, and who resets it).
    const pinRows = pins.map((pin) => {
      const pinClass = pin.blocked ? 'bad' : (fewTriesLeft(pin) ? 'warn' : '');
      const term = pins.length > 1 ? t('cards.pinNamed', { name: pinName(card, pin) }) : t('cards.pin');
      return [term, h('span', { class: 'pin-facts', dataset: { pinId: pin.id } },
        h('span', { class: `pin ${pinClass}`, dataset: { role: 'pin' } }, pinText(pin)),
        h('span', { class: 'pin-rule', dataset: { role: 'pin-rule' } }, pinRule(card, pin)))];
    });
    return h('article', { class: 'card', 'aria-label': card.label, dataset: { cardId: card.id } },
      h('h3', {}, card.label),
      definitions([
        [t('cards.id'), h('code', {}, card.id)],
        [t('cards.reader'), card.reader],
        [t('cards.profile'), card.profile],
        ...pinRows,
      ], { class: 'facts' }),
      h('table', { class: 'certificates' },
        h('caption', {}, t('cards.certificates')),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('cards.certId')),
          h('th', { scope: 'col' }, t('cards.corporateName')),
          h('th', { scope: 'col' }, t('cards.notAfter')),
          h('th', { scope: 'col' }, t('cards.daysLeft')),
          h('td', {}))),
        h('tbody', {}, rows)));
  });
  fill($('cards'), articles);
}

function registryPairs(registry) {
  return [
    [t('cert.corporateName'), registry.corporateName],
    [t('cert.registeredNumber'), registry.registeredNumber],
    [t('cert.headOffice'), registry.headOffice],
    [t('cert.representativeName'), registry.representativeName],
    [t('cert.representativeTitle'), registry.representativeTitle],
    [t('cert.registryOffice'), registry.registryOffice],
    [t('cert.registrar'), registry.registrar],
  ];
}

function renderCertificate() {
  const form = $('validation-form');
  if (!state.selected) {
    fill($('certificate'), h('p', { class: 'empty' }, t('cert.none')));
    form.hidden = true;
    return;
  }
  const certificate = state.certificate;
  if (!certificate) {
    fill($('certificate'), h('p', { class: 'empty' }, t('cert.loading')));
    form.hidden = true;
    return;
  }
  if (certificate.error) {
    fill($('certificate'), h('p', { class: 'message bad' }, errorText(certificate.error)));
    form.hidden = true;
    return;
  }
  const registry = certificate.registry;
  const registrySection = registry
    ? definitions(registryPairs(registry), { class: 'facts registry', 'aria-label': t('cert.registry') })
    : h('p', { class: 'empty' }, t('cert.noRegistry'));
  const key = certificate.key ? `${certificate.key.type} ${certificate.key.bits}` : null;
  const days = daysLeftOf(certificate);
  fill($('certificate'),
    h('h3', {}, t('cert.registry')),
    registrySection,
    h('h3', {}, t('cert.general')),
    definitions([
      [t('cert.subject'), certificate.subject],
      [t('cert.issuer'), certificate.issuer],
      [t('cert.serialNumber'), h('code', {}, certificate.serialNumber)],
      [t('cert.validity'), t('cert.validityRange', { from: formatDateTime(certificate.notBefore), to: formatDateTime(certificate.notAfter) })],
      [t('cert.daysLeft'), h('span', { class: expiryClass(certificate), dataset: { role: 'days-left' } }, daysText(days))],
      [t('cert.key'), key],
      [t('cert.fingerprint'), certificate.sha256Fingerprint ? h('code', { class: 'wrap' }, certificate.sha256Fingerprint) : null],
    ], { class: 'facts' }));
  form.hidden = false;
  renderValidation();
}

function renderValidation() {
  const result = state.validation;
  const button = $('validation-run');
  button.disabled = Boolean(result?.running);
  button.textContent = result?.running ? t('validation.running') : t('validation.run');
  if (!result || result.running) {
    fill($('validation-result'));
    return;
  }
  if (result.error) {
    const unavailable = result.error.status === 404 && result.error.code === 'NOT_FOUND';
    fill($('validation-result'), h('p', { class: 'message bad' }, unavailable ? t('validation.unavailable') : errorText(result.error)));
    return;
  }
  const verdict = result.verdict ?? 'unknown';
  const verdictClass = verdict === 'valid' ? 'ok' : (verdict === 'unknown' ? 'warn' : 'bad');
  fill($('validation-result'),
    result.summary ? h('p', {}, result.summary) : null,
    definitions([
      [t('validation.verdict'), h('strong', { class: `verdict ${verdictClass}`, dataset: { verdict } }, t(`validation.${verdict}`))],
      [t('validation.chain'), result.chain ? (result.chain.valid ? t('validation.chainOk') : `${t('validation.chainFailed')}: ${result.chain.detail ?? ''}`) : null],
      [t('validation.revocation'), result.revocation ? `${result.revocation.status}${result.revocation.detail ? ` — ${result.revocation.detail}` : ''}` : null],
      [t('validation.checkedAt'), result.checkedAt ? formatDateTime(result.checkedAt) : null],
    ], { class: 'facts' }));
}

function selectedPinCard() {
  return state.cards.find((card) => card.id === $('pin-card').value) ?? null;
}

function renderPinForm() {
  const select = $('pin-card');
  const chosen = select.value;
  fill(select, state.cards.map((card) => h('option', { value: card.id }, `${card.label} (${card.id})`)));
  if (state.cards.some((card) => card.id === chosen)) select.value = chosen;
  const card = selectedPinCard();
  // Which of the card's PINs (shown only for a card with several).
  const pinSelect = $('pin-id');
  const chosenPin = pinSelect.value;
  const pins = card ? pinsOf(card) : [];
  fill(pinSelect, pins.map((p) => h('option', { value: p.id }, p.label ? `${p.label} (${p.id})` : p.id)));
  if (pins.some((p) => p.id === chosenPin)) pinSelect.value = chosenPin;
  $('pin-id-field').hidden = pins.length < 2;
  const pin = selectedPin(card);
  $('pin-warning-text').textContent = pin ? pinRule(card, pin) : t('pin.warning');
  const format = pin?.format ?? DEFAULT_PIN_FORMAT;
  for (const id of ['pin-current', 'pin-new', 'pin-confirm']) {
    $(id).inputMode = format.alphabet === 'digits' ? 'numeric' : 'text';
    $(id).maxLength = format.maxLength;
  }
  $('pin-new-label').textContent = t('pin.newFormatted', { format: formatText(format) });
  const tries = $('pin-tries');
  tries.className = 'tries';
  if (!card) {
    tries.textContent = t('pin.noCard');
  } else if (pin?.blocked) {
    tries.textContent = pins.length > 1 ? t('pin.blockedNamed', { name: pinName(card, pin) }) : t('pin.blocked');
    tries.classList.add('bad');
  } else if (pin) {
    const parts = [t('pin.triesLeft', { left: pin.triesLeft, max: pin.maxTries })];
    if (fewTriesLeft(pin)) {
      parts.push(t('pin.lowTries'));
      tries.classList.add('warn');
    }
    tries.textContent = parts.join(' ');
  }
  $('pin-submit').disabled = state.pinBusy || !card || Boolean(pin?.blocked);
  $('pin-submit').textContent = state.pinBusy ? t('pin.working') : t('pin.submit');
  const message = $('pin-message');
  message.className = `message ${state.pinMessage?.kind === 'ok' ? 'ok' : 'bad'}`;
  message.textContent = state.pinMessage?.text() ?? '';
}

/** The PIN chosen in the PIN form (the card's default PIN when it has one). */
function selectedPin(card) {
  if (!card) return null;
  const pins = pinsOf(card);
  return pins.find((p) => p.id === $('pin-id').value) ?? pins[0] ?? null;
}

function renderSelftest() {
  const result = state.selftest;
  const button = $('selftest-run');
  button.disabled = Boolean(result?.running) || state.cards.length === 0;
  button.textContent = result?.running ? t('selftest.running') : t('selftest.run');
  if (!result || result.running) {
    fill($('selftest-result'));
    return;
  }
  if (result.error) {
    const unavailable = result.error.status === 404 && result.error.code === 'NOT_FOUND';
    fill($('selftest-result'), h('p', { class: 'message bad' }, unavailable ? t('selftest.unavailable') : errorText(result.error)));
    return;
  }
  fill($('selftest-result'),
    h('p', { class: `message ${result.passed ? 'ok' : 'bad'}` }, result.passed ? t('selftest.passed') : t('selftest.failed')),
    h('ul', { class: 'checks' }, (result.checks ?? []).map((check) => h('li', { dataset: { result: check.result } },
      h('span', { class: 'badge' }, t(`selftest.${check.result}`)), ' ', h('strong', {}, check.name),
      check.detail ? h('span', { class: 'detail' }, ` — ${check.detail}`) : null))));
}

function renderPairings() {
  if (state.login) return;
  const pairings = state.pairings;
  if (!pairings) {
    fill($('pairings'));
    return;
  }
  if (pairings.error) {
    const error = pairings.error;
    let text = errorText(error);
    if (error.code === 'ORIGIN_NOT_PAIRED' || error.code === 'UNAUTHORIZED' || error.status === 403) text = t('pairings.localOnly');
    else if (error.status === 404) text = t('pairings.unavailable');
    fill($('pairings'), h('p', { class: 'empty' }, text));
    return;
  }
  const rows = [];
  const add = (entry, kind) => rows.push(h('tr', {},
    h('th', { scope: 'row' }, h('code', {}, entry.origin ?? '')),
    h('td', {}, t(`pairings.${kind}`)),
    h('td', {}, Array.isArray(entry.operations) ? entry.operations.join(', ') : ''),
    h('td', {}, entry.approvedAt ? formatDateTime(entry.approvedAt) : '')));
  for (const entry of pairings.allowlisted ?? []) add(entry, 'allowlisted');
  for (const entry of pairings.paired ?? []) add(entry, 'paired');
  for (const entry of pairings.pending ?? []) add(entry, 'pending');
  if (rows.length === 0) {
    fill($('pairings'), h('p', { class: 'empty' }, t('pairings.none')));
    return;
  }
  fill($('pairings'), h('table', {},
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('pairings.origin')), h('th', { scope: 'col' }, ''),
      h('th', { scope: 'col' }, t('pairings.operations')), h('th', { scope: 'col' }, t('pairings.approvedAt')))),
    h('tbody', {}, rows)));
}

// --- 使用履歴 ------------------------------------------------------------------------

function usageWho(op) {
  const who = op.who ?? {};
  if (who.kind === 'local') return [t('usage.local'), who.osUser, who.program ? `(${who.program})` : ''].filter(Boolean).join(' ');
  if (who.kind === 'console') return t('usage.console');
  return who.origin ?? '';
}

function usageCardLabel(op) {
  return op.credential?.label || op.credential?.cardId || '';
}

function usageOperation(op) {
  const key = `usage.op.${op.operation}`;
  const text = t(key);
  return text === key ? op.operation ?? '' : text;
}

function usageTarget(op, full) {
  if (op.digest?.value) {
    const value = full || op.digest.value.length <= DIGEST_SHOWN ? op.digest.value : `${op.digest.value.slice(0, DIGEST_SHOWN)}…`;
    return `${op.digest.algorithm}:${value}`;
  }
  return op.target ?? '';
}

function usageResult(op) {
  const result = ['ok', 'interrupted', 'pending'].includes(op.result) ? t(`usage.${op.result}`) : op.result ?? '';
  return Number.isInteger(op.triesLeft) ? result + t('usage.triesLeft', { n: op.triesLeft }) : result;
}

/** "2026-04-01T09:00:00.123+09:00" -> "2026-04-01 09:00:00" (the ledger's JST, as `inkan log` shows it). */
function usageTime(op) {
  const time = op.timeJst ?? '';
  return time.length >= 19 ? `${time.slice(0, 10)} ${time.slice(11, 19)}` : time;
}

function renderUsageCards() {
  const select = $('usage-card');
  const options = [h('option', { value: '' }, t('usage.allCards'))];
  for (const card of state.cards) options.push(h('option', { value: card.id }, card.label ? `${card.label} (${card.id})` : card.id));
  if (state.usageCard && !state.cards.some((card) => card.id === state.usageCard)) {
    options.push(h('option', { value: state.usageCard }, state.usageCard));
  }
  fill(select, options);
  select.value = state.usageCard;
}

function renderUsage() {
  if (state.login) return;
  renderUsageCards();
  const usage = state.usage;
  if (!usage) {
    fill($('usage'));
    return;
  }
  if (usage.error) {
    fill($('usage'), h('p', { class: 'empty' }, errorText(usage.error)));
    return;
  }
  if (usage.length === 0) {
    fill($('usage'), h('p', { class: 'empty' }, t('usage.none')));
    return;
  }
  const rows = usage.slice(-USAGE_SHOWN).reverse().map((op) => h('tr', { dataset: { seq: op.seq, result: op.result } },
    h('td', {}, usageTime(op)),
    h('td', {}, usageWho(op)),
    h('td', {}, usageCardLabel(op)),
    h('td', {}, op.credential?.corporateName ?? ''),
    h('td', {}, usageOperation(op)),
    h('td', { class: 'digest' }, usageTarget(op, false)),
    h('td', {}, usageResult(op))));
  fill($('usage'),
    h('table', {},
      h('thead', {}, h('tr', {}, ['time', 'who', 'cardColumn', 'company', 'operation', 'target', 'result']
        .map((column) => h('th', { scope: 'col' }, t(`usage.${column}`))))),
      h('tbody', {}, rows)),
    h('p', { class: 'empty' }, t('usage.latest', { n: USAGE_SHOWN })));
}

/** One CSV field (RFC 4180), as `inkan log --csv` writes it: quoted, formulas defused. */
function csvField(value) {
  let text = String(value ?? '');
  if (/^[=+\-@]/.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

/** The book as `inkan log --csv` gives it: UTF-8 with BOM, Japanese headers, CRLF. */
function usageCsv(operations) {
  const header = ['記録番号', '日時', '利用者/サイト', 'カード', 'カードID', '証明書シリアル', '商号', '会社法人等番号', '操作', '対象',
    '結果', '残り回数', 'リクエストID'];
  const ja = (op) => ({ ok: '成功', interrupted: '中断', pending: '処理中' })[op.result] ?? op.result ?? '';
  const who = (op) => (op.who?.kind === 'local' ? 'ローカル' : op.who?.kind === 'console' ? 'コンソール' : op.who?.origin ?? '');
  const operation = (op) => ({
    sign: '署名', 'pin.verify': 'PIN照合', 'pin.change': 'PIN変更', 'pin.unblock': 'PINロック解除', selftest: '自己診断',
    'pairing.approve': '連携承認', 'pairing.deny': '連携拒否', 'pairing.revoke': '連携取消',
    'credential.import': '証明書取込', 'credential.remove': '証明書削除',
  })[op.operation] ?? op.operation ?? '';
  const lines = [header, ...operations.map((op) => [op.seq, usageTime(op), who(op), usageCardLabel(op), op.credential?.cardId,
    op.credential?.certificateSerial, op.credential?.corporateName, op.credential?.corporateNumber, operation(op),
    usageTarget(op, true), ja(op), Number.isInteger(op.triesLeft) ? op.triesLeft : '', op.requestId])];
  return '\uFEFF' + lines.map((fields) => fields.map(csvField).join(',')).join('\r\n') + '\r\n';
}

async function downloadUsageCsv() {
  await loadUsage();
  if (!Array.isArray(state.usage)) return;
  const url = URL.createObjectURL(new Blob([usageCsv(state.usage)], { type: 'text/csv;charset=utf-8' }));
  const link = h('a', { href: url, download: '使用簿.csv', hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

function renderActivity() {
  const items = state.activity.map((entry) => h('li', { dataset: { type: entry.type } },
    h('time', { datetime: entry.time.toISOString() }, entry.time.toLocaleTimeString(language() === 'ja' ? 'ja-JP' : 'en-GB')),
    ' ', describeEvent(entry.type, entry.data)));
  if (items.length === 0) items.push(h('li', { class: 'empty' }, t('activity.none')));
  fill($('activity'), items);
}

function errorText(error) {
  if (isUnreachable(error)) return t('error.unreachable');
  return t('error.generic', { detail: error.code ? `${error.code} — ${error.detail ?? error.message}` : String(error) });
}

// --- Actions --------------------------------------------------------------------------

function pinErrorText(error, triesBefore, card, pin) {
  const issuerOnly = pin && pin.unblockable === false;
  switch (error.code) {
    case 'PIN_INCORRECT':
      return t('pin.incorrect', { left: error.triesLeft ?? (Number.isInteger(triesBefore) ? triesBefore - 1 : '?') })
        + (issuerOnly ? ` ${pinRule(card, pin)}` : '');
    case 'PIN_BLOCKED':
      return issuerOnly ? `${t('pin.lockedNowNamed', { name: pinName(card, pin) })} ${pinRule(card, pin)}` : t('pin.lockedNow');
    case 'PIN_GUARD':
      return t('pin.guard', { left: error.triesLeft ?? '?' });
    case 'PIN_FORMAT':
      return t('pin.format');
    case 'PIN_RATE_LIMITED':
      return t('pin.rateLimited');
    default:
      return errorText(error);
  }
}

async function changePin(event) {
  event.preventDefault();
  const card = selectedPinCard();
  const fields = { pin: $('pin-current'), newPin: $('pin-new'), confirm: $('pin-confirm') };
  const values = { pin: fields.pin.value, newPin: fields.newPin.value, confirm: fields.confirm.value };
  // The PINs leave the form right away; they live only in this function.
  for (const field of Object.values(fields)) field.value = '';
  if (!card) return;
  const pin = selectedPin(card);
  const format = pin?.format ?? DEFAULT_PIN_FORMAT;
  if (!matchesFormat(values.pin, format) || !matchesFormat(values.newPin, format)) {
    state.pinMessage = { kind: 'error', text: () => t('pin.formatOf', { format: formatText(format) }) };
  } else if (values.newPin !== values.confirm) {
    state.pinMessage = { kind: 'error', text: () => t('pin.mismatch') };
  } else {
    state.pinBusy = true;
    state.pinMessage = null;
    renderPinForm();
    try {
      // The default PIN by the single-PIN path, any other by its id.
      const which = pin?.id && pin !== pinsOf(card)[0] ? { pinId: pin.id } : {};
      const status = await inkan.changePin(card.id, values.pin, values.newPin, which);
      updatePin(card, pin?.id, status);
      state.pinMessage = { kind: 'ok', text: () => t('pin.changed') };
    } catch (error) {
      if (isLoggedOut(error)) {
        state.pinBusy = false;
        showLogin('ended');
        return;
      }
      const triesBefore = pin?.triesLeft;
      state.pinMessage = { kind: 'error', text: () => pinErrorText(error, triesBefore, card, pin) };
      if (Number.isInteger(error.triesLeft) && pin) {
        updatePin(card, pin.id, { triesLeft: error.triesLeft, maxTries: pin.maxTries, blocked: error.triesLeft === 0 });
      }
    } finally {
      state.pinBusy = false;
    }
  }
  render();
  loadUsage();
  fields.pin.focus();
}

async function runValidation(event) {
  event.preventDefault();
  if (!state.selected) return;
  const at = $('validation-at').value;
  const options = {};
  if (at) {
    const time = new Date(at);  // the local time the user chose
    if (!Number.isNaN(time.getTime())) options.at = time;
  }
  state.validation = { running: true };
  renderValidation();
  try {
    state.validation = await inkan.validate(state.selected.cardId, state.selected.certId, options);
  } catch (error) {
    if (isLoggedOut(error)) return showLogin('ended');
    state.validation = { error };
  }
  renderValidation();
}

async function runSelftest(event) {
  event.preventDefault();
  const card = selectedPinCard() ?? state.cards[0];
  const field = $('selftest-pin');
  const pin = field.value;
  field.value = '';
  if (!card) return;
  state.selftest = { running: true };
  renderSelftest();
  try {
    state.selftest = await inkan.selftest(card.id, pin ? { pin } : {});
  } catch (error) {
    if (isLoggedOut(error)) return showLogin('ended');
    state.selftest = { error };
  }
  renderSelftest();
  loadUsage();
}

function switchLanguage() {
  setLanguage(language() === 'ja' ? 'en' : 'ja');
  const button = $('language');
  button.lang = language() === 'ja' ? 'en' : 'ja';
  translateStatic();
  if (state.login) {
    renderLogin();
    return;
  }
  render();
  renderPairings();
}

// --- Login ------------------------------------------------------------------------------

/** The code of /#login=CODE, taken out of the address bar (and so out of history) at once. */
function takeLoginCode() {
  const prefix = '#login=';
  const { hash, pathname, search } = window.location;
  if (!hash.startsWith(prefix)) return null;
  window.history.replaceState(null, '', pathname + search);
  return hash.slice(prefix.length);
}

/** Everything but the login panel, which is shown instead while there is no session. */
function contentSections() {
  return [...$('main').children].filter((element) => element.id !== 'login');
}

function renderLogin() {
  const problem = $('login-problem');
  problem.hidden = !state.loginProblem;
  problem.textContent = state.loginProblem ? state.loginProblem() : '';
  renderConnection();
}

/** No session (any more): forget what was shown, stop asking inkand, explain how to log in. */
function showLogin(reason, problem = null) {
  events?.stop();
  events = null;
  Object.assign(state, {
    login: reason, status: null, cards: [], selected: null, certificate: null, validation: null, selftest: null,
    pairings: null, pinMessage: null, activity: [], usage: null,
  });
  state.loginProblem = problem ?? ({ failed: () => t('login.failed'), ended: () => t('login.ended') })[reason] ?? null;
  for (const section of contentSections()) {
    section.hidden = true;
    // Nothing the session could read stays in the page.
    for (const filled of section.querySelectorAll('#cards, #readers, #certificate, #pairings, #activity, #usage, #usage-card, #notice-list, #pin-card, #selftest-result, #validation-result')) {
      filled.replaceChildren();
    }
  }
  $('version').textContent = '–';
  $('logout').hidden = true;
  $('login').hidden = false;
  renderLogin();
}

/** Trade the code of the address, if any; then whether this page has a session. */
async function logIn() {
  const code = takeLoginCode();
  let failed = false;
  if (code !== null) {
    try {
      await inkan.request('POST', '/console/session', { body: { code } });
    } catch (error) {
      // A used or expired code; a session this browser still has goes on below.
      failed = isLoggedOut(error);
    }
  }
  try {
    await inkan.access();
  } catch (error) {
    if (isLoggedOut(error)) {
      showLogin(failed ? 'failed' : 'none');
      return false;
    }
    // inkand unreachable or the like: the page shows it as it always did.
  }
  return true;
}

async function logOut() {
  try {
    await inkan.request('DELETE', '/console/session');
  } catch (error) {
    if (!isLoggedOut(error)) console.warn('logout failed', error);
  }
  showLogin('ended');
}

// --- Start ------------------------------------------------------------------------------

async function start() {
  setLanguage(language());
  $('language').lang = language() === 'ja' ? 'en' : 'ja';
  translateStatic();
  $('language').addEventListener('click', switchLanguage);
  // A new login address typed into this tab changes only the fragment: start afresh with it.
  window.addEventListener('hashchange', () => {
    if (window.location.hash.startsWith('#login=')) window.location.reload();
  });
  if (!await logIn()) return;
  $('logout').hidden = false;
  $('logout').addEventListener('click', logOut);
  $('pin-form').addEventListener('submit', changePin);
  $('pin-card').addEventListener('change', () => {
    state.pinMessage = null;
    renderPinForm();
  });
  $('pin-id').addEventListener('change', () => {
    state.pinMessage = null;
    renderPinForm();
  });
  $('validation-form').addEventListener('submit', runValidation);
  $('selftest-form').addEventListener('submit', runSelftest);
  $('usage-card').addEventListener('change', () => {
    state.usageCard = $('usage-card').value;
    loadUsage();
  });
  $('usage-csv').addEventListener('click', downloadUsageCsv);
  render();
  events = followEvents({ onEvent, onState: onConnection });
  refresh();
  loadPairings();
  loadUsage();
}

start();
