// A parser for text/event-stream (WHATWG HTML, "Server-sent events", §9.2.6
// "Interpreting an event stream"), fed with decoded text as it arrives. The
// SDK streams with fetch() because EventSource cannot send request headers.
// Written here on purpose: the package has no runtime dependencies, and the
// format is short and fully specified; the unit tests follow the standard.

/** One dispatched message. */
export interface ServerSentEvent {
  /** The last event ID seen so far (the `id:` field persists across messages). */
  id: string;
  /** The `event:` field, default `message`. */
  type: string;
  /** The `data:` lines joined with "\n". */
  data: string;
}

export interface SseCallbacks {
  onEvent(event: ServerSentEvent): void;
  /** A `retry:` field: the server's reconnection delay in milliseconds. */
  onRetry?(milliseconds: number): void;
  /** A comment line (inkand's heartbeats are `: heartbeat`). */
  onComment?(text: string): void;
}

const DIGITS = /^[0-9]+$/;

export class SseParser {
  private buffer = '';
  private data = '';
  private hasData = false;
  private eventType = '';
  private lastEventId: string;
  /** A '\r' ended the previous chunk: a '\n' starting the next one belongs to it. */
  private pendingCr = false;

  constructor(private readonly callbacks: SseCallbacks, lastEventId = '') {
    this.lastEventId = lastEventId;
  }

  /** The id to send as Last-Event-ID when reconnecting. */
  get lastId(): string {
    return this.lastEventId;
  }

  push(text: string): void {
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf('\r', start);
      const lf = this.buffer.indexOf('\n', start);
      if (cr < 0 && lf < 0) break;
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        end = cr;
        if (cr + 1 === this.buffer.length) {
          // "\r" at the very end: maybe the first half of "\r\n".
          this.pendingCr = true;
          next = cr + 1;
        } else {
          next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(this.buffer.slice(start, end));
      start = next;
    }
    this.buffer = this.buffer.slice(start);
  }

  /** The stream ended: an incomplete message is discarded (§9.2.6). */
  end(): void {
    this.buffer = '';
    this.data = '';
    this.hasData = false;
    this.eventType = '';
    this.pendingCr = false;
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) {
      this.callbacks.onComment?.(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data += value + '\n';
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (DIGITS.test(value)) this.callbacks.onRetry?.(Number(value));
        break;
      default:
        break;  // unknown fields are ignored
    }
  }

  private dispatch(): void {
    const type = this.eventType || 'message';
    this.eventType = '';
    if (!this.hasData) {
      this.data = '';
      return;
    }
    const data = this.data.endsWith('\n') ? this.data.slice(0, -1) : this.data;
    this.data = '';
    this.hasData = false;
    this.callbacks.onEvent({ id: this.lastEventId, type, data });
  }
}
