// The console's connection to inkand: the browser SDK (@inkan/client, which
// inkand serves with the console under /console/sdk/), on the page's own
// origin. What gives the console standing is its session cookie (HttpOnly:
// never seen here), which same-origin requests carry; a page without a
// session gets UNAUTHORIZED and shows how to log in.

import { InkanClient, isInkanError } from './sdk/index.js';

// inkand is local: after a restart it is back within seconds, so the console
// does not back off as far as the SDK's default (30 s) before trying again.
const EVENTS_MAX_RETRY_MS = 5000;

/** The console's client: the page's own origin, its session cookie, its Inkan-Client name. */
export const inkan = new InkanClient({ origin: '', credentials: 'same-origin', clientName: 'inkan-console' });

/** The answer of a page without (or with an ended) session. */
export function isLoggedOut(error) {
  return isInkanError(error, 'UNAUTHORIZED');
}

/** No answer from inkand at all (it stopped or is restarting). */
export function isUnreachable(error) {
  return isInkanError(error, 'DAEMON_UNREACHABLE');
}

/**
 * Follow inkand's events (docs/events.md) until stop() is called; the SDK reconnects and
 * resumes by itself. onEvent({ id, type, data }) for every event; onState('live' |
 * 'reconnecting') as the connection comes and goes; onState('loggedOut') once inkand refuses
 * the session, or 'lost' after any other refusal retrying cannot fix: both end following.
 */
export function followEvents({ onEvent, onState }) {
  const controller = new AbortController();
  const connection = (state) => onState(state === 'open' ? 'live' : 'reconnecting');
  (async () => {
    try {
      for await (const event of inkan.events({ signal: controller.signal, maxRetryMs: EVENTS_MAX_RETRY_MS, onState: connection })) {
        onEvent(event);
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      if (isLoggedOut(error)) {
        onState('loggedOut');
      } else {
        console.warn('the event stream ended', error);
        onState('lost');
      }
    }
  })();
  return {
    stop() {
      controller.abort();
    },
  };
}
