#!/usr/bin/env node
// A static file server for trying the examples: serves client-sdk/ (the
// examples and the built SDK in js/dist/) on 127.0.0.1. No dependencies.
//
//   node client-sdk/examples/serve.mjs --port 8080
//       http://localhost:8080/examples/portal/  (allow it with
//       inkand --allow-insecure-localhost-origins --allow-origin http://localhost:8080)
//   node client-sdk/examples/serve.mjs --port 8443 --cert portal.pem --key portal.key
//       https:// with your certificate (e.g. https://portal.test:8443 in the browser tests)

import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

const DEFAULT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * Starts serving `root` on 127.0.0.1:`port`; HTTPS when `cert` and `key` (PEM file paths)
 * are given. Resolves with the node server.
 */
export function startServer({ port, root = DEFAULT_ROOT, cert, key, host = '127.0.0.1' }) {
  const base = resolve(root);
  const handler = (req, res) => {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad request');
      return;
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const path = normalize(join(base, pathname));
    let isFile = false;
    try { isFile = path.startsWith(base + sep) && statSync(path).isFile(); } catch { /* missing */ }
    const type = CONTENT_TYPES[extname(path)];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed');
      return;
    }
    if (!isFile || !type) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(path).pipe(res);
  };
  const server = cert && key
    ? createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, handler)
    : createHttpServer(handler);
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done(server));
  });
}

function main() {
  const args = process.argv.slice(2);
  const option = (name) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (args.includes('--help')) {
    console.log('usage: serve.mjs [--port N] [--cert cert.pem --key key.pem] [--root DIR]');
    return;
  }
  const port = Number(option('port') ?? 8080);
  const cert = option('cert');
  const key = option('key');
  startServer({ port, cert, key, root: option('root') ?? DEFAULT_ROOT }).then(() => {
    const scheme = cert ? 'https' : 'http';
    console.log(`serving ${option('root') ?? DEFAULT_ROOT} at ${scheme}://localhost:${port}/examples/portal/`);
  }, (error) => {
    console.error(`serve.mjs: ${error.message}`);
    process.exit(1);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) main();
