// The event-stream parser and the reconnecting iterator, with scripted streams.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { InkanClient, InkanError, SseParser } from '../../dist/index.js';
import { fakeFetch, problem, streamResponse } from './fake.mjs';

function parse(chunks, lastEventId = '') {
  const events = [];
  const comments = [];
  const retries = [];
  const parser = new SseParser({
    onEvent: (e) => events.push(e),
    onComment: (c) => comments.push(c),
    onRetry: (ms) => retries.push(ms),
  }, lastEventId);
  for (const chunk of chunks) parser.push(chunk);
  return { events, comments, retries, parser };
}

describe('SseParser', () => {
  it('reads id, event and data fields; a blank line dispatches', () => {
    const { events } = parse(['id: 7\nevent: card-inserted\ndata: {"cardId":"a"}\n\n']);
    assert.deepEqual(events, [{ id: '7', type: 'card-inserted', data: '{"cardId":"a"}' }]);
  });

  it('handles lines split anywhere across chunks, CRLF and lone CR included', () => {
    const text = 'id: 1\r\nevent: a\r\ndata: x\r\n\r\nid: 2\revent: b\rdata: y\r\rid: 3\nevent: c\ndata: z\n\n';
    for (let size = 1; size <= 5; size++) {
      const chunks = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const { events } = parse(chunks);
      assert.deepEqual(events.map((e) => [e.id, e.type, e.data]), [['1', 'a', 'x'], ['2', 'b', 'y'], ['3', 'c', 'z']], `chunk size ${size}`);
    }
  });

  it('joins multi-line data with newlines; defaults the type to message; strips one leading space', () => {
    const { events } = parse(['data:first\ndata:  second\ndata\n\n']);
    assert.deepEqual(events, [{ id: '', type: 'message', data: 'first\n second\n' }]);
  });

  it('heartbeat comments are reported and dispatch nothing', () => {
    const { events, comments } = parse([': heartbeat\n\n', ':\n\n']);
    assert.deepEqual(events, []);
    assert.deepEqual(comments, ['heartbeat', '']);
  });

  it('the id persists across events and survives messages without data', () => {
    const { events, parser } = parse(['id: 10\n\n', 'data: a\n\n', 'id: 11\nevent: x\n\n'], '5');
    assert.deepEqual(events, [{ id: '10', type: 'message', data: 'a' }]);
    assert.equal(parser.lastId, '11');
  });

  it('retry takes digits only; ids with NUL and unknown fields are ignored', () => {
    const { retries, parser } = parse(['retry: 2000\nretry: 1s\nid: a\0b\nfoo: bar\n\n']);
    assert.deepEqual(retries, [2000]);
    assert.equal(parser.lastId, '');
  });

  it('an incomplete event at the end of the stream is dropped', () => {
    const { events, parser } = parse(['id: 1\ndata: half']);
    parser.end();
    assert.deepEqual(events, []);
  });
});

async function take(iterator, n) {
  const out = [];
  while (out.length < n) {
    const { value, done } = await iterator.next();
    if (done) break;
    out.push(value);
  }
  return out;
}

describe('events()', () => {
  it('parses JSON payloads and reconnects with Last-Event-ID after the stream ends', async () => {
    const f = fakeFetch((call, index) => {
      if (index === 0) return streamResponse(['retry: 1\n\n', 'id: 5\nevent: card-removed\ndata: {"cardId":"c1"}\n\n', ': heartbeat\n\n']);
      return streamResponse(['id: 6\nevent: card-inserted\ndata: {"cardId":"c1"}\n\n'], { keepOpen: true, signal: call.init.signal });
    });
    const stream = new InkanClient({ fetch: f }).events();
    const events = await take(stream, 2);
    assert.deepEqual(events, [
      { id: '5', type: 'card-removed', data: { cardId: 'c1' } },
      { id: '6', type: 'card-inserted', data: { cardId: 'c1' } },
    ]);
    assert.equal(f.calls[0].headers.get('Last-Event-ID'), null);
    assert.equal(f.calls[1].headers.get('Last-Event-ID'), '5');
    assert.equal(f.calls[0].headers.get('Accept'), 'text/event-stream');
    assert.match(f.calls[0].headers.get('Inkan-Client'), /^@inkan\/client /);
    assert.equal(f.calls[0].url, 'https://127.0.0.1:24713/v1/events');
    assert.deepEqual(await stream.return(), { value: undefined, done: true });
    assert.ok(f.calls[1].init.signal.aborted, 'return() closes the connection');
  });

  it('a bare id block (inkand sends its latest id first) is where a reconnect resumes', async () => {
    const f = fakeFetch((call, index) => (index === 0
      ? streamResponse(['retry: 1\nid: 41\n\n'])
      : streamResponse(['id: 42\nevent: card-removed\ndata: {"reader":"r"}\n\n'], { keepOpen: true, signal: call.init.signal })));
    const stream = new InkanClient({ fetch: f }).events();
    assert.equal((await take(stream, 1))[0].id, '42');
    assert.equal(f.calls[1].headers.get('Last-Event-ID'), '41');
    await stream.return();
  });

  it('starts from lastEventId and keeps non-JSON data as text', async () => {
    const f = fakeFetch((call) => streamResponse(['id: 9\nevent: odd\ndata: plain text\n\n'], { keepOpen: true, signal: call.init.signal }));
    const stream = new InkanClient({ fetch: f }).events({ lastEventId: '8' });
    assert.deepEqual(await take(stream, 1), [{ id: '9', type: 'odd', data: 'plain text' }]);
    assert.equal(f.calls[0].headers.get('Last-Event-ID'), '8');
    await stream.return();
  });

  it('retries a broken connection (reporting it) and ends on the caller\'s signal', async () => {
    const errors = [];
    const controller = new AbortController();
    const f = fakeFetch((call, index) => {
      if (index < 2) throw new TypeError('fetch failed', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) });
      return streamResponse(['id: 1\nevent: reader-added\ndata: {"reader":"r"}\n\n'], { keepOpen: true, signal: call.init.signal });
    });
    const stream = new InkanClient({ fetch: f }).events({ retryMs: 1, signal: controller.signal, onError: (e, attempt) => errors.push([e.code, attempt]) });
    assert.equal((await take(stream, 1))[0].type, 'reader-added');
    assert.deepEqual(errors, [['DAEMON_UNREACHABLE', 1], ['DAEMON_UNREACHABLE', 2]]);
    controller.abort();
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
  });

  it('a refusal retrying cannot fix ends the iteration with the InkanError', async () => {
    const f = fakeFetch(() => problem(403, 'ORIGIN_FORBIDDEN'));
    const stream = new InkanClient({ fetch: f }).events({ retryMs: 1 });
    await assert.rejects(stream.next(), (e) => e instanceof InkanError && e.code === 'ORIGIN_NOT_PAIRED');
    assert.equal(f.calls.length, 1);
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
  });

  it('BUSY (too many subscribers) is retried', async () => {
    const f = fakeFetch((call, index) => (index === 0 ? problem(503, 'BUSY')
      : streamResponse(['id: 2\nevent: reset\ndata: {}\n\n'], { keepOpen: true, signal: call.init.signal })));
    const stream = new InkanClient({ fetch: f }).events({ retryMs: 1 });
    assert.equal((await take(stream, 1))[0].type, 'reset');
    await stream.return();
  });

  it('a stream that goes silent past the idle timeout is reconnected', async () => {
    const f = fakeFetch((call, index) => (index === 0
      ? streamResponse(['id: 1\nevent: a\ndata: {}\n\n'], { keepOpen: true, signal: call.init.signal })
      : streamResponse(['id: 2\nevent: b\ndata: {}\n\n'], { keepOpen: true, signal: call.init.signal })));
    const stream = new InkanClient({ fetch: f }).events({ retryMs: 1, idleTimeoutMs: 50 });
    const events = await take(stream, 2);
    assert.deepEqual(events.map((e) => e.type), ['a', 'b']);
    assert.equal(f.calls[1].headers.get('Last-Event-ID'), '1');
    assert.ok(f.calls[0].init.signal.aborted);
    await stream.return();
  });

  it('a non-event-stream answer is INVALID_RESPONSE', async () => {
    const f = fakeFetch(() => new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } }));
    await assert.rejects(new InkanClient({ fetch: f }).events().next(), (e) => e.code === 'INVALID_RESPONSE');
  });

  it('works with for await and break', async () => {
    const f = fakeFetch((call) => streamResponse(['id: 1\nevent: a\ndata: {}\n\nid: 2\nevent: b\ndata: {}\n\n'], { keepOpen: true, signal: call.init.signal }));
    const seen = [];
    for await (const event of new InkanClient({ fetch: f }).events()) {
      seen.push(event.type);
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, ['a', 'b']);
    assert.ok(f.calls[0].init.signal.aborted);
  });
});
