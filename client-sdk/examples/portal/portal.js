// An e-application portal page that signs with the user's corporate IC card
// through inkand, using @inkan/client as a plain ES module (no bundler).
//
// Served as is from any https:// origin that inkand allows (`inkand
// --allow-origin https://portal.example.jp`, or paired with the button this page
// shows). `?port=N` selects inkand's port (default 24713).

import { InkanClient, InkanError, toHex } from '../../js/dist/index.js';

const $ = (id) => document.getElementById(id);

const params = new URLSearchParams(location.search);
const port = params.has('port') ? Number(params.get('port')) : undefined;
const inkan = new InkanClient({ port });

/** Event types after which the card list is read again. */
const CARD_EVENTS = new Set(['reader-added', 'reader-removed', 'card-inserted', 'card-removed', 'pin-status', 'pin-blocked',
  'pcsc-available', 'pcsc-unavailable', 'reset', 'certificate-expiring', 'certificate-expired']);
const POLL_INTERVAL_MS = 2000;

const state = {
  cards: [],
  selected: null,
  /** cardId -> 商号 (or the subject's name) of its signing certificate. */
  names: new Map(),
  /** Where this origin's PIN comes from (GET /v1/access): 'request', 'pinentry' or 'pinpad'. */
  pinSource: 'request',
  refreshing: null,
  again: false,
};

// ---- what is shown -------------------------------------------------------

function setConnection(kind, text) {
  const el = $('connection');
  el.dataset.state = kind;
  el.textContent = text;
}

function setLiveMode(mode) {
  $('live-mode').textContent = { events: 'イベントで即時反映', polling: '2 秒ごとに確認', reconnecting: '再接続中' }[mode] ?? mode;
  $('live-mode').dataset.mode = mode;
}

/** The subject's O (organization) or CN from an RFC 4514 string; the registry's 商号 is preferred. */
function nameFromSubject(subject) {
  const parts = subject.split(/(?<!\\),/).map((p) => p.trim());
  const pick = (type) => parts.find((p) => p.toUpperCase().startsWith(`${type}=`))?.slice(type.length + 1).replace(/\\(.)/g, '$1');
  return pick('O') ?? pick('CN') ?? subject;
}

function corporateName(certificate) {
  return certificate.registry?.corporateName || nameFromSubject(certificate.subject);
}

function signingCertificate(card) {
  return card.certificates.find((c) => c.id === 'sign') ?? card.certificates[0];
}

function renderCards() {
  const list = $('cards');
  list.replaceChildren();
  for (const card of state.cards) {
    const item = document.createElement('li');
    item.dataset.cardId = card.id;
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'card';
    radio.value = card.id;
    radio.id = `card-${card.id}`;
    radio.checked = card.id === state.selected;
    radio.addEventListener('change', () => { state.selected = card.id; updateSignButton(); });
    const label = document.createElement('label');
    label.htmlFor = radio.id;
    const name = document.createElement('strong');
    name.className = 'corporate-name';
    name.textContent = state.names.get(card.id) ?? card.label;
    const details = document.createElement('span');
    details.className = 'details';
    const registeredNumber = signingCertificate(card)?.registry?.registeredNumber;
    details.textContent = [card.label, registeredNumber && `会社法人等番号 ${registeredNumber}`, card.reader].filter(Boolean).join(' · ');
    const pin = document.createElement('span');
    pin.className = 'pin';
    pin.dataset.triesLeft = String(card.pin.triesLeft);
    pin.textContent = card.pin.blocked ? 'PIN ロック中' : `PIN 残り ${card.pin.triesLeft}/${card.pin.maxTries} 回`;
    if (card.pin.blocked || card.pin.triesLeft <= 3) pin.classList.add('warning');
    label.append(name, details, pin);
    item.append(radio, label);
    list.append(item);
  }
  $('no-cards').hidden = state.cards.length > 0;
  updateSignButton();
}

function updateSignButton() {
  $('sign').disabled = !state.cards.some((c) => c.id === state.selected);
}

/** What the user should read for each error code; the SDK's message is the fallback. */
function explain(error) {
  const tries = error.triesLeft;
  switch (error.code) {
    case 'PIN_INCORRECT': return [`PIN が違います。残り ${tries} 回です。`, `あと ${tries} 回間違えるとカードがロックされ、解除には発行元への届出が必要です。`];
    case 'PIN_GUARD': return [`PIN の残り回数が ${tries} 回しかないため、inkand が照合を止めました。`, 'PIN を確かめてから、管理者に相談してください。'];
    case 'PIN_BLOCKED': return ['PIN がロックされています。', 'ロック解除コードで解除するか、発行元に連絡してください。'];
    case 'PIN_FORMAT': return ['PIN の形式が正しくありません。', 'カードには何も送られていません。'];
    case 'PIN_REQUIRED': return ['PIN を入力してください。', ''];
    case 'PIN_CANCELLED': return ['PIN の入力が取り消されました。', ''];
    case 'PIN_ENTRY_TIMEOUT': return ['PIN が入力されないまま時間切れになりました。', 'もう一度署名してください。'];
    case 'PIN_ENTRY_UNAVAILABLE':
    case 'PINPAD_UNAVAILABLE': return ['inkand が PIN の入力画面を表示できません。', '管理者に inkand の設定を確認してもらってください。'];
    case 'PIN_SOURCE_MISMATCH': return ['このサイトでは PIN をページに入力しません。', 'PIN 欄を空にして署名すると、inkand が PIN を尋ねます。'];
    case 'PIN_RATE_LIMITED': return ['PIN の誤りが続いたため、しばらく署名できません。', error.retryAfterSeconds ? `${error.retryAfterSeconds} 秒後にやり直してください。` : ''];
    case 'CARD_REMOVED':
    case 'CARD_NOT_FOUND': return ['カードが見つかりません。', 'カードをリーダーに挿し直してください。'];
    case 'CARD_BLOCKED_BY_POLICY': return ['このカードは利用停止（紛失・休止）として登録されています。', ''];
    case 'OPERATION_FORBIDDEN': return ['このサイトにはこの操作が許可されていません。', 'inkan の設定（allowedOrigins）を確認してください。'];
    case 'PCSC_UNAVAILABLE': return ['スマートカードサービス（pcscd）が動いていません。', ''];
    case 'BUSY': return ['カードが他のアプリケーションで使用中です。', 'しばらくしてからやり直してください。'];
    case 'DAEMON_UNREACHABLE': return ['inkand に接続できません。', 'inkand が起動しているか確認してください。' + (error.message.includes('trust') ? '証明書が信頼されていない可能性もあります（inkan trust install）。' : '')];
    case 'CERTIFICATE_UNTRUSTED': return ['このブラウザーが inkand の証明書を信頼していません。', '`inkan trust install` を実行し、ブラウザーを再起動してください。'];
    case 'LOCAL_NETWORK_ACCESS_DENIED': return ['ブラウザーがこのサイトのローカルネットワークへのアクセスを拒否しています。', 'サイトの設定で「ローカル ネットワーク アクセス」を許可してください。'];
    case 'ORIGIN_NOT_PAIRED': return ['このサイトは inkand に登録されていません。', '下のボタンでペアリングを申請するか、管理者に登録を依頼してください。'];
    case 'PAIRING_DENIED': return ['ペアリングが拒否されました。', ''];
    case 'PAIRING_EXPIRED': return ['ペアリングの有効期限が切れました。', 'もう一度申請してください。'];
    case 'PAIRING_RATE_LIMITED': return ['ペアリングの申請が多すぎます。', 'しばらくしてから申請してください。'];
    case 'ALREADY_PAIRED': return ['このサイトはすでに登録されています。', ''];
    default: return [error.message, ''];
  }
}

function showError(error) {
  const e = error instanceof InkanError ? error : new InkanError({ code: 'INVALID_RESPONSE', message: String(error?.message ?? error) });
  const [message, hint] = explain(e);
  const box = $('error');
  box.hidden = false;
  box.dataset.code = e.code;
  if (e.triesLeft !== undefined) box.dataset.triesLeft = String(e.triesLeft);
  else delete box.dataset.triesLeft;
  $('error-code').textContent = e.code;
  $('error-message').textContent = message;
  $('error-hint').textContent = hint;
  $('pair').hidden = e.code !== 'ORIGIN_NOT_PAIRED';
  console.warn('inkan:', e.code, e.message);
}

function clearError() {
  const box = $('error');
  box.hidden = true;
  delete box.dataset.code;
  delete box.dataset.triesLeft;
}

function logEvent(event) {
  const item = document.createElement('li');
  item.dataset.type = event.type;
  const time = new Date().toLocaleTimeString('ja-JP');
  const card = event.data && typeof event.data === 'object' && event.data.cardId ? ` ${event.data.cardId}` : '';
  item.textContent = `${time} ${event.type}${card}`;
  $('events').prepend(item);
  while ($('events').children.length > 20) $('events').lastChild.remove();
}

// ---- talking to inkand ---------------------------------------------------

/** Reads the cards (and the 商号 of cards not seen before); one read at a time. */
function refreshCards() {
  if (state.refreshing) {
    state.again = true;
    return state.refreshing;
  }
  state.refreshing = (async () => {
    try {
      do {
        state.again = false;
        const cards = await inkan.cards();
        for (const card of cards) {
          const certificate = signingCertificate(card);
          if (!state.names.has(card.id) && certificate) {
            // The listing carries the registry's 商号 and 会社法人等番号 when the certificate has them.
            state.names.set(card.id, corporateName(certificate));
          }
        }
        state.cards = cards;
        if (!cards.some((c) => c.id === state.selected)) state.selected = cards[0]?.id ?? null;
        renderCards();
        setConnection('connected', `inkand ${inkan.origin} に接続しました`);
        if ($('error').dataset.code && ['DAEMON_UNREACHABLE', 'ORIGIN_NOT_PAIRED', 'CERTIFICATE_UNTRUSTED', 'CARD_REMOVED', 'CARD_NOT_FOUND'].includes($('error').dataset.code)) clearError();
      } while (state.again);
      return true;
    } catch (error) {
      setConnection('error', 'inkand を利用できません');
      showError(error);
      return false;
    } finally {
      state.refreshing = null;
    }
  })();
  return state.refreshing;
}

let polling = null;
function startPolling() {
  if (polling) return;
  setLiveMode('polling');
  polling = setInterval(() => { refreshCards(); }, POLL_INTERVAL_MS);
}

/** Follows inkand's event stream; falls back to polling where inkand has none. */
async function followEvents() {
  try {
    for await (const event of inkan.events({
      onOpen: () => { setLiveMode('events'); refreshCards(); },
      onError: () => setLiveMode('reconnecting'),
    })) {
      logEvent(event);
      if (CARD_EVENTS.has(event.type)) refreshCards();
    }
  } catch (error) {
    if (error instanceof InkanError && ['ORIGIN_NOT_PAIRED', 'CERTIFICATE_UNTRUSTED', 'LOCAL_NETWORK_ACCESS_DENIED'].includes(error.code)) return;
    startPolling();
  }
}

async function sign(event) {
  event.preventDefault();
  const card = state.cards.find((c) => c.id === state.selected);
  if (!card) return;
  const pin = $('pin').value;
  $('pin').value = '';  // the page keeps the PIN no longer than the request
  $('sign').disabled = true;
  clearError();
  $('result').hidden = true;
  try {
    const result = await inkan.sign(card.id, {
      data: $('document').value,
      digestAlgorithm: $('algorithm').value,
      // Only where the page is the PIN's source; elsewhere inkand asks the user itself.
      pin: state.pinSource === 'request' && pin !== '' ? pin : undefined,
    });
    $('signer').textContent = state.names.get(card.id) ?? card.label;
    $('result-algorithm').textContent = result.digestAlgorithm;
    $('digest').textContent = toHex(result.digest);
    $('signature').textContent = result.signatureBase64;
    $('certificate').textContent = result.certificateBase64;
    $('result').hidden = false;
  } catch (error) {
    showError(error);
  } finally {
    updateSignButton();
    refreshCards();
  }
}

/** Hides the PIN field when inkand asks for the PIN itself (pinentry dialog or pinpad). */
async function readAccess() {
  try {
    const access = await inkan.access();
    state.pinSource = access.pinSource;
  } catch {
    state.pinSource = 'request';  // an inkand without GET /v1/access takes the PIN in the request
  }
  const outside = state.pinSource !== 'request';
  $('pin').hidden = outside;
  $('pin-label').hidden = outside;
  $('pin-outside').hidden = state.pinSource !== 'pinentry';
  $('pin-pinpad').hidden = state.pinSource !== 'pinpad';
}

async function pair() {
  $('pair').disabled = true;
  try {
    await inkan.pair({
      onCode: (pairing) => {
        $('pairing-code').textContent = pairing.code;
        $('pairing').hidden = false;
      },
    });
    $('pairing').hidden = true;
    clearError();
    if (await refreshCards()) {
      await readAccess();
      followEvents();
    }
  } catch (error) {
    $('pairing').hidden = true;
    showError(error);
  } finally {
    $('pair').disabled = false;
  }
}

async function main() {
  $('sign-form').addEventListener('submit', sign);
  $('pair').addEventListener('click', pair);
  setLiveMode('—');
  if ((await inkan.localNetworkAccess()) === 'prompt') {
    setConnection('connecting', 'ブラウザーがローカルネットワークへのアクセス許可を求めたら「許可」を選んでください');
  }
  const connected = await refreshCards();
  if (connected) await readAccess();
  document.body.dataset.ready = 'true';
  if (connected) followEvents();
}

main();
