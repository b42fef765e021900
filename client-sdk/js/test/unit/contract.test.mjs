// The SDK's types come from openapi.yaml: the YAML reader reads it right, the
// generator misses nothing, and the compiled declarations carry every schema.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { generate, parseYaml } from '../../scripts/generate-types.mjs';
import { requireOrSkip } from '../require.mjs';

const OPENAPI = new URL('../../../../openapi.yaml', import.meta.url);
const DECLARATIONS = new URL('../../dist/generated/openapi.d.ts', import.meta.url);

describe('YAML reader (the maintained `yaml` package)', () => {
  it('reads what a hand-written subset misread: keep chomping, flow mappings in flow sequences', () => {
    const text = [
      'a: |+',
      '  kept',
      '',
      'b: [a: 1, { k: v }]',
      'c: >-',
      '  folded',
      '  text',
      'd: "two # not a comment"   # a comment',
      "e: 'it''s'",
      'f: yes',
      '"200": ok',
    ].join('\n');
    assert.deepEqual(parseYaml(text), {
      a: 'kept\n\n',
      b: [{ a: 1 }, { k: 'v' }],
      c: 'folded text',
      d: 'two # not a comment',
      e: "it's",
      f: 'yes',
      200: 'ok',
    });
  });

  it('refuses a repeated key and broken syntax instead of reading them some way', () => {
    for (const text of ['a: 1\na: 2', 'a:\n\tb: 1', 'a: b: c', 'a: [1, 2']) {
      assert.throws(() => parseYaml(text), undefined, JSON.stringify(text));
    }
  });

  it('reads openapi.yaml exactly as PyYAML does (where PyYAML is installed)', (t) => {
    const python = spawnSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding="utf-8"))))', OPENAPI.pathname], { encoding: 'utf8' });
    if (!requireOrSkip(t, python.status === 0, 'python3 with PyYAML (Debian python3-yaml) not available')) return;
    // PyYAML reads YAML 1.1; openapi.yaml uses nothing where 1.1 and 1.2 differ.
    assert.deepEqual(parseYaml(readFileSync(OPENAPI, 'utf8')), JSON.parse(python.stdout));
  });
});

describe('types generated from openapi.yaml', () => {
  const api = parseYaml(readFileSync(OPENAPI, 'utf8'));
  const declarations = readFileSync(DECLARATIONS, 'utf8');

  /** The body of `export interface NAME ... { ... }` at the top level of the declarations. */
  function interfaceBody(name) {
    const start = declarations.search(new RegExp(`export interface ${name}\\b[^{]*\\{`));
    if (start < 0) return null;
    let depth = 0;
    for (let i = declarations.indexOf('{', start); i < declarations.length; i++) {
      if (declarations[i] === '{') depth++;
      else if (declarations[i] === '}' && --depth === 0) return declarations.slice(start, i + 1);
    }
    return null;
  }

  function ownProperties(schema) {
    const props = { ...(schema.properties ?? {}) };
    const required = new Set(schema.required ?? []);
    for (const part of schema.allOf ?? []) {
      if (!part.$ref) {
        Object.assign(props, part.properties ?? {});
        for (const r of part.required ?? []) required.add(r);
      }
    }
    return { props, required };
  }

  it('every schema of components.schemas is declared, with every property and its optionality', () => {
    for (const [name, schema] of Object.entries(api.components.schemas)) {
      assert.match(declarations, new RegExp(`export (interface|type|declare const) ${name}\\b`), name);
      const { props, required } = ownProperties(schema);
      if (!Object.keys(props).length) continue;
      const body = interfaceBody(name);
      assert.ok(body, `${name} is not an interface`);
      // Top-level members of the interface: two-space indented lines.
      const members = [...body.matchAll(/^    ("[^"]+"|[A-Za-z_$][\w$]*)(\??):/gm)].map((m) => [m[1].replace(/"/g, ''), m[2] === '?']);
      assert.deepEqual(new Set(members.map(([n]) => n)), new Set(Object.keys(props)), `${name}: properties differ from openapi.yaml`);
      for (const [member, optional] of members) {
        assert.equal(optional, !required.has(member), `${name}.${member}: optionality differs from openapi.yaml`);
      }
    }
  });

  it('enums become unions of exactly their values (ProblemCode included)', () => {
    const codes = api.components.schemas.ProblemCode.enum;
    const line = declarations.split('\n').find((l) => l.startsWith('export type ProblemCode ='));
    const declared = [...line.matchAll(/"([A-Z_0-9]+)"/g)].map((m) => m[1]);
    assert.deepEqual(declared, codes);
  });

  it('every operation of the contract is listed with its method and path', () => {
    const generated = readFileSync(new URL('../../dist/generated/openapi.js', import.meta.url), 'utf8');
    for (const [path, item] of Object.entries(api.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!operation?.operationId || method === 'options') continue;
        assert.ok(generated.includes(`${operation.operationId}: { method: "${method.toUpperCase()}", path: ${JSON.stringify(path)}`), `${method} ${path}`);
      }
    }
  });

  it('every event payload schema (Event*) has its event types in events()', () => {
    const events = readFileSync(new URL('../../dist/events.d.ts', import.meta.url), 'utf8');
    for (const name of Object.keys(api.components.schemas).filter((n) => /^Event[A-Z]/.test(n))) {
      assert.match(events, new RegExp(`: ${name};`), `${name} is not mapped to an event type`);
    }
  });

  it('a property an allOf part defines again overrides the base (Omit), so the interface stays valid', () => {
    const doc = `openapi: 3.1.0
info: { title: t, version: "1" }
paths: {}
components:
  schemas:
    Base: { type: object, properties: { a: { type: string }, b: { type: object } } }
    Detail:
      allOf:
        - $ref: "#/components/schemas/Base"
        - type: object
          properties:
            b: { type: [object, "null"] }
            c: { type: integer }
`;
    assert.match(generate(doc), /export interface Detail extends Omit<Base, "b"> \{/);
  });

  it('the generator refuses schema keywords it cannot translate', () => {
    const doc = (schema) => `openapi: 3.1.0\ninfo: { title: t, version: "1" }\npaths: {}\ncomponents:\n  schemas:\n    X: ${schema}\n`;
    assert.doesNotThrow(() => generate(doc('{ type: object, properties: { a: { type: string } } }')));
    assert.throws(() => generate(doc('{ type: object, patternProperties: { a: { type: string } } }')), /patternProperties/);
    assert.throws(() => generate(doc('{ $ref: "#/components/schemas/Missing" }')), /unknown schema/);
    assert.throws(() => generate(doc('{ type: object, required: [b], properties: { a: { type: string } } }')), /required property 'b'/);
  });

  it('the build output is the generator\'s output for the current openapi.yaml', () => {
    const source = readFileSync(new URL('../../src/generated/openapi.ts', import.meta.url), 'utf8');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(source, generate(readFileSync(OPENAPI, 'utf8'), pkg.version), 'dist is stale: run make build');
  });
});
