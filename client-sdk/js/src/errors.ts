// Every failure of the SDK is an InkanError: either a problem+json answer of
// inkand (RFC 9457, `code` from openapi.yaml's ProblemCode), or a condition the
// SDK detects itself because inkand's answer never reached the page.

import { PROBLEM_CODES, type Problem, type ProblemCode } from './generated/openapi.js';

/**
 * Codes the SDK reports itself.
 *
 * - `DAEMON_UNREACHABLE`: nothing answers at inkand's address (not installed, not running,
 *   another port), or the connection broke.
 * - `CERTIFICATE_UNTRUSTED`: inkand answers, but the browser does not trust its local CA
 *   (`inkan trust install` fixes it).
 * - `LOCAL_NETWORK_ACCESS_DENIED`: the user (or a policy) denied this site the browser's
 *   Local Network Access permission (Chrome 142+, Firefox 144+).
 * - `ORIGIN_NOT_PAIRED`: inkand refuses this page's origin (the daemon's `ORIGIN_FORBIDDEN`):
 *   it is neither allowlisted nor paired. `pair()` asks the user to approve it.
 * - `PAIRING_DENIED`, `PAIRING_EXPIRED`: the outcome of `pair()` when it is not an approval.
 * - `INVALID_ARGUMENT`: refused by the SDK before anything was sent (e.g. a digest of the
 *   wrong length).
 * - `INVALID_RESPONSE`: the answer was not what the contract describes.
 * - `ABORTED`: the caller's AbortSignal fired.
 */
export type ClientErrorCode =
  | 'DAEMON_UNREACHABLE'
  | 'CERTIFICATE_UNTRUSTED'
  | 'LOCAL_NETWORK_ACCESS_DENIED'
  | 'ORIGIN_NOT_PAIRED'
  | 'PAIRING_DENIED'
  | 'PAIRING_EXPIRED'
  | 'INVALID_ARGUMENT'
  | 'INVALID_RESPONSE'
  | 'ABORTED';

/** Codes of the SDK's own. */
export const CLIENT_ERROR_CODES: readonly ClientErrorCode[] = [
  'DAEMON_UNREACHABLE', 'CERTIFICATE_UNTRUSTED', 'LOCAL_NETWORK_ACCESS_DENIED', 'ORIGIN_NOT_PAIRED',
  'PAIRING_DENIED', 'PAIRING_EXPIRED', 'INVALID_ARGUMENT', 'INVALID_RESPONSE', 'ABORTED',
];

/**
 * An InkanError's code: one of inkand's problem codes or one of the SDK's. `ORIGIN_FORBIDDEN`
 * from inkand is reported as `ORIGIN_NOT_PAIRED`, the same code a browser gets when it
 * cannot even read the refusal. A code added to inkand later than this SDK passes through as is.
 */
export type InkanErrorCode = Exclude<ProblemCode, 'ORIGIN_FORBIDDEN'> | ClientErrorCode;

/** inkand's problem+json body: the contract's fields plus any it adds later. */
export type ProblemDetails = Problem & { [field: string]: unknown };

export interface InkanErrorInit {
  code: InkanErrorCode;
  message: string;
  /** The HTTP status; 0 when no answer of inkand was read. */
  status?: number;
  problem?: ProblemDetails;
  cause?: unknown;
}

export class InkanError extends Error {
  override readonly name = 'InkanError';
  readonly code: InkanErrorCode;
  /** The HTTP status of inkand's answer; 0 when there was none (client-side codes). */
  readonly status: number;
  /** inkand's `title` (the same for every occurrence of a code), when it answered. */
  readonly title: string | undefined;
  /** inkand's `detail` (what happened this time), or the SDK's explanation. */
  readonly detail: string;
  /** The problem type URI, e.g. `urn:inkan:problem:pin-incorrect`. */
  readonly type: string | undefined;
  /** Remaining PIN (or unblock code) tries: PIN_INCORRECT, UNBLOCK_CODE_INCORRECT, PIN_GUARD. */
  readonly triesLeft: number | undefined;
  /** The card's ISO 7816 status word (4 hex digits), with CARD_ERROR. */
  readonly statusWord: string | undefined;
  /** Seconds to wait before trying again (PIN_RATE_LIMITED, PAIRING_RATE_LIMITED). */
  readonly retryAfterSeconds: number | undefined;
  /** The code inkand sent when the SDK reports it under another name (`ORIGIN_FORBIDDEN`). */
  readonly serverCode: string | undefined;
  /** inkand's whole problem+json body, when it answered with one. */
  readonly problem: ProblemDetails | undefined;

  constructor(init: InkanErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    const problem = init.problem;
    this.code = init.code;
    this.status = init.status ?? problem?.status ?? 0;
    this.problem = problem;
    this.title = problem?.title;
    this.detail = problem?.detail ?? init.message;
    this.type = problem?.type;
    this.triesLeft = integerField(problem, 'triesLeft');
    this.statusWord = typeof problem?.statusWord === 'string' ? problem.statusWord : undefined;
    this.retryAfterSeconds = integerField(problem, 'retryAfterSeconds');
    this.serverCode = problem && problem.code !== init.code ? String(problem.code) : undefined;
    // Older engines without Error cause support still get it.
    if (init.cause !== undefined && !('cause' in this)) {
      Object.defineProperty(this, 'cause', { value: init.cause, configurable: true, writable: true });
    }
  }

  /** Whether this is inkand's own answer (as opposed to a condition the SDK detected). */
  get fromDaemon(): boolean {
    return this.problem !== undefined;
  }

  /** An InkanError from a problem+json body; `status` is the HTTP status it came with. */
  static fromProblem(body: unknown, status: number): InkanError {
    if (!isProblem(body)) {
      return new InkanError({
        code: 'INVALID_RESPONSE',
        status,
        message: `inkand answered HTTP ${status} with a malformed problem+json body`,
      });
    }
    const problem = body as ProblemDetails;
    if (problem.code === 'ORIGIN_FORBIDDEN') {
      return new InkanError({ code: 'ORIGIN_NOT_PAIRED', status, problem, message: ORIGIN_NOT_PAIRED_MESSAGE });
    }
    const message = `${problem.code}: ${problem.detail || problem.title}`;
    return new InkanError({ code: problem.code as InkanErrorCode, status, problem, message });
  }
}

/** `error` is an InkanError, with `code` when given. */
export function isInkanError(error: unknown, code?: InkanErrorCode): error is InkanError {
  return error instanceof InkanError && (code === undefined || error.code === code);
}

/** Whether `code` is one of inkand's problem codes known to this SDK. */
export function isProblemCode(code: string): code is ProblemCode {
  return (PROBLEM_CODES as readonly string[]).includes(code);
}

function integerField(problem: ProblemDetails | undefined, field: string): number | undefined {
  const value = problem?.[field];
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function isProblem(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const b = body as Record<string, unknown>;
  return typeof b.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(b.code) && typeof b.status === 'number';
}

export const ORIGIN_NOT_PAIRED_MESSAGE =
  'inkand refuses this origin: it is not allowlisted (inkand --allow-origin, config "allowedOrigins") ' +
  'and not paired. Call pair() to ask the user to approve it.';
