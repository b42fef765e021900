// What went wrong when fetch() gives no answer at all.
//
// A browser reports every failure of a cross-origin request the same way — a
// TypeError ("Failed to fetch") — whether nothing listens on the port, the TLS
// certificate is not trusted, the Local Network Access permission was denied,
// or inkand refused the page's origin (a refused CORS preflight). The page
// cannot read the reason, so the SDK asks the questions it can answer:
//
// 1. Node.js (and other runtimes that expose it) name the cause on the error:
//    ECONNREFUSED -> DAEMON_UNREACHABLE, a certificate verification code ->
//    CERTIFICATE_UNTRUSTED.
// 2. The Local Network Access permission ("loopback-network", older name
//    "local-network-access") is queried; "denied" -> LOCAL_NETWORK_ACCESS_DENIED.
// 3. GET /v1/access, which inkand answers with CORS for any https:// page,
//    paired or not: `standing: "unknown"` -> ORIGIN_NOT_PAIRED (the first
//    request's preflight was refused); any other standing means the first
//    failure was passing (the connection broke, inkand restarted) ->
//    DAEMON_UNREACHABLE. Without a readable answer, a `no-cors` GET to inkand's
//    https:// address: it resolves (with an opaque answer the page cannot read)
//    when a TLS connection to a trusted server succeeded, whatever CORS says ->
//    ORIGIN_NOT_PAIRED (an origin inkand will not even let ask, e.g. http://).
// 4. A `no-cors` GET to http:// on the same port: an answer means something
//    speaks plain HTTP there, i.e. a server runs but its https:// certificate
//    was refused -> CERTIFICATE_UNTRUSTED. This tells only when inkand answers
//    plain HTTP on its port; when nothing answers either way the SDK cannot
//    tell "not running" from "certificate not trusted" and says both
//    (DAEMON_UNREACHABLE, with a message naming both causes).
//
// The probes are GETs without credentials or headers of our own: inkand does
// not touch a card for them.

import { InkanError, ORIGIN_NOT_PAIRED_MESSAGE } from './errors.js';

export interface DiagnoseContext {
  fetch: typeof fetch;
  /** https://host:port (no path). */
  origin: string;
  /** The headers of a real request (for the CORS probe). */
  headers: Record<string, string>;
  /** The caller's signal: the probes stop with it. */
  signal?: AbortSignal | undefined;
}

/** How long one probe may take; loopback answers in milliseconds. */
const PROBE_TIMEOUT_MS = 3000;

// Node.js (undici) failure causes, from the error's `cause.code`.
const UNREACHABLE_CAUSES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EADDRNOTAVAIL', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);
const CERTIFICATE_CAUSES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function unreachableMessage(origin: string, orCertificate: boolean): string {
  const base = `inkand does not answer at ${origin}: it is not installed or not running (start it, e.g. \`systemctl --user start inkand\`, or check the port)`;
  return orCertificate
    ? `${base}, or this browser does not trust its certificate (run \`inkan trust install\` and restart the browser)`
    : base;
}

export function certificateMessage(origin: string): string {
  return `inkand runs at ${origin} but this browser does not trust its TLS certificate: run \`inkan trust install\` ` +
    '(it adds inkand\'s local CA to the system store, the NSS database and Firefox profiles) and restart the browser';
}

export const LOCAL_NETWORK_ACCESS_MESSAGE =
  'the browser\'s Local Network Access permission for this site is denied, so the page may not reach inkand on ' +
  '127.0.0.1: allow "Local network access" (or "Apps on this device") in the site settings, or ask the administrator ' +
  'to allow this site (Chrome policy LocalNetworkAccessAllowedForUrls, Firefox policy LocalNetworkAccess)';

/** Node-style `cause.code` of a fetch failure, if any (looks one level deeper too). */
function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNREACHABLE_CAUSES.has(code) || CERTIFICATE_CAUSES.has(code))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The state of the browser's Local Network Access permission for this page, or undefined
 * where the browser does not know the permission (older browsers, Node.js).
 */
export async function localNetworkAccessState(): Promise<PermissionState | undefined> {
  const permissions = (globalThis as { navigator?: Navigator }).navigator?.permissions;
  if (!permissions || typeof permissions.query !== 'function') return undefined;
  // "loopback-network" is the permission for 127.0.0.1/::1 in current Chrome; the
  // first versions (and Firefox) call it "local-network-access".
  for (const name of ['loopback-network', 'local-network-access']) {
    try {
      const status = await permissions.query({ name } as unknown as PermissionDescriptor);
      return status.state;
    } catch {
      // Unknown permission name in this browser: try the next one.
    }
  }
  return undefined;
}

/** Resolves true when a fetch of `url` with `init` gets any answer within the probe timeout. */
async function answers(ctx: DiagnoseContext, url: string, init: RequestInit): Promise<boolean> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
  const onAbort = () => controller.abort();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await ctx.fetch(url, { ...init, signal: controller.signal, credentials: 'omit', cache: 'no-store', redirect: 'follow' });
    // Do not keep the connection busy with a body nobody reads.
    await response.body?.cancel().catch(() => undefined);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onAbort);
  }
}

/** The `standing` of GET /v1/access, or undefined when there is no readable answer. */
async function readAccess(ctx: DiagnoseContext): Promise<string | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
  const onAbort = () => controller.abort();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await ctx.fetch(`${ctx.origin}/v1/access`, {
      method: 'GET', mode: 'cors', headers: ctx.headers, signal: controller.signal, credentials: 'omit', cache: 'no-store', redirect: 'error',
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      // ORIGIN_FORBIDDEN readable here would also mean: not allowed.
      return response.status === 403 ? 'unknown' : undefined;
    }
    const body = (await response.json()) as { standing?: unknown };
    return typeof body?.standing === 'string' ? body.standing : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onAbort);
  }
}

/** Whether this runtime applies CORS (a browser page with an origin); Node.js does not. */
function appliesCors(): boolean {
  const g = globalThis as { document?: unknown; location?: { origin?: string }; WorkerGlobalScope?: unknown };
  return (g.document !== undefined || g.WorkerGlobalScope !== undefined) && typeof g.location?.origin === 'string';
}

/** The InkanError for a fetch() that threw `error` (not an abort). */
export async function diagnoseNetworkFailure(error: unknown, ctx: DiagnoseContext): Promise<InkanError> {
  const code = causeCode(error);
  if (code && CERTIFICATE_CAUSES.has(code)) {
    return new InkanError({ code: 'CERTIFICATE_UNTRUSTED', message: certificateMessage(ctx.origin), cause: error });
  }
  if (code && UNREACHABLE_CAUSES.has(code)) {
    return new InkanError({ code: 'DAEMON_UNREACHABLE', message: unreachableMessage(ctx.origin, false), cause: error });
  }

  if ((await localNetworkAccessState()) === 'denied') {
    return new InkanError({ code: 'LOCAL_NETWORK_ACCESS_DENIED', message: LOCAL_NETWORK_ACCESS_MESSAGE, cause: error });
  }

  if (appliesCors()) {
    // inkand answers GET /v1/access (with CORS) for every https:// page, paired or not.
    const access = await readAccess(ctx);
    if (access === 'unknown') {
      return new InkanError({ code: 'ORIGIN_NOT_PAIRED', message: ORIGIN_NOT_PAIRED_MESSAGE, cause: error });
    }
    if (access !== undefined) {
      return new InkanError({
        code: 'DAEMON_UNREACHABLE',
        message: `the connection to inkand at ${ctx.origin} broke (inkand may have restarted); try again`,
        cause: error,
      });
    }
    // No readable answer even there: is a trusted TLS server on the port at all?
    if (await answers(ctx, `${ctx.origin}/v1/status`, { method: 'GET', mode: 'no-cors' })) {
      // It is, and it refuses this page CORS even for /v1/access: an origin that can
      // never be paired (e.g. plain http), or an inkand without pairing.
      return new InkanError({ code: 'ORIGIN_NOT_PAIRED', message: ORIGIN_NOT_PAIRED_MESSAGE, cause: error });
    }
    const plainOrigin = ctx.origin.replace(/^https:/, 'http:');
    if (await answers(ctx, `${plainOrigin}/`, { method: 'GET', mode: 'no-cors' })) {
      return new InkanError({ code: 'CERTIFICATE_UNTRUSTED', message: certificateMessage(ctx.origin), cause: error });
    }
    return new InkanError({ code: 'DAEMON_UNREACHABLE', message: unreachableMessage(ctx.origin, true), cause: error });
  }
  return new InkanError({ code: 'DAEMON_UNREACHABLE', message: unreachableMessage(ctx.origin, code === undefined), cause: error });
}
