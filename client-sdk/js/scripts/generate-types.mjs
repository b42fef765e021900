#!/usr/bin/env node
// Generates src/generated/openapi.ts from the repository's openapi.yaml, so the
// SDK's wire types are the contract's and cannot drift from it:
//   - every schema of components.schemas as an interface or type alias;
//   - for every operation with an operationId, its JSON request body, query
//     parameters and success response (inline schemas get a name of their own);
//   - the problem codes and the API version as constants.
//
// Usage: node generate-types.mjs <openapi.yaml> <out.ts>
// Any schema construct it cannot translate faithfully stops the build.

import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYamlDocument } from 'yaml';

const SCHEMA_REF = '#/components/schemas/';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Keywords that only document or validate values; they do not change the TypeScript type. */
const ANNOTATIONS = new Set([
  'description', 'title', 'examples', 'example', 'format', 'pattern', 'minimum', 'maximum',
  'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems',
  'uniqueItems', 'contentEncoding', 'contentMediaType', 'default', 'deprecated', 'readOnly',
  'writeOnly', 'multipleOf', 'externalDocs', '$comment',
]);
const STRUCTURAL = new Set(['type', 'properties', 'required', 'items', 'enum', 'const', '$ref', 'allOf', 'oneOf', 'anyOf', 'additionalProperties', 'nullable', 'discriminator']);

class GenerationError extends Error {}

function fail(where, message) {
  throw new GenerationError(`${where}: ${message}`);
}

function pascal(name) {
  return name.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_, __, c) => c.toUpperCase());
}

function propertyKey(name) {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

/** A JSDoc block from a schema's description and examples, indented by `pad`. */
function doc(schema, pad) {
  const lines = [];
  if (schema && typeof schema.description === 'string') lines.push(...schema.description.trimEnd().split('\n'));
  if (schema && schema.contentEncoding === 'base64') lines.push('Base64 (RFC 4648 §4, standard alphabet, padded).');
  if (schema && Array.isArray(schema.examples) && schema.examples.length) {
    lines.push(`@example ${schema.examples.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (schema && schema.deprecated === true) lines.push('@deprecated');
  if (!lines.length) return '';
  const body = lines.map((l) => `${pad} *${l ? ' ' + l.replace(/\*\//g, '*\\/') : ''}`).join('\n');
  return `${pad}/**\n${body}\n${pad} */\n`;
}

class Generator {
  constructor(api) {
    this.api = api;
    this.schemas = api?.components?.schemas ?? {};
    this.out = [];
    this.names = new Set(Object.keys(this.schemas));
  }

  refName(ref, where) {
    if (typeof ref !== 'string' || !ref.startsWith(SCHEMA_REF)) fail(where, `unsupported $ref '${ref}'`);
    const name = ref.slice(SCHEMA_REF.length);
    if (!Object.hasOwn(this.schemas, name)) fail(where, `$ref to unknown schema '${name}'`);
    return name;
  }

  /** Resolves `$ref` chains of components (parameters, responses, requestBodies, pathItems). */
  component(value, where) {
    let current = value;
    for (let hops = 0; current && typeof current.$ref === 'string'; hops++) {
      if (hops > 8) fail(where, 'too many $ref hops');
      const m = /^#\/components\/([A-Za-z]+)\/(.+)$/.exec(current.$ref);
      if (!m) fail(where, `unsupported $ref '${current.$ref}'`);
      const target = this.api.components?.[m[1]]?.[m[2]];
      if (!target) fail(where, `dangling $ref '${current.$ref}'`);
      const { $ref, ...siblings } = current;
      current = { ...target, ...siblings };
    }
    return current;
  }

  checkKeywords(schema, where) {
    for (const key of Object.keys(schema)) {
      if (!ANNOTATIONS.has(key) && !STRUCTURAL.has(key)) fail(where, `unsupported schema keyword '${key}'`);
    }
  }

  /** The TypeScript type of `schema`; `pad` is the indentation of nested object literals. */
  type(schema, where, pad = '') {
    if (schema === true || schema === undefined) return 'unknown';
    if (schema === false) return 'never';
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) fail(where, 'schema is not an object');
    this.checkKeywords(schema, where);
    if (schema.$ref) {
      const others = Object.keys(schema).filter((k) => k !== '$ref' && !ANNOTATIONS.has(k));
      if (others.length) fail(where, `$ref with sibling keywords ${others.join(', ')}`);
      return this.refName(schema.$ref, where);
    }
    if (Object.hasOwn(schema, 'const')) return JSON.stringify(schema.const);
    if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
    if (schema.allOf) return this.parts(schema.allOf, ' & ', where, pad, schema);
    if (schema.oneOf) return this.parts(schema.oneOf, ' | ', where, pad, schema);
    if (schema.anyOf) return this.parts(schema.anyOf, ' | ', where, pad, schema);
    const types = schema.type === undefined ? (schema.properties ? ['object'] : []) : [].concat(schema.type);
    if (!types.length) return 'unknown';
    let union = types.map((t) => this.single(t, schema, where, pad));
    if (schema.nullable === true) union.push('null');
    union = [...new Set(union)];
    return union.length > 1 ? union.map((t) => (t.includes('\n') ? t : t)).join(' | ') : union[0];
  }

  parts(list, separator, where, pad, parent) {
    if (!Array.isArray(list) || !list.length) fail(where, 'empty allOf/oneOf/anyOf');
    const own = { ...parent };
    delete own.allOf; delete own.oneOf; delete own.anyOf;
    for (const k of Object.keys(own)) if (ANNOTATIONS.has(k)) delete own[k];
    const members = list.map((s, i) => this.type(s, `${where}[${i}]`, pad));
    if (Object.keys(own).length) members.push(this.type(own, where, pad));
    return members.map((m) => (m.includes(' | ') && separator === ' & ' ? `(${m})` : m)).join(separator);
  }

  single(typeName, schema, where, pad) {
    switch (typeName) {
      case 'string': return 'string';
      case 'integer':
      case 'number': return 'number';
      case 'boolean': return 'boolean';
      case 'null': return 'null';
      case 'array': {
        const item = this.type(schema.items, `${where}.items`, pad);
        return /^[A-Za-z0-9_]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
      }
      case 'object': return this.objectLiteral(schema, where, pad);
      default: return fail(where, `unsupported type '${typeName}'`);
    }
  }

  objectLiteral(schema, where, pad) {
    const properties = schema.properties ?? {};
    const required = new Set(schema.required ?? []);
    for (const name of required) {
      if (!Object.hasOwn(properties, name) && !schema.allOf) fail(where, `required property '${name}' is not defined`);
    }
    const inner = pad + '  ';
    const lines = [];
    for (const [name, property] of Object.entries(properties)) {
      lines.push(doc(property, inner) + `${inner}${propertyKey(name)}${required.has(name) ? '' : '?'}: ${this.type(property, `${where}.${name}`, inner)};`);
    }
    const extra = schema.additionalProperties;
    if (extra !== undefined && extra !== false) {
      lines.push(`${inner}[key: string]: ${extra === true ? 'unknown' : this.type(extra, `${where}.additionalProperties`, inner)};`);
    }
    if (!lines.length) return extra === false ? 'Record<string, never>' : 'Record<string, unknown>';
    return `{\n${lines.join('\n')}\n${pad}}`;
  }

  /** Every property name a component schema defines, through allOf and $ref. */
  propertyNamesOf(name, seen = new Set()) {
    const names = new Set();
    if (seen.has(name)) return names;
    seen.add(name);
    const visit = (schema) => {
      if (!schema || typeof schema !== 'object') return;
      if (schema.$ref) {
        for (const n of this.propertyNamesOf(this.refName(schema.$ref, name), seen)) names.add(n);
        return;
      }
      for (const n of Object.keys(schema.properties ?? {})) names.add(n);
      for (const part of schema.allOf ?? []) visit(part);
    };
    visit(this.schemas[name]);
    return names;
  }

  /** `export interface` for plain objects and allOf of refs + objects; `export type` otherwise. */
  declare(name, schema, where) {
    const header = doc(schema, '');
    const isObject = schema && !schema.$ref && (schema.type === 'object' || (!schema.type && schema.properties)) &&
      !schema.oneOf && !schema.anyOf && !schema.allOf && !Object.hasOwn(schema, 'const') && !schema.enum;
    if (isObject && schema.properties) {
      this.out.push(`${header}export interface ${name} ${this.objectLiteral(schema, where, '')}\n`);
      return;
    }
    const extendable = schema && Array.isArray(schema.allOf) && !schema.type && !schema.properties &&
      schema.allOf.every((part) => part.$ref ? Object.keys(part).length === 1 :
        (part.type === 'object' || (!part.type && part.properties)) && !part.allOf && !part.oneOf && !part.anyOf && part.properties);
    if (extendable) {
      const bases = schema.allOf.filter((p) => p.$ref).map((p, i) => this.refName(p.$ref, `${where}.allOf[${i}]`));
      const merged = { type: 'object', properties: {}, required: [] };
      for (const part of schema.allOf.filter((p) => !p.$ref)) {
        this.checkKeywords(part, where);
        Object.assign(merged.properties, part.properties);
        merged.required.push(...(part.required ?? []));
      }
      // A property an inline part defines again replaces the base's (read as an override,
      // e.g. a detail view whose `registry` is richer and nullable): Omit keeps `extends` valid.
      const redefined = Object.keys(merged.properties);
      const heads = bases.map((base) => {
        const clash = redefined.filter((p) => this.propertyNamesOf(base).has(p));
        return clash.length ? `Omit<${base}, ${clash.map((p) => JSON.stringify(p)).join(' | ')}>` : base;
      });
      const ext = heads.length ? ` extends ${heads.join(', ')}` : '';
      this.out.push(`${header}export interface ${name}${ext} ${this.objectLiteral(merged, where, '')}\n`);
      return;
    }
    this.out.push(`${header}export type ${name} = ${this.type(schema, where, '')};\n`);
  }

  /** A name for an operation's inline schema, or the referenced schema's name. */
  declareOperationType(name, schema, where) {
    if (schema.$ref && Object.keys(schema).every((k) => k === '$ref' || ANNOTATIONS.has(k))) {
      const target = this.refName(schema.$ref, where);
      if (target === name) return;  // e.g. operation `sign` takes the schema SignRequest itself
      if (this.names.has(name)) fail(where, `generated name ${name} clashes with a schema`);
      this.out.push(`export type ${name} = ${target};\n`);
    } else {
      if (this.names.has(name)) fail(where, `generated name ${name} clashes with a schema`);
      this.declare(name, schema, where);
    }
    this.names.add(name);
  }

  operations() {
    const table = [];
    for (const [path, rawItem] of Object.entries(this.api.paths ?? {})) {
      const item = this.component(rawItem, `paths.${path}`);
      const shared = (item.parameters ?? []).map((p) => this.component(p, `paths.${path}.parameters`));
      for (const method of HTTP_METHODS) {
        const operation = item[method];
        if (!operation || !operation.operationId || method === 'options') continue;
        const base = pascal(operation.operationId);
        const where = `paths.${path}.${method}`;
        const entry = { operationId: operation.operationId, method: method.toUpperCase(), path };

        const body = operation.requestBody && this.component(operation.requestBody, `${where}.requestBody`);
        const bodySchema = body?.content?.['application/json']?.schema;
        if (bodySchema) {
          this.declareOperationType(`${base}Request`, bodySchema, `${where}.requestBody`);
          entry.request = `${base}Request`;
        }

        const parameters = [...shared, ...(operation.parameters ?? []).map((p) => this.component(p, `${where}.parameters`))];
        const query = parameters.filter((p) => p.in === 'query');
        if (query.length) {
          const schema = { type: 'object', properties: {}, required: [] };
          for (const p of query) {
            schema.properties[p.name] = { ...(p.schema ?? {}), ...(p.description ? { description: p.description } : {}) };
            if (p.required) schema.required.push(p.name);
          }
          this.declareOperationType(`${base}Query`, schema, `${where}.parameters`);
          entry.query = `${base}Query`;
        }

        const success = Object.entries(operation.responses ?? {}).find(([status]) => /^2\d\d$/.test(status));
        if (success) {
          const response = this.component(success[1], `${where}.responses.${success[0]}`);
          const content = response.content ?? {};
          const json = content['application/json']?.schema;
          if (json) {
            this.declareOperationType(`${base}Response`, json, `${where}.responses.${success[0]}`);
            entry.response = `${base}Response`;
          }
          entry.successStatus = Number(success[0]);
          entry.mediaTypes = Object.keys(content);
        }
        table.push(entry);
      }
    }
    return table;
  }

  run(sdkVersion) {
    const banner = [
      '// Generated from openapi.yaml by client-sdk/js/scripts/generate-types.mjs. Do not edit:',
      '// change openapi.yaml and rebuild (`make build`, or `npm run build` in client-sdk/js).',
      '/* eslint-disable */',
      '',
      `/** The version of the inkand API (openapi.yaml info.version) these types describe. */`,
      `export const API_VERSION = ${JSON.stringify(String(this.api.info?.version ?? ''))};`,
      `/** The version of this package. */`,
      `export const SDK_VERSION = ${JSON.stringify(sdkVersion)};`,
      '',
    ];
    this.out.push(banner.join('\n'));
    for (const [name, schema] of Object.entries(this.schemas)) this.declare(name, schema, `components.schemas.${name}`);
    const codes = this.schemas.ProblemCode?.enum;
    if (Array.isArray(codes)) {
      this.out.push(`/** Every ProblemCode of the contract, for run-time checks. */\nexport const PROBLEM_CODES: readonly ProblemCode[] = ${JSON.stringify(codes)};\n`);
    }
    const table = this.operations();
    this.out.push('/** Every operation of the contract: method, path and the names of its generated types. */');
    this.out.push('export const OPERATIONS = {');
    for (const op of table) {
      this.out.push(`  ${propertyKey(op.operationId)}: { method: ${JSON.stringify(op.method)}, path: ${JSON.stringify(op.path)}, successStatus: ${op.successStatus ?? 'undefined'}, mediaTypes: ${JSON.stringify(op.mediaTypes ?? [])} },`);
    }
    this.out.push('} as const;\n');
    return this.out.join('\n');
  }
}

/**
 * openapi.yaml as data, read by the maintained `yaml` package (YAML 1.2): any
 * syntax error or repeated key stops the build instead of being read some way.
 */
export function parseYaml(text) {
  return parseYamlDocument(text, { version: '1.2', strict: true, uniqueKeys: true, prettyErrors: true });
}

export function generate(openapiText, sdkVersion = '0.0.0') {
  const api = parseYaml(openapiText);
  if (!api || typeof api !== 'object' || !String(api.openapi ?? '').startsWith('3.')) {
    throw new GenerationError('not an OpenAPI 3 document');
  }
  return new Generator(api).run(sdkVersion);
}

function main() {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: generate-types.mjs <openapi.yaml> <out.ts>');
    process.exit(2);
  }
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  let text;
  try {
    text = generate(readFileSync(input, 'utf8'), pkg.version);
  } catch (e) {
    console.error(`generate-types: ${e.message}`);
    process.exit(1);
  }
  mkdirSync(dirname(output), { recursive: true });
  // Rewrite only on change, so tsc and ninja see an unchanged file as up to date.
  let previous = null;
  try { previous = readFileSync(output, 'utf8'); } catch { /* first build */ }
  if (previous !== text) {
    const staging = `${output}.${process.pid}.tmp`;
    writeFileSync(staging, text);
    renameSync(staging, output);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
