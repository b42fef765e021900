// The console's words, in Japanese (the default) and English. The choice is
// remembered in localStorage; nothing else is stored.

const STORAGE_KEY = 'inkan.console.language';
const LANGUAGES = ['ja', 'en'];

const MESSAGES = {
  ja: {
    'title': 'inkan コンソール',
    'subtitle': '法人認証カードと電子証明書の状態',
    'skip': '本文へ移動',
    'language.switch': 'English',
    'language.switchLabel': 'Switch to English',
    'connection.connecting': '接続中…',
    'connection.live': 'リアルタイム更新中',
    'connection.reconnecting': '再接続中…',
    'connection.lost': 'inkand に接続できません。起動しているか確認してください。',
    'connection.loggedOut': 'ログインしていません',

    'login.heading': 'コンソールへのログイン',
    'login.explain': 'このコンソールは、inkand を動かしているユーザーだけが開けます。端末で次のコマンドを実行すると、ログインした状態のコンソールがブラウザーで開きます。',
    'login.print': 'ブラウザーを自動で開けない環境では、次のコマンドが表示するアドレスをこのブラウザーで開いてください(1 回だけ、60 秒以内に有効です)。',
    'login.failed': 'このログイン用アドレスは期限切れか、すでに使われています。もう一度 inkan console を実行してください。',
    'login.ended': 'ログインの有効期限が切れたか、ログアウトしました。もう一度 inkan console を実行してください。',
    'logout': 'ログアウト',

    'notices.heading': 'お知らせ',
    'notice.pinBlocked': 'カード {card} の PIN がロックされています。ロック解除用コード(PUK)で解除するか、カードの発行元のヘルプデスクにお問い合わせください。',
    'notice.expiring': 'カード {card} の証明書「{cert}」はあと {days} 日で有効期限が切れます({date})。早めに更新の手続きをしてください。',
    'notice.expired': 'カード {card} の証明書「{cert}」は有効期限が切れています({date})。',
    'notice.pcscDown': 'スマートカードサービス(pcscd)が動いていません。',

    'readers.heading': 'カードリーダー',
    'readers.none': 'カードリーダーが見つかりません。',
    'readers.pcsc': 'スマートカードサービス (PC/SC)',
    'readers.pcscOk': '利用可能',
    'readers.pcscDown': '利用できません',
    'readers.cardPresent': 'カードあり',
    'readers.empty': 'カードなし',
    'readers.unsupported': '対応していないカード',
    'readers.pinpad': 'PINパッド付き',
    'readers.version': 'inkand バージョン',

    'cards.heading': 'カード',
    'cards.none': 'カードが挿入されていません。カードをリーダーに挿入してください。',
    'cards.id': 'カードID',
    'cards.reader': 'リーダー',
    'cards.profile': '種類',
    'cards.pin': 'PIN 残り回数',
    'cards.pinTries': '{left} / {max} 回',
    'cards.pinBlocked': 'ロック中',
    'cards.certificates': '証明書',
    'cards.certId': 'ID',
    'cards.corporateName': '商号',
    'cards.notAfter': '有効期限',
    'cards.daysLeft': '残り日数',
    'cards.details': '詳細を表示',
    'cards.detailsLabel': '証明書「{cert}」の詳細を表示',
    'cards.manage': 'このカードを操作',

    'days.left': 'あと {days} 日',
    'days.today': '本日まで',
    'days.expired': '{days} 日前に期限切れ',

    'cert.heading': '証明書の内容',
    'cert.none': 'カード欄の「詳細を表示」で証明書を選んでください。',
    'cert.registry': '登記事項',
    'cert.corporateName': '商号',
    'cert.registeredNumber': '会社法人等番号',
    'cert.headOffice': '本店',
    'cert.representativeName': '代表者',
    'cert.representativeTitle': '資格',
    'cert.registryOffice': '管轄登記所',
    'cert.registrar': '登記官',
    'cert.noRegistry': 'この証明書には登記事項の拡張がありません。',
    'cert.general': '証明書',
    'cert.subject': '主体者',
    'cert.issuer': '発行者',
    'cert.serialNumber': 'シリアル番号',
    'cert.validity': '有効期間',
    'cert.validityRange': '{from} から {to} まで',
    'cert.daysLeft': '残り日数',
    'cert.key': '鍵',
    'cert.fingerprint': 'SHA-256 フィンガープリント',
    'cert.loading': '読み込み中…',

    'validation.heading': '有効性の確認',
    'validation.at': '確認する日時(空欄なら現在)',
    'validation.run': '有効性を確認',
    'validation.running': '確認中…',
    'validation.verdict': '判定',
    'validation.valid': '有効',
    'validation.invalid': '無効',
    'validation.revoked': '失効',
    'validation.suspended': '休止中',
    'validation.unknown': '不明',
    'validation.chain': '証明書チェーン',
    'validation.chainOk': '検証できました',
    'validation.chainFailed': '検証できませんでした',
    'validation.revocation': '失効確認',
    'validation.checkedAt': '確認時刻',
    'validation.unavailable': 'この inkand は有効性の確認に対応していません。',

    'pin.heading': 'PIN の変更',
    'pin.card': '対象カード',
    'pin.current': '現在の PIN',
    'pin.new': '新しい PIN(4〜16 桁の数字)',
    'pin.confirm': '新しい PIN(確認)',
    'pin.submit': 'PIN を変更',
    'pin.working': '変更中…',
    'pin.warning': 'PIN を 10 回続けて間違えるとカードがロックされ、解除にはカードの発行元のヘルプデスクへの連絡が必要になります。',
    'pin.triesLeft': '現在の残り回数: {left} / {max} 回',
    'pin.lowTries': '残り回数が少なくなっています。PIN が分からない場合は入力を続けず、ヘルプデスクにお問い合わせください。',
    'pin.blocked': 'このカードの PIN はロックされています。',
    'pin.changed': 'PIN を変更しました。',
    'pin.mismatch': '新しい PIN と確認用の PIN が一致しません。',
    'pin.format': 'PIN は 4〜16 桁の数字で入力してください。',
    'pin.incorrect': '現在の PIN が違います。残り {left} 回です。残りが 0 回になるとカードがロックされます。',
    'pin.guard': '残り回数が {left} 回しかないため、inkand は PIN を試しませんでした。カードを守るための措置です。',
    'pin.lockedNow': 'PIN がロックされました。ヘルプデスクにお問い合わせください。',
    'pin.rateLimited': '短時間に間違った PIN が続いたため、しばらく受け付けません。時間をおいてください。',
    'pin.noCard': 'カードが挿入されていません。',

    'selftest.heading': '動作確認',
    'selftest.pin': 'PIN(入力するとテスト署名も行います。省略可)',
    'selftest.run': '動作確認を実行',
    'selftest.running': '実行中…',
    'selftest.passed': 'すべての確認に合格しました。',
    'selftest.failed': '問題が見つかりました。',
    'selftest.pass': '合格',
    'selftest.fail': '不合格',
    'selftest.skipped': '省略',
    'selftest.unavailable': 'この inkand は動作確認に対応していません。',

    'pairings.heading': '接続を許可したサイト',
    'pairings.allowlisted': '設定で許可',
    'pairings.paired': 'ペアリング済み',
    'pairings.pending': '承認待ち',
    'pairings.none': '許可されたサイトはありません。',
    'pairings.origin': 'サイト',
    'pairings.operations': '許可された操作',
    'pairings.approvedAt': '承認日時',
    'pairings.localOnly': 'この一覧はコマンドラインの `inkan pair list` で確認できます(ブラウザからは表示・変更できません)。',
    'pairings.unavailable': 'この inkand はペアリングに対応していません。',

    'usage.heading': '使用履歴',
    'usage.card': 'カード',
    'usage.allCards': 'すべてのカード',
    'usage.csv': 'CSV をダウンロード',
    'usage.none': '記録された使用はまだありません。',
    'usage.latest': '新しい順に最大 {n} 件。すべての記録は CSV か `inkan log` で。',
    'usage.time': '日時',
    'usage.who': '利用者/サイト',
    'usage.cardColumn': 'カード',
    'usage.company': '商号',
    'usage.operation': '操作',
    'usage.target': '対象',
    'usage.result': '結果',
    'usage.local': 'ローカル',
    'usage.console': 'コンソール',
    'usage.ok': '成功',
    'usage.interrupted': '中断',
    'usage.pending': '処理中',
    'usage.triesLeft': '(残り{n}回)',
    'usage.op.sign': '署名',
    'usage.op.pin.verify': 'PIN照合',
    'usage.op.pin.change': 'PIN変更',
    'usage.op.pin.unblock': 'PINロック解除',
    'usage.op.selftest': '自己診断',
    'usage.op.pairing.approve': '連携承認',
    'usage.op.pairing.deny': '連携拒否',
    'usage.op.pairing.revoke': '連携取消',

    'activity.heading': '最近の出来事',
    'activity.none': 'まだありません。',
    'event.pcsc-available': 'スマートカードサービスが利用可能になりました',
    'event.pcsc-unavailable': 'スマートカードサービスが停止しました',
    'event.reader-added': 'リーダー「{reader}」が接続されました',
    'event.reader-removed': 'リーダー「{reader}」が取り外されました',
    'event.card-inserted': 'カード {card} が「{reader}」に挿入されました',
    'event.card-inserted-unusable': '利用できないカードが「{reader}」に挿入されました',
    'event.card-removed': 'カード {card} が「{reader}」から取り出されました',
    'event.pin-status': 'カード {card}: PIN 残り {left} / {max} 回',
    'event.pin-blocked': 'カード {card}: PIN がロックされました',
    'event.certificate-expiring': 'カード {card}: 証明書「{cert}」の期限まであと {days} 日',
    'event.certificate-expired': 'カード {card}: 証明書「{cert}」の期限切れ',
    'event.reset': '一部の出来事を受け取れなかったため、表示を更新しました',

    'error.generic': 'エラー: {detail}',
    'error.unreachable': 'inkand に接続できませんでした。',
  },
  en: {
    'title': 'inkan console',
    'subtitle': 'Your corporate IC card and its certificate',
    'skip': 'Skip to content',
    'language.switch': '日本語',
    'language.switchLabel': '日本語に切り替える',
    'connection.connecting': 'Connecting…',
    'connection.live': 'Live',
    'connection.reconnecting': 'Reconnecting…',
    'connection.lost': 'Cannot reach inkand. Check that it is running.',
    'connection.loggedOut': 'Not logged in',

    'login.heading': 'Log in to the console',
    'login.explain': 'Only the user who runs inkand can open this console. Run this command in a terminal: it opens the console in your browser, logged in.',
    'login.print': 'Where no browser can be started, open the address this command prints in this browser (it works once, within 60 seconds).',
    'login.failed': 'This login address has expired or was already used. Run inkan console again.',
    'login.ended': 'Your console session has ended (unused for a while, or logged out). Run inkan console again.',
    'logout': 'Log out',

    'notices.heading': 'Notices',
    'notice.pinBlocked': 'The PIN of card {card} is blocked. Reset it with the unblock code (PUK) or contact the card issuer\'s helpdesk.',
    'notice.expiring': 'Certificate "{cert}" of card {card} expires in {days} days ({date}). Renew it in time.',
    'notice.expired': 'Certificate "{cert}" of card {card} has expired ({date}).',
    'notice.pcscDown': 'The smart card service (pcscd) is not running.',

    'readers.heading': 'Card readers',
    'readers.none': 'No card reader found.',
    'readers.pcsc': 'Smart card service (PC/SC)',
    'readers.pcscOk': 'available',
    'readers.pcscDown': 'not available',
    'readers.cardPresent': 'card present',
    'readers.empty': 'empty',
    'readers.unsupported': 'unsupported card',
    'readers.pinpad': 'PIN pad',
    'readers.version': 'inkand version',

    'cards.heading': 'Cards',
    'cards.none': 'No card inserted. Insert the card into a reader.',
    'cards.id': 'Card ID',
    'cards.reader': 'Reader',
    'cards.profile': 'Type',
    'cards.pin': 'PIN tries left',
    'cards.pinTries': '{left} of {max}',
    'cards.pinBlocked': 'blocked',
    'cards.certificates': 'Certificates',
    'cards.certId': 'ID',
    'cards.corporateName': 'Corporate name',
    'cards.notAfter': 'Valid until',
    'cards.daysLeft': 'Days left',
    'cards.details': 'Show details',
    'cards.detailsLabel': 'Show the details of certificate "{cert}"',
    'cards.manage': 'Use this card',

    'days.left': '{days} days left',
    'days.today': 'expires today',
    'days.expired': 'expired {days} days ago',

    'cert.heading': 'Certificate details',
    'cert.none': 'Choose a certificate with "Show details" in the card list.',
    'cert.registry': 'Registered particulars',
    'cert.corporateName': 'Corporate name (商号)',
    'cert.registeredNumber': 'Corporate number (会社法人等番号)',
    'cert.headOffice': 'Head office (本店)',
    'cert.representativeName': 'Representative (代表者)',
    'cert.representativeTitle': 'Title (資格)',
    'cert.registryOffice': 'Registry office (管轄登記所)',
    'cert.registrar': 'Registrar (登記官)',
    'cert.noRegistry': 'This certificate carries no registry extensions.',
    'cert.general': 'Certificate',
    'cert.subject': 'Subject',
    'cert.issuer': 'Issuer',
    'cert.serialNumber': 'Serial number',
    'cert.validity': 'Validity',
    'cert.validityRange': '{from} to {to}',
    'cert.daysLeft': 'Days left',
    'cert.key': 'Key',
    'cert.fingerprint': 'SHA-256 fingerprint',
    'cert.loading': 'Loading…',

    'validation.heading': 'Validity check',
    'validation.at': 'Check as of (empty: now)',
    'validation.run': 'Check validity',
    'validation.running': 'Checking…',
    'validation.verdict': 'Verdict',
    'validation.valid': 'valid',
    'validation.invalid': 'not valid',
    'validation.revoked': 'revoked',
    'validation.suspended': 'suspended',
    'validation.unknown': 'unknown',
    'validation.chain': 'Certificate chain',
    'validation.chainOk': 'verified',
    'validation.chainFailed': 'could not be verified',
    'validation.revocation': 'Revocation',
    'validation.checkedAt': 'Checked at',
    'validation.unavailable': 'This inkand cannot check validity.',

    'pin.heading': 'Change the PIN',
    'pin.card': 'Card',
    'pin.current': 'Current PIN',
    'pin.new': 'New PIN (4 to 16 digits)',
    'pin.confirm': 'New PIN again',
    'pin.submit': 'Change PIN',
    'pin.working': 'Changing…',
    'pin.warning': 'Ten wrong PINs in a row lock the card; unlocking it then needs the card issuer\'s helpdesk.',
    'pin.triesLeft': 'Tries left now: {left} of {max}',
    'pin.lowTries': 'Few tries are left. If you are not sure of the PIN, stop and contact the helpdesk.',
    'pin.blocked': 'The PIN of this card is blocked.',
    'pin.changed': 'The PIN has been changed.',
    'pin.mismatch': 'The new PIN and its confirmation differ.',
    'pin.format': 'A PIN is 4 to 16 digits.',
    'pin.incorrect': 'The current PIN is wrong. {left} tries left; at 0 the card locks.',
    'pin.guard': 'Only {left} tries are left, so inkand did not try the PIN, to protect the card.',
    'pin.lockedNow': 'The PIN is now blocked. Contact the helpdesk.',
    'pin.rateLimited': 'Too many wrong PINs in a short time. Wait a while before trying again.',
    'pin.noCard': 'No card inserted.',

    'selftest.heading': 'Self-test',
    'selftest.pin': 'PIN (optional: with it, a test signature is made too)',
    'selftest.run': 'Run the self-test',
    'selftest.running': 'Running…',
    'selftest.passed': 'All checks passed.',
    'selftest.failed': 'A check failed.',
    'selftest.pass': 'pass',
    'selftest.fail': 'fail',
    'selftest.skipped': 'skipped',
    'selftest.unavailable': 'This inkand has no self-test.',

    'pairings.heading': 'Sites allowed to use the card',
    'pairings.allowlisted': 'allowed in the configuration',
    'pairings.paired': 'paired',
    'pairings.pending': 'waiting for approval',
    'pairings.none': 'No site is allowed.',
    'pairings.origin': 'Site',
    'pairings.operations': 'May',
    'pairings.approvedAt': 'Approved',
    'pairings.localOnly': 'The list is shown by `inkan pair list` on the command line (browsers can neither see nor change it).',
    'pairings.unavailable': 'This inkand has no pairing.',

    'usage.heading': 'Usage ledger',
    'usage.card': 'Card',
    'usage.allCards': 'All cards',
    'usage.csv': 'Download CSV',
    'usage.none': 'No use recorded yet.',
    'usage.latest': 'Newest first, at most {n}. Every record: the CSV or `inkan log`.',
    'usage.time': 'Time',
    'usage.who': 'User / site',
    'usage.cardColumn': 'Card',
    'usage.company': 'Company',
    'usage.operation': 'Operation',
    'usage.target': 'Target',
    'usage.result': 'Result',
    'usage.local': 'local',
    'usage.console': 'console',
    'usage.ok': 'succeeded',
    'usage.interrupted': 'interrupted',
    'usage.pending': 'in progress',
    'usage.triesLeft': ' ({n} tries left)',
    'usage.op.sign': 'signature',
    'usage.op.pin.verify': 'PIN verification',
    'usage.op.pin.change': 'PIN change',
    'usage.op.pin.unblock': 'PIN unblock',
    'usage.op.selftest': 'self-test',
    'usage.op.pairing.approve': 'pairing approved',
    'usage.op.pairing.deny': 'pairing denied',
    'usage.op.pairing.revoke': 'pairing revoked',

    'activity.heading': 'Recent activity',
    'activity.none': 'Nothing yet.',
    'event.pcsc-available': 'The smart card service is available',
    'event.pcsc-unavailable': 'The smart card service stopped',
    'event.reader-added': 'Reader "{reader}" connected',
    'event.reader-removed': 'Reader "{reader}" removed',
    'event.card-inserted': 'Card {card} inserted into "{reader}"',
    'event.card-inserted-unusable': 'An unusable card was inserted into "{reader}"',
    'event.card-removed': 'Card {card} removed from "{reader}"',
    'event.pin-status': 'Card {card}: PIN {left} of {max} tries left',
    'event.pin-blocked': 'Card {card}: the PIN is blocked',
    'event.certificate-expiring': 'Card {card}: certificate "{cert}" expires in {days} days',
    'event.certificate-expired': 'Card {card}: certificate "{cert}" has expired',
    'event.reset': 'Some events were missed; the view was refreshed',

    'error.generic': 'Error: {detail}',
    'error.unreachable': 'Could not reach inkand.',
  },
};

let current = initialLanguage();

function initialLanguage() {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(stored)) return stored;
  } catch {
    // Storage may be disabled; Japanese then.
  }
  return 'ja';
}

export function language() {
  return current;
}

export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  current = lang;
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not remembered; still switched.
  }
  document.documentElement.lang = lang;
}

/** The message `key` with {name} placeholders filled from `values`. */
export function t(key, values = {}) {
  const template = MESSAGES[current][key] ?? MESSAGES.ja[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
}

/** A date-time for people, in the chosen language and the local time zone. */
export function formatDateTime(text) {
  const time = Date.parse(text);
  if (Number.isNaN(time)) return text ?? '';
  return new Intl.DateTimeFormat(current === 'ja' ? 'ja-JP' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(time));
}

/** Fill every element marked data-i18n (static text of index.html). */
export function translateStatic(root = document) {
  for (const element of root.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll('[data-i18n-label]')) {
    element.setAttribute('aria-label', t(element.dataset.i18nLabel));
  }
  document.title = t('title');
}
