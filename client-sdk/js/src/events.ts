// GET /v1/events as an async iterator, read with fetch() streaming (EventSource
// cannot send the Inkan-Client header or a token). The iterator reconnects by
// itself after a dropped connection, sending the id of the last event it
// delivered as Last-Event-ID, so inkand replays what was missed (or sends
// `reset` when it no longer can).

import { InkanError } from './errors.js';
import type {
  EventCardInserted,
  EventCardRemoved,
  EventCertificateExpiry,
  EventPcsc,
  EventPinBlocked,
  EventPinStatus,
  EventReader,
  EventReset,
} from './generated/openapi.js';
import { SseParser, type ServerSentEvent } from './sse.js';

/** Each event type of inkand's stream and its payload schema (openapi.yaml `Event*`, docs/events.md). */
export interface InkanEventMap {
  'reader-added': EventReader;
  'reader-removed': EventReader;
  'card-inserted': EventCardInserted;
  'card-removed': EventCardRemoved;
  'pin-status': EventPinStatus;
  'pin-blocked': EventPinBlocked;
  'certificate-expiring': EventCertificateExpiry;
  'certificate-expired': EventCertificateExpiry;
  'pcsc-available': EventPcsc;
  'pcsc-unavailable': EventPcsc;
  /** inkand could not replay what was missed: read /status and /cards again. */
  reset: EventReset;
}

export type InkanEventType = keyof InkanEventMap;

/**
 * One event: `type` and its parsed JSON payload `data`, narrowed together by a `switch` on
 * `type`. (A type added to inkand after this SDK arrives as is; handle it in `default`.)
 */
export type InkanEvent = {
  [K in InkanEventType]: {
    /** The event's id (increasing); what a reconnect resumes from. */
    id: string;
    type: K;
    data: InkanEventMap[K];
  };
}[InkanEventType];

export interface EventsOptions {
  /** Ends the iteration (without an error). */
  signal?: AbortSignal;
  /** Resume after this event id (e.g. the last one seen before a page reload). */
  lastEventId?: string;
  /** First reconnection delay; default inkand's `retry:` value, else 2000 ms. */
  retryMs?: number;
  /** Longest reconnection delay after repeated failures; default 30000 ms. */
  maxRetryMs?: number;
  /**
   * Reconnect when nothing (not even a heartbeat; inkand sends one every 15 s) arrived for
   * this long; default 45000 ms, 0 to never.
   */
  idleTimeoutMs?: number;
  /**
   * Called when the stream broke and will be retried (inkand restarted, the laptop slept).
   * Errors that retrying cannot fix (origin not allowed, certificate not trusted, 4xx) end
   * the iteration by throwing instead.
   */
  onError?: (error: InkanError, attempt: number) => void;
  /** Called each time the stream is (re)connected. */
  onOpen?: () => void;
  /**
   * The connection as a page shows it: `open` each time the stream is (re)connected, and
   * `reconnecting` each time it was lost (ended, broke or went silent) or could not be opened
   * and will be tried again, with the error when there was one. An error retrying cannot fix
   * ends the iteration instead (it throws).
   */
  onState?: (state: EventStreamState, error?: InkanError) => void;
}

/** The states onState() reports. */
export type EventStreamState = 'open' | 'reconnecting';

export interface EventStreamConfig {
  url: string;
  credentials: RequestCredentials;
  headers: () => Record<string, string>;
  diagnose: (error: unknown, signal?: AbortSignal) => Promise<InkanError>;
  options: EventsOptions;
}

const DEFAULT_RETRY_MS = 2000;
const DEFAULT_MAX_RETRY_MS = 30000;
const DEFAULT_IDLE_TIMEOUT_MS = 45000;
const EVENT_STREAM_TYPE = 'text/event-stream';

/** Codes after which reconnecting is useless: the page or the setup must change first. */
const FATAL_CODES = new Set(['ORIGIN_NOT_PAIRED', 'CERTIFICATE_UNTRUSTED', 'LOCAL_NETWORK_ACCESS_DENIED', 'UNAUTHORIZED',
  'HOST_FORBIDDEN', 'BAD_REQUEST', 'NOT_FOUND', 'METHOD_NOT_ALLOWED', 'UNSUPPORTED_MEDIA_TYPE', 'OPERATION_FORBIDDEN',
  'INVALID_RESPONSE', 'INVALID_ARGUMENT']);

class Idle extends Error {}

export class EventStream implements AsyncIterableIterator<InkanEvent> {
  private readonly queue: InkanEvent[] = [];
  private readonly controller = new AbortController();
  private lastEventId: string;
  private serverRetryMs: number | undefined;
  private running: Promise<void> | null = null;
  private waiters: Array<() => void> = [];
  private failure: unknown = null;
  private finished = false;

  constructor(private readonly fetchImpl: typeof fetch, private readonly config: EventStreamConfig) {
    this.lastEventId = config.options.lastEventId ?? '';
    const outer = config.options.signal;
    if (outer) {
      if (outer.aborted) this.controller.abort();
      else outer.addEventListener('abort', () => this.stop(), { once: true });
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<InkanEvent>> {
    if (!this.running && !this.finished) this.running = this.run();
    for (;;) {
      const event = this.queue.shift();
      if (event) return { value: event, done: false };
      if (this.failure) {
        const failure = this.failure;
        this.failure = null;
        this.finished = true;
        throw failure;
      }
      if (this.finished || this.controller.signal.aborted) {
        this.finished = true;
        return { value: undefined, done: true };
      }
      await new Promise<void>((resolve) => { this.waiters.push(resolve); });
    }
  }

  async return(): Promise<IteratorResult<InkanEvent>> {
    this.stop();
    return { value: undefined, done: true };
  }

  private stop(): void {
    this.finished = true;
    this.controller.abort();
    this.notify();
  }

  private notify(): void {
    // Every waiting next() looks at the queue again; one takes the event, the others wait on.
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The connect / read / reconnect loop; events go to the queue, a fatal error to `failure`. */
  private async run(): Promise<void> {
    const { options } = this.config;
    let attempt = 0;
    try {
      while (!this.controller.signal.aborted) {
        let error: InkanError | null = null;
        try {
          if (await this.connectAndRead()) attempt = 0;
        } catch (e) {
          if (this.controller.signal.aborted) break;
          error = e instanceof InkanError ? e : new InkanError({ code: 'DAEMON_UNREACHABLE', message: 'the event stream broke', cause: e });
          if (FATAL_CODES.has(error.code)) throw error;
        }
        attempt++;
        if (error) options.onError?.(error, attempt);
        if (this.controller.signal.aborted) break;
        options.onState?.('reconnecting', error ?? undefined);
        const base = options.retryMs ?? this.serverRetryMs ?? DEFAULT_RETRY_MS;
        const delay = Math.min(base * 2 ** Math.min(attempt - 1, 8), options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS);
        await this.pause(delay);
      }
    } catch (e) {
      this.failure = e;
    } finally {
      this.finished = true;
      this.notify();
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.controller.signal;
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** One connection: true when it was established (then it ended or went idle). */
  private async connectAndRead(): Promise<boolean> {
    const attemptController = new AbortController();
    const abortAttempt = () => attemptController.abort();
    this.controller.signal.addEventListener('abort', abortAttempt, { once: true });
    const headers: Record<string, string> = { ...this.config.headers(), Accept: EVENT_STREAM_TYPE };
    // Last-Event-ID is the SSE resumption header (WHATWG HTML §9.2.4).
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    try {
      let response: Response;
      try {
        response = await this.fetchImpl(this.config.url, {
          method: 'GET', headers, mode: 'cors', credentials: this.config.credentials, cache: 'no-store', redirect: 'error',
          referrerPolicy: 'no-referrer', signal: attemptController.signal,
        });
      } catch (error) {
        if (this.controller.signal.aborted) return false;
        throw await this.config.diagnose(error, this.controller.signal);
      }
      const type = (response.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!response.ok) {
        let body: unknown = undefined;
        try { body = await response.json(); } catch { /* not JSON */ }
        if (type === 'application/problem+json') throw InkanError.fromProblem(body, response.status);
        throw new InkanError({ code: 'INVALID_RESPONSE', status: response.status, message: `inkand answered the event stream with HTTP ${response.status}` });
      }
      if (type !== EVENT_STREAM_TYPE || !response.body) {
        await response.body?.cancel().catch(() => undefined);
        throw new InkanError({ code: 'INVALID_RESPONSE', status: response.status, message: `expected text/event-stream from inkand, got ${type || 'nothing'}` });
      }
      this.config.options.onOpen?.();
      this.config.options.onState?.('open');
      await this.read(response.body, attemptController);
      return true;
    } finally {
      this.controller.signal.removeEventListener('abort', abortAttempt);
      attemptController.abort();
    }
  }

  private async read(body: ReadableStream<Uint8Array>, attemptController: AbortController): Promise<void> {
    const idleMs = this.config.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const parser = new SseParser({
      onEvent: (event) => this.deliver(event),
      onRetry: (ms) => { this.serverRetryMs = ms; },
    }, this.lastEventId);
    const reader = body.getReader();
    const decoder = new TextDecoder('utf-8');
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    let idleReject: ((e: Error) => void) | undefined;
    const idle = new Promise<never>((_, reject) => { idleReject = reject; });
    idle.catch(() => undefined);
    const armIdle = () => {
      if (!idleMs) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => idleReject?.(new Idle()), idleMs);
    };
    try {
      armIdle();
      for (;;) {
        const { value, done } = await Promise.race([reader.read(), idle]);
        if (done) break;
        armIdle();
        parser.push(decoder.decode(value, { stream: true }));
        // inkand also sends a bare `id:` (its latest) when a stream opens: resume from there
        // even if no event arrives before the connection drops.
        if (parser.lastId) this.lastEventId = parser.lastId;
      }
    } catch (error) {
      if (this.controller.signal.aborted) return;
      if (error instanceof Idle) {
        this.config.options.onError?.(new InkanError({ code: 'DAEMON_UNREACHABLE', message: `no data from inkand's event stream for ${idleMs} ms; reconnecting` }), 0);
        return;
      }
      // The connection broke mid-stream: reconnect (resuming from the last id).
      return;
    } finally {
      clearTimeout(idleTimer);
      attemptController.abort();
      reader.cancel().catch(() => undefined);
      parser.end();
    }
  }

  private deliver(event: ServerSentEvent): void {
    let data: unknown = event.data;
    try {
      data = JSON.parse(event.data);
    } catch {
      // Not JSON: deliver the text as is.
    }
    if (event.id) this.lastEventId = event.id;
    // The payload is inkand's, per openapi.yaml; it is not validated field by field here.
    this.queue.push({ id: event.id, type: event.type, data } as InkanEvent);
    this.notify();
  }
}
