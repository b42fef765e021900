// InkanClient: the HTTPS API of inkand (openapi.yaml) for browser pages and Node.js.

import {
  SDK_VERSION,
  type Card,
  type CertificateDetail,
  type ChangePinRequest,
  type DocumentSignRequest,
  type DocumentSignResult,
  type ListCardsResponse,
  type Pin,
  type PinList,
  type PinStatus,
  type SelfTestReport,
  type SelfTestRequest,
  type SignRequest,
  type SignResult,
  type Status,
  type Access,
  type Pairing,
  type PairingRequest,
  type UnblockPinRequest,
  type Validation,
  type VerifyPinRequest,
} from './generated/openapi.js';
import { fromBase64, isBytes, toBase64, toUint8Array, type Bytes } from './bytes.js';
import { diagnoseNetworkFailure, localNetworkAccessState } from './diagnose.js';
import { InkanError } from './errors.js';
import { EventStream, type EventsOptions, type InkanEvent } from './events.js';

/** inkand's default port (docs: design, README). */
export const DEFAULT_PORT = 24713;
export const DEFAULT_HOST = '127.0.0.1';

/** The digest algorithms inkand signs with, and their output sizes in bytes (FIPS 180-4). */
export type DigestAlgorithm = SignRequest['digestAlgorithm'];
export const DIGEST_LENGTHS: Readonly<Record<DigestAlgorithm, number>> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

const HEADER_CLIENT = 'Inkan-Client';
const JSON_TYPE = 'application/json';
const PROBLEM_TYPE = 'application/problem+json';

export interface InkanClientOptions {
  /** inkand's port; default 24713. */
  port?: number;
  /** `127.0.0.1` (default), `localhost` or `::1`: the only names inkand answers to. */
  host?: string;
  /**
   * The local API token (`<state>/token`), for Node.js scripts and other callers without
   * an Origin. Browser pages never need it and must not have it.
   */
  token?: string;
  /**
   * Where inkand is, as an origin (`https://127.0.0.1:24713`), instead of `host` and `port`.
   * `''` means the page's own origin: for pages inkand serves itself (its console), whose
   * requests go to `/v1/...` of the page's own server.
   */
  origin?: string;
  /**
   * Whether requests carry the page's cookies: `omit` (default; portals never need them) or
   * `same-origin`, with which a page inkand serves itself sends its session cookie (the console's).
   */
  credentials?: 'omit' | 'same-origin';
  /** The `Inkan-Client` header value; default `@inkan/client <version>`. */
  clientName?: string;
  /** A fetch implementation (tests, instrumented transports); default the global fetch. */
  fetch?: typeof fetch;
}

/** Options every call accepts. */
export interface CallOptions {
  /** Cancels the request; the call then fails with `ABORTED`. */
  signal?: AbortSignal;
}

/** Options of the PIN operations. */
export interface PinOptions extends CallOptions {
  /**
   * Which of the card's PINs (`card.pins[].id`, e.g. `sign` or `auth` on the My Number card);
   * default the card's default PIN (`pins[0]`).
   */
  pinId?: string;
}

export interface SignOptions extends CallOptions {
  /** The digest to sign (32, 48 or 64 bytes for SHA-256/384/512). Give either `digest` or `data`. */
  digest?: Bytes;
  /** Data the SDK hashes with WebCrypto before signing; a string is hashed as UTF-8. */
  data?: Bytes | string;
  /** Default `SHA-256`. */
  digestAlgorithm?: DigestAlgorithm;
  /**
   * The PIN guarding the signing key (the certificate's `keyPin`), verified just before signing. Omit it when inkand asks the user itself
   * (pinentry or a pinpad, the default for paired origins) or right after this page's own
   * verifyPin() of that PIN (within 30 s, with no other caller's operation on the card between).
   */
  pin?: string;
  /**
   * Sign even when the card has only a few PIN tries left (inkand's PIN guard refuses with
   * `PIN_GUARD` otherwise). Honoured only when the origin's policy allows it.
   */
  acknowledgeLowTries?: boolean;
  /**
   * The id of the certificate whose key signs (e.g. `auth` on the My Number card); default the
   * card's signing certificate (`card.signingCertificate`).
   */
  certificate?: string;
}

/** A signature with everything needed to check it. */
export interface Signature {
  /** The signature value (RSASSA-PKCS1-v1_5 on the reference card). */
  signature: Uint8Array;
  signatureBase64: string;
  /** e.g. `RSASSA-PKCS1-v1_5-SHA-256`. */
  signatureAlgorithm: string;
  /** The signing certificate, DER. */
  certificate: Uint8Array;
  certificateBase64: string;
  certificateId: string;
  /** The digest that was signed (computed by the SDK when `data` was given). */
  digest: Uint8Array;
  digestAlgorithm: DigestAlgorithm;
}

/** The document formats inkand signs (docs/formats.md). */
export type DocumentFormat = DocumentSignRequest['format'];

export interface SignDocumentOptions extends CallOptions {
  /**
   * `cms`: a detached CMS signature (CAdES-BES) over `content`, what a .p7s file holds;
   * `pdf`: the PDF `content` signed (adbe.pkcs7.detached, an incremental update);
   * `egov`: the e-Gov package's `kousei` (kousei.xml) signed over itself and `files`.
   */
  format: DocumentFormat;
  /** `cms`: the document itself; `pdf`: the PDF (at most 32 MiB); a string is sent as UTF-8. */
  content?: Bytes | string;
  /** `pdf`: the signature's /Reason. */
  reason?: string;
  /** `pdf`: the signature's /Location. */
  location?: string;
  /** `pdf`: a stamp on page 1 with 商号, 氏名 and 日時 (default: invisible). */
  visible?: boolean;
  /** `egov`: kousei.xml. */
  kousei?: Bytes | string;
  /** `egov`: the application files kousei.xml names, by bare file name. */
  files?: { name: string; content: Bytes | string }[];
  /** The document's file name, shown with what is signed. */
  name?: string;
  /** Default `SHA-256`. */
  digestAlgorithm?: DigestAlgorithm;
  /** As for sign(). */
  pin?: string;
  acknowledgeLowTries?: boolean;
  /** The id of the certificate whose key signs; default the card's signing certificate. */
  certificate?: string;
  /** Include the card's CA certificates in the signature. */
  includeChain?: boolean;
}

/** A document signature and the certificate that made it. */
export interface DocumentSignature {
  format: DocumentFormat;
  /** `cms`: the DER CMS SignedData (detached); `pdf`: the signed PDF; `egov`: the signed kousei.xml. */
  signature: Uint8Array;
  signatureBase64: string;
  signatureAlgorithm: string;
  certificate: Uint8Array;
  certificateBase64: string;
  certificateId: string;
  /** What inkand signed: its size, SHA-256 (hex) and name; `pdf`: its page count too. */
  document: DocumentSignResult['document'];
}

/** A certificate, decoded, with its DER also as bytes. */
export type CertificateDetails = CertificateDetail & { derBytes: Uint8Array };

export interface ValidateOptions extends CallOptions {
  /** Check validity as of this time (default now). */
  at?: Date | string;
}

export interface PairOptions extends CallOptions {
  /** Called once inkand has created the pairing: show `code` so the user can compare it. */
  onCode?: (pairing: Pairing) => void;
  /** How often to ask inkand about the outcome; default 1000 ms. */
  pollIntervalMs?: number;
  /** Extra fields of the pairing request (e.g. the operations asked for), see openapi.yaml. */
  request?: PairingRequest;
}

/** Options of request(). */
export interface RequestOptions extends CallOptions {
  /** Query parameters, percent-encoded by the SDK. */
  query?: Record<string, string>;
  /** The JSON body of a POST or DELETE; default `{}`. */
  body?: unknown;
}

/** The methods request() sends. */
export type RequestMethod = 'GET' | 'POST' | 'DELETE';

interface RequestSpec extends RequestOptions {
  method: RequestMethod;
  path: string;
  /** Statuses counted as success; default 200. */
  expect?: readonly number[];
}

/** The answers request() counts as success (RFC 9110 §15.3). */
const SUCCESS_STATUSES: readonly number[] = [200, 201, 202, 204];
const NO_CONTENT = 204;
const ALLOWED_HOSTS = ['127.0.0.1', 'localhost', '::1', '[::1]'];

function encodeSegment(value: string, what: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new InkanError({ code: 'INVALID_ARGUMENT', message: `${what} must be a non-empty string` });
  }
  return encodeURIComponent(value);
}

/** A document given as bytes or text (UTF-8), not empty. */
function documentBytes(value: unknown, name: string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof value === 'string') bytes = new TextEncoder().encode(value);
  else if (isBytes(value)) bytes = toUint8Array(value);
  else throw new InkanError({ code: 'INVALID_ARGUMENT', message: `${name} must be a string, an ArrayBuffer or a typed array` });
  if (bytes.length === 0) throw new InkanError({ code: 'INVALID_ARGUMENT', message: `${name} must not be empty` });
  return bytes;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortedError(signal?: AbortSignal, cause?: unknown): InkanError {
  return new InkanError({ code: 'ABORTED', message: 'the request was aborted', cause: cause ?? signal?.reason });
}

function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return Boolean(signal?.aborted) || (error instanceof Error && error.name === 'AbortError');
}

/** The client. One instance per page is enough; it holds no connection state. */
export class InkanClient {
  /** e.g. `https://127.0.0.1:24713`; `''` for the page's own origin (option `origin: ''`). */
  readonly origin: string;
  private readonly credentials: 'omit' | 'same-origin';
  private readonly token: string | undefined;
  private readonly clientName: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: InkanClientOptions = {}) {
    if (options.origin !== undefined) {
      if (options.host !== undefined || options.port !== undefined) {
        throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'give either origin or host and port' });
      }
      this.origin = checkOrigin(options.origin);
    } else {
      this.origin = originOf(options.host ?? DEFAULT_HOST, options.port ?? DEFAULT_PORT);
    }
    const credentials = options.credentials ?? 'omit';
    if (credentials !== 'omit' && credentials !== 'same-origin') {
      throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'credentials must be omit or same-origin' });
    }
    this.credentials = credentials;
    this.token = options.token;
    this.clientName = options.clientName ?? `@inkan/client ${SDK_VERSION}`;
    const f = options.fetch ?? (globalThis.fetch as typeof fetch | undefined);
    if (typeof f !== 'function') throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'no fetch() in this environment' });
    // A bare global fetch must be called with globalThis as `this` in browsers.
    this.fetchImpl = options.fetch ?? ((input, init) => f.call(globalThis, input, init));
  }

  /** The API base, e.g. `https://127.0.0.1:24713/v1` (`/v1` for the page's own origin). */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  /** The version, PC/SC availability and the readers. Touches no card. */
  async status(options: CallOptions = {}): Promise<Status> {
    return this.send<Status>({ method: 'GET', path: '/status', ...options });
  }

  /**
   * Where this page stands with inkand: `allowlisted`, `paired` or `unknown` (then only
   * pair() works), what it may do (`operations`, `cards`) and where its PIN comes from
   * (`pinSource`: `request` = the page sends it, `pinentry`/`pinpad` = inkand asks the user).
   * Works for any https:// page, paired or not.
   */
  async access(options: CallOptions = {}): Promise<Access> {
    return this.send<Access>({ method: 'GET', path: '/access', ...options });
  }

  /** Every present card inkand supports (and this origin may see). */
  async cards(options: CallOptions = {}): Promise<Card[]> {
    const answer = await this.send<ListCardsResponse>({ method: 'GET', path: '/cards', ...options });
    return answer.cards;
  }

  /** One card. */
  async card(cardId: string, options: CallOptions = {}): Promise<Card> {
    return this.send<Card>({ method: 'GET', path: `/cards/${encodeSegment(cardId, 'cardId')}`, ...options });
  }

  /** One certificate of a card, with its DER (base64 `der` and decoded `derBytes`). */
  async certificate(cardId: string, certId: string, options: CallOptions = {}): Promise<CertificateDetails> {
    const answer = await this.send<CertificateDetail>({
      method: 'GET',
      path: `/cards/${encodeSegment(cardId, 'cardId')}/certificates/${encodeSegment(certId, 'certId')}`,
      ...options,
    });
    const derBytes = fromBase64(answer.der);
    if (!derBytes) throw new InkanError({ code: 'INVALID_RESPONSE', message: 'the certificate\'s der is not base64' });
    return { ...answer, derBytes };
  }

  /** inkand's validity check of a certificate (chain, revocation), now or as of `at`. */
  async validate(cardId: string, certId: string, options: ValidateOptions = {}): Promise<Validation> {
    const query: Record<string, string> = {};
    if (options.at !== undefined) {
      const at = options.at instanceof Date ? options.at : new Date(options.at);
      if (Number.isNaN(at.getTime())) throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'at must be a valid date' });
      query.at = at.toISOString();
    }
    return this.send<Validation>({
      method: 'GET',
      path: `/cards/${encodeSegment(cardId, 'cardId')}/certificates/${encodeSegment(certId, 'certId')}/validation`,
      query,
      signal: options.signal,
    });
  }

  /**
   * Every PIN of the card (id, label, tries left and maximum, format, whether the card can
   * unblock it), as inkand last read them: nothing is sent to the card.
   */
  async pins(cardId: string, options: CallOptions = {}): Promise<Pin[]> {
    const answer = await this.send<PinList>({ method: 'GET', path: `/cards/${encodeSegment(cardId, 'cardId')}/pins`, ...options });
    return answer.pins;
  }

  /** One PIN of the card, its tries left read from the card without spending one. */
  async pin(cardId: string, pinId: string, options: CallOptions = {}): Promise<Pin> {
    return this.send<Pin>({ method: 'GET', path: this.pinPath(cardId, pinId), ...options });
  }

  /** A PIN's tries left (default the card's default PIN), asked of the card without spending a try. */
  async pinStatus(cardId: string, options: PinOptions = {}): Promise<PinStatus> {
    const { pinId, ...call } = options;
    if (pinId !== undefined) {
      const pin = await this.pin(cardId, pinId, call);
      return { triesLeft: pin.triesLeft, maxTries: pin.maxTries, blocked: pin.blocked };
    }
    return this.send<PinStatus>({ method: 'GET', path: `/cards/${encodeSegment(cardId, 'cardId')}/pin`, ...call });
  }

  /** The unblock code's tries left (after its last one the card must be reissued), read without spending one. */
  async unblockCodeStatus(cardId: string, options: CallOptions = {}): Promise<PinStatus> {
    return this.send<PinStatus>({ method: 'GET', path: `/cards/${encodeSegment(cardId, 'cardId')}/unblock-code`, ...options });
  }

  /**
   * Verifies a PIN (default the card's default PIN); the card then allows this page one
   * signature with the key that PIN guards without `pin`, within 30 s.
   */
  async verifyPin(cardId: string, pin: string, options: PinOptions = {}): Promise<PinStatus> {
    const { pinId, ...call } = options;
    const body: VerifyPinRequest = { pin: requireString(pin, 'pin') };
    return this.send<PinStatus>({ method: 'POST', path: `${this.pinOperationBase(cardId, pinId)}/verify`, body, ...call });
  }

  /** Changes a PIN (default the card's default PIN). */
  async changePin(cardId: string, pin: string, newPin: string, options: PinOptions = {}): Promise<PinStatus> {
    const { pinId, ...call } = options;
    const body: ChangePinRequest = { pin: requireString(pin, 'pin'), newPin: requireString(newPin, 'newPin') };
    return this.send<PinStatus>({ method: 'POST', path: `${this.pinOperationBase(cardId, pinId)}/change`, body, ...call });
  }

  /**
   * Resets a blocked PIN (default the card's default PIN) with the unblock code. A PIN the card
   * cannot unblock (`unblockable: false`, e.g. the My Number card's) fails with
   * `UNSUPPORTED_OPERATION` before anything reaches the card.
   */
  async unblockPin(cardId: string, unblockCode: string, newPin: string, options: PinOptions = {}): Promise<PinStatus> {
    const { pinId, ...call } = options;
    const body: UnblockPinRequest = { unblockCode: requireString(unblockCode, 'unblockCode'), newPin: requireString(newPin, 'newPin') };
    return this.send<PinStatus>({ method: 'POST', path: `${this.pinOperationBase(cardId, pinId)}/unblock`, body, ...call });
  }

  /**
   * Signs a document in a format a portal accepts (docs/formats.md): the document is sent to
   * inkand, which builds what is signed, has the card sign it and returns the result.
   */
  async signDocument(cardId: string, options: SignDocumentOptions): Promise<DocumentSignature> {
    const path = `/cards/${encodeSegment(cardId, 'cardId')}/signatures`;
    if (options.format !== 'cms' && options.format !== 'pdf' && options.format !== 'egov') {
      throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'format must be cms, pdf or egov' });
    }
    const digestAlgorithm = options.digestAlgorithm ?? 'SHA-256';
    if (typeof digestAlgorithm !== 'string' || !Object.prototype.hasOwnProperty.call(DIGEST_LENGTHS, digestAlgorithm)) {
      throw new InkanError({ code: 'INVALID_ARGUMENT', message: `digestAlgorithm must be one of ${Object.keys(DIGEST_LENGTHS).join(', ')}` });
    }
    const body: DocumentSignRequest = { format: options.format, digestAlgorithm };
    if (options.format === 'cms' || options.format === 'pdf') {
      body.content = toBase64(documentBytes(options.content, 'content'));
    } else {
      body.kousei = toBase64(documentBytes(options.kousei, 'kousei'));
      if (!Array.isArray(options.files) || options.files.length === 0) {
        throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'files must list the application files' });
      }
      body.files = options.files.map((file, i) => ({
        name: requireString(file?.name, `files[${i}].name`),
        content: toBase64(documentBytes(file?.content, `files[${i}].content`)),
      }));
    }
    if (options.format === 'pdf') {
      if (options.reason !== undefined) body.reason = requireString(options.reason, 'reason');
      if (options.location !== undefined) body.location = requireString(options.location, 'location');
      if (options.visible) body.visible = true;
    } else if (options.reason !== undefined || options.location !== undefined || options.visible !== undefined) {
      throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'reason, location and visible are for the pdf format' });
    }
    if (options.name !== undefined) body.name = requireString(options.name, 'name');
    if (options.pin !== undefined) body.pin = requireString(options.pin, 'pin');
    if (options.certificate !== undefined) body.certificate = requireString(options.certificate, 'certificate');
    if (options.includeChain) body.includeChain = true;
    if (options.acknowledgeLowTries) body.acknowledgeLowTries = true;

    const answer = await this.send<DocumentSignResult>({ method: 'POST', path, body, signal: options.signal });
    const signed = answer.format === 'egov' ? answer.kousei : answer.format === 'pdf' ? answer.content : answer.signature;
    const signature = signed === undefined ? undefined : fromBase64(signed);
    const certificate = fromBase64(answer.certificate);
    if (!signature || !certificate) {
      throw new InkanError({ code: 'INVALID_RESPONSE', message: 'the signature or certificate in inkand\'s answer is not base64' });
    }
    return {
      format: answer.format,
      signature,
      signatureBase64: signed as string,
      signatureAlgorithm: answer.signatureAlgorithm,
      certificate,
      certificateBase64: answer.certificate,
      certificateId: answer.certificateId,
      document: answer.document,
    };
  }

  /**
   * Signs `digest`, or the digest of `data` computed here with WebCrypto. The digest's
   * length is checked before anything is sent.
   */
  async sign(cardId: string, options: SignOptions): Promise<Signature> {
    const path = `/cards/${encodeSegment(cardId, 'cardId')}/sign`;
    const digestAlgorithm = options.digestAlgorithm ?? 'SHA-256';
    if (typeof digestAlgorithm !== 'string' || !Object.prototype.hasOwnProperty.call(DIGEST_LENGTHS, digestAlgorithm)) {
      throw new InkanError({ code: 'INVALID_ARGUMENT', message: `digestAlgorithm must be one of ${Object.keys(DIGEST_LENGTHS).join(', ')}` });
    }
    if ((options.digest === undefined) === (options.data === undefined)) {
      throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'give exactly one of digest and data' });
    }
    let digest: Uint8Array;
    if (options.digest !== undefined) {
      if (!isBytes(options.digest)) throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'digest must be an ArrayBuffer or a typed array' });
      digest = toUint8Array(options.digest);
    } else {
      digest = await hash(digestAlgorithm, options.data as Bytes | string);
    }
    const expectedLength = DIGEST_LENGTHS[digestAlgorithm];
    if (digest.length !== expectedLength) {
      throw new InkanError({
        code: 'INVALID_ARGUMENT',
        message: `a ${digestAlgorithm} digest is ${expectedLength} bytes, not ${digest.length}`,
      });
    }
    const body: SignRequest & { acknowledgeLowTries?: boolean } = { digest: toBase64(digest), digestAlgorithm };
    if (options.pin !== undefined) body.pin = requireString(options.pin, 'pin');
    if (options.certificate !== undefined) body.certificate = requireString(options.certificate, 'certificate');
    if (options.acknowledgeLowTries) body.acknowledgeLowTries = true;

    const answer = await this.send<SignResult>({ method: 'POST', path, body, signal: options.signal });
    const signature = fromBase64(answer.signature);
    const certificate = fromBase64(answer.certificate);
    if (!signature || !certificate) {
      throw new InkanError({ code: 'INVALID_RESPONSE', message: 'the signature or certificate in inkand\'s answer is not base64' });
    }
    return {
      signature,
      signatureBase64: answer.signature,
      signatureAlgorithm: answer.signatureAlgorithm,
      certificate,
      certificateBase64: answer.certificate,
      certificateId: answer.certificateId,
      digest,
      digestAlgorithm,
    };
  }

  /**
   * Runs the card's self-test (動作確認): reader, card, PIN status, certificates, chain,
   * revocation, and with `pin` the key itself (one signature). Failed checks are in the
   * report (`passed: false`), not errors.
   */
  async selftest(cardId: string, options: CallOptions & { pin?: string; acknowledgeLowTries?: boolean } = {}): Promise<SelfTestReport> {
    const body: SelfTestRequest = {};
    if (options.pin !== undefined) body.pin = requireString(options.pin, 'pin');
    if (options.acknowledgeLowTries) body.acknowledgeLowTries = true;
    return this.send<SelfTestReport>({
      method: 'POST', path: `/cards/${encodeSegment(cardId, 'cardId')}/selftest`, body, signal: options.signal,
    });
  }

  /**
   * Asks the user to allow this page's origin: inkand shows the origin and a short code
   * outside the page (`inkan pair approve`, or its own dialog); `onCode` gets the code to show
   * in the page so the user can compare. Resolves when approved; fails with `PAIRING_DENIED`
   * or `PAIRING_EXPIRED` otherwise.
   */
  async pair(options: PairOptions = {}): Promise<Pairing> {
    const interval = Math.max(200, options.pollIntervalMs ?? 1000);
    let pairing = await this.send<Pairing>({
      method: 'POST',
      path: '/pairings',
      body: options.request ?? {},
      expect: [200, 201, 202],
      signal: options.signal,
    });
    options.onCode?.(pairing);
    const path = `/pairings/${encodeSegment(pairing.id, 'pairing id')}`;
    while (pairing.status === 'pending') {
      await sleep(interval, options.signal);
      try {
        pairing = await this.send<Pairing>({ method: 'GET', path, signal: options.signal });
      } catch (error) {
        // inkand forgets a pairing some time after it expired.
        if (error instanceof InkanError && error.code === 'NOT_FOUND') {
          pairing = { ...pairing, status: 'expired' };
          break;
        }
        throw error;
      }
    }
    if (pairing.status === 'approved') return pairing;
    if (pairing.status === 'denied') {
      throw new InkanError({ code: 'PAIRING_DENIED', message: 'the user denied this origin access to inkand' });
    }
    throw new InkanError({ code: 'PAIRING_EXPIRED', message: 'the pairing was not approved in time' });
  }

  /**
   * inkand's event stream as an async iterator: readers and cards coming and going, PIN
   * state, certificate expiry. Reconnects by itself (with Last-Event-ID, so nothing is
   * missed; after a gap too long to fill inkand sends a `reset` event: read the state again).
   * Stop with `break` or the signal.
   */
  events(options: EventsOptions = {}): AsyncIterableIterator<InkanEvent> {
    return new EventStream(this.fetchImpl, {
      url: `${this.baseUrl}/events`,
      credentials: this.credentials,
      headers: () => this.headers(false),
      diagnose: (error, signal) => this.diagnose(error, signal),
      options,
    });
  }

  /**
   * Any operation of inkand's API (openapi.yaml) this client has no method of its own for,
   * e.g. the local-only `GET /audit` or `GET /pairings`: `path` is relative to `/v1` and its
   * segments are the caller's to percent-encode. Resolves with the JSON answer (undefined for
   * 204 No Content); any other answer fails with an InkanError, as every method does.
   */
  async request<T = unknown>(method: RequestMethod, path: string, options: RequestOptions = {}): Promise<T> {
    if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') {
      throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'method must be GET, POST or DELETE' });
    }
    if (typeof path !== 'string' || !path.startsWith('/') || /[?#]/.test(path)) {
      throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'path must start with / and carry no query (give query instead)' });
    }
    return this.send<T>({ ...options, method, path, expect: SUCCESS_STATUSES });
  }

  /**
   * The browser's Local Network Access permission for this page ("granted", "prompt",
   * "denied"), or undefined where the browser has no such permission. A page can show a hint
   * before the first call triggers the browser's prompt.
   */
  async localNetworkAccess(): Promise<PermissionState | undefined> {
    return localNetworkAccessState();
  }

  private pinPath(cardId: string, pinId: string): string {
    return `/cards/${encodeSegment(cardId, 'cardId')}/pins/${encodeSegment(pinId, 'pinId')}`;
  }

  /** `/cards/{id}/pin` (the default PIN) or `/cards/{id}/pins/{pinId}`. */
  private pinOperationBase(cardId: string, pinId: string | undefined): string {
    return pinId === undefined ? `/cards/${encodeSegment(cardId, 'cardId')}/pin` : this.pinPath(cardId, pinId);
  }

  private headers(withBody: boolean): Record<string, string> {
    const headers: Record<string, string> = { Accept: `${JSON_TYPE}, ${PROBLEM_TYPE}`, [HEADER_CLIENT]: this.clientName };
    if (withBody) headers['Content-Type'] = JSON_TYPE;
    if (this.token !== undefined) headers.Authorization = `Bearer ${this.token}`;
    return headers;
  }

  private diagnose(error: unknown, signal?: AbortSignal): Promise<InkanError> {
    if (this.origin === '') {
      // The page's own server does not answer: there is nothing else it could be.
      return Promise.resolve(new InkanError({ code: 'DAEMON_UNREACHABLE', message: SAME_ORIGIN_UNREACHABLE_MESSAGE, cause: error }));
    }
    return diagnoseNetworkFailure(error, { fetch: this.fetchImpl, origin: this.origin, headers: this.headers(false), signal });
  }

  private async send<T>(spec: RequestSpec): Promise<T> {
    const { signal } = spec;
    if (signal?.aborted) throw abortedError(signal);
    let url = `${this.baseUrl}${spec.path}`;
    const query = new URLSearchParams(spec.query ?? {}).toString();
    if (query) url += `?${query}`;
    const hasBody = spec.method !== 'GET';
    const init: RequestInit = {
      method: spec.method,
      headers: this.headers(hasBody),
      mode: 'cors',
      credentials: this.credentials,
      cache: 'no-store',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
    };
    // Never `targetAddressSpace`: for loopback it breaks the request in Chrome.
    if (hasBody) init.body = JSON.stringify(spec.body ?? {});
    if (signal) init.signal = signal;

    let response: Response;
    try {
      response = await this.fetchImpl(url, init);
    } catch (error) {
      if (isAbort(error, signal)) throw abortedError(signal, error);
      throw await this.diagnose(error, signal);
    }
    return readAnswer<T>(response, spec.expect ?? [200], signal);
  }
}

/** The JSON of a successful answer, or the InkanError of any other. */
async function readAnswer<T>(response: Response, expect: readonly number[], signal?: AbortSignal): Promise<T> {
  const type = (response.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    if (isAbort(error, signal)) throw abortedError(signal, error);
    throw new InkanError({ code: 'DAEMON_UNREACHABLE', message: 'the connection to inkand broke while reading its answer', cause: error });
  }
  let body: unknown;
  const isJson = type === JSON_TYPE || type === PROBLEM_TYPE;
  if (isJson) {
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new InkanError({ code: 'INVALID_RESPONSE', status: response.status, message: `inkand's answer (HTTP ${response.status}) is not valid JSON`, cause: error });
    }
  }
  if (expect.includes(response.status)) {
    if (response.status === NO_CONTENT) return undefined as T;
    if (type !== JSON_TYPE || typeof body !== 'object' || body === null) {
      throw new InkanError({ code: 'INVALID_RESPONSE', status: response.status, message: `expected a JSON object from inkand, got ${type || 'no content type'}` });
    }
    return body as T;
  }
  if (type === PROBLEM_TYPE) throw InkanError.fromProblem(body, response.status);
  throw new InkanError({
    code: 'INVALID_RESPONSE',
    status: response.status,
    message: `inkand answered HTTP ${response.status} without a problem+json body`,
  });
}

/** An `origin` option: `''` (the page's own) or an https origin with a name inkand answers to. */
function checkOrigin(origin: unknown): string {
  if (origin === '') return '';
  let url: URL | undefined;
  try {
    url = typeof origin === 'string' ? new URL(origin) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:' || url.origin !== origin || !ALLOWED_HOSTS.includes(url.hostname)) {
    throw new InkanError({ code: 'INVALID_ARGUMENT', message: "origin must be '' or https://HOST:PORT with HOST 127.0.0.1, localhost or [::1]" });
  }
  return origin;
}

function originOf(host: string, port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InkanError({ code: 'INVALID_ARGUMENT', message: `port must be an integer from 1 to 65535, not ${String(port)}` });
  }
  if (!ALLOWED_HOSTS.includes(host)) {
    // inkand answers only to these Host names (DNS-rebinding defense): anything else fails there.
    throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'host must be 127.0.0.1, localhost or ::1' });
  }
  return `https://${host === '::1' ? '[::1]' : host}:${port}`;
}

const SAME_ORIGIN_UNREACHABLE_MESSAGE = 'inkand, which serves this page, does not answer: it stopped or is restarting';

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new InkanError({ code: 'INVALID_ARGUMENT', message: `${what} must be a string` });
  return value;
}

/** The digest of `data` with WebCrypto (a string is hashed as its UTF-8 bytes). */
async function hash(algorithm: DigestAlgorithm, data: Bytes | string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (typeof data === 'string') bytes = new TextEncoder().encode(data);
  else if (isBytes(data)) bytes = toUint8Array(data);
  else throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'data must be an ArrayBuffer, a typed array or a string' });
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!subtle) {
    // WebCrypto exists only in secure contexts (https:// pages, localhost).
    throw new InkanError({ code: 'INVALID_ARGUMENT', message: 'WebCrypto (crypto.subtle) is not available here: serve the page over https, or pass digest' });
  }
  // A fresh copy owns a plain ArrayBuffer, which is what WebCrypto takes.
  return new Uint8Array(await subtle.digest(algorithm, bytes as Uint8Array<ArrayBuffer>));
}
