// Following GET /v1/events (docs/events.md) with fetch() streaming: parse the
// text/event-stream, resume with Last-Event-ID after a lost connection.

const DEFAULT_RETRY_MS = 2000;
// inkand sends a heartbeat every 15 s; silence this long means the connection is gone.
const SILENCE_LIMIT_MS = 45000;

const UNAUTHORIZED = 401;

/**
 * Follow the stream until stop() is called.
 * onEvent({ id, type, data }) for every event (data parsed from JSON);
 * onState('live' | 'reconnecting') when the connection comes and goes;
 * onState('loggedOut') once inkand refuses the session, which ends following.
 */
export function followEvents({ onEvent, onState }) {
  let stopped = false;
  let controller = null;
  let lastEventId = null;
  let retryMs = DEFAULT_RETRY_MS;

  async function connectOnce() {
    controller = new AbortController();
    let silence = setTimeout(() => controller.abort(), SILENCE_LIMIT_MS);
    const headers = { Accept: 'text/event-stream' };
    if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;
    try {
      const response = await fetch('/v1/events', { headers, cache: 'no-store', credentials: 'same-origin', signal: controller.signal });
      if (response.status === UNAUTHORIZED) {
        stopped = true;
        onState('loggedOut');
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      onState('live');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new StreamParser((event) => onEvent(event), (id) => { lastEventId = id; }, (ms) => { retryMs = ms; });
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(silence);
        silence = setTimeout(() => controller.abort(), SILENCE_LIMIT_MS);
        parser.feed(value);
      }
    } finally {
      clearTimeout(silence);
    }
  }

  (async () => {
    while (!stopped) {
      try {
        await connectOnce();
      } catch {
        // Lost, refused or silent: try again below.
      }
      if (stopped) break;
      onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  })();

  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}

/** text/event-stream after WHATWG HTML §9.2.6 (lines end with LF, CRLF or CR). */
class StreamParser {
  constructor(onEvent, onId, onRetry) {
    this.onEvent = onEvent;
    this.onId = onId;
    this.onRetry = onRetry;
    this.pending = '';
    this.data = [];
    this.type = '';
    this.id = null;
  }

  feed(text) {
    this.pending += text;
    const lines = this.pending.split(/\r\n|\r|\n/);
    this.pending = lines.pop();
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;  // a comment: inkand's heartbeat
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.onRetry(Number(value));
    return undefined;
  }

  dispatch() {
    // An id sets the place to resume from even in a block without data.
    if (this.id !== null) this.onId(this.id);
    if (this.data.length > 0) {
      let data = null;
      try {
        data = JSON.parse(this.data.join('\n'));
      } catch {
        data = null;
      }
      this.onEvent({ id: this.id, type: this.type || 'message', data });
    }
    this.data = [];
    this.type = '';
  }
}
