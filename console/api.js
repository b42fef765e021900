// The console talks to inkand's /v1 API like any client, as inkand's own
// origin: reads are same-origin GETs, actions carry the Inkan-Client header.
// What gives it standing is its session cookie (HttpOnly: never seen here),
// which same-origin requests carry (credentials: 'same-origin'); a page
// without a session gets UNAUTHORIZED and shows how to log in.

const CLIENT = 'inkan-console';

/** An answer of inkand that is not a success: its problem+json, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || (status === 0 ? 'UNREACHABLE' : 'HTTP_' + status);
    this.triesLeft = Number.isInteger(problem.triesLeft) ? problem.triesLeft : undefined;
    this.detail = problem.detail || '';
  }
}

async function answer(response) {
  const type = response.headers.get('Content-Type') || '';
  const body = type.includes('json') ? await response.json().catch(() => ({})) : {};
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

async function send(path, init) {
  let response;
  try {
    response = await fetch(path, { cache: 'no-store', credentials: 'same-origin', ...init });
  } catch (error) {
    throw new ApiError(0, { detail: String(error) });
  }
  return answer(response);
}

export function getJson(path) {
  return send(path, { headers: { Accept: 'application/json' } });
}

export function postJson(path, body) {
  return send(path, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'Inkan-Client': CLIENT },
    body: JSON.stringify(body),
  });
}

export function deleteJson(path) {
  return send(path, {
    method: 'DELETE',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'Inkan-Client': CLIENT },
    body: '{}',
  });
}

/** The answer of a page without (or with an ended) session. */
export function isLoggedOut(error) {
  return error instanceof ApiError && error.status === 401;
}

/** "/v1/cards/{id}/..." with every id percent-encoded as one path segment. */
export function cardPath(cardId, ...rest) {
  return ['/v1/cards', encodeURIComponent(cardId), ...rest.map((part) => encodeURIComponent(part))].join('/');
}
