// A reader for the subset of YAML 1.2 that openapi.yaml is written in, so the
// type generator needs no dependency: block mappings and sequences, flow
// mappings and sequences, plain / single-quoted / double-quoted scalars
// (also spanning lines), literal and folded block scalars, comments.
//
// Anything outside that subset (anchors, aliases, tags, complex keys,
// directives, multiple documents) is refused with a line number rather than
// read differently from a real YAML parser: a silently wrong reading would
// generate wrong types.

export class YamlSubsetError extends Error {
  constructor(message, line) {
    super(line ? `openapi YAML line ${line}: ${message}` : message);
    this.name = 'YamlSubsetError';
    this.line = line;
  }
}

/** Parses `text` (one YAML document) into plain JSON values. */
export function parseYaml(text) {
  const reader = new BlockReader(text);
  const value = reader.document();
  return value;
}

/** A quote only opens a quoted scalar at the start of a token ("the card's PIN" is plain text). */
function opensQuote(text, i) {
  const prev = text[i - 1];
  return i === 0 || prev === ' ' || prev === '[' || prev === '{' || prev === ',' || prev === ':';
}

/** Strips a comment: '#' at the start or after whitespace, outside quotes. */
function stripComment(content) {
  let quote = null;
  for (let i = 0; i < content.length; i++) {
    const c = content[i];
    if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) {
        // '' inside a single-quoted scalar is an escaped quote.
        if (quote === "'" && content[i + 1] === "'") i++;
        else quote = null;
      }
    } else if ((c === '"' || c === "'") && opensQuote(content, i)) {
      quote = c;
    } else if (c === '#' && (i === 0 || content[i - 1] === ' ' || content[i - 1] === '\t')) {
      return content.slice(0, i).trimEnd();
    }
  }
  return content.trimEnd();
}

const UNSUPPORTED_START = /^[&*!%@`|>?]/;

/** Resolves a plain scalar with the YAML 1.2 core schema. */
function plainScalar(text, line) {
  if (text === '' || text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?[0-9]+$/.test(text)) return Number.parseInt(text, 10);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(text)) return Number.parseFloat(text);
  if (/^0x[0-9a-fA-F]+$/.test(text) || /^0o[0-7]+$/.test(text) || /^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/.test(text)) {
    throw new YamlSubsetError(`unsupported numeric form '${text}'`, line);
  }
  if (UNSUPPORTED_START.test(text)) throw new YamlSubsetError(`unsupported YAML construct '${text}'`, line);
  return text;
}

const ESCAPES = { '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029' };

/** Reads a quoted scalar starting at text[start]; returns [value, indexAfter]. */
function quotedScalar(text, start, line) {
  const quote = text[start];
  let out = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (quote === "'" && c === "'") {
      if (text[i + 1] === "'") { out += "'"; i += 2; continue; }
      return [out, i + 1];
    }
    if (quote === '"' && c === '"') return [out, i + 1];
    if (quote === '"' && c === '\\') {
      const e = text[i + 1];
      if (e in ESCAPES) { out += ESCAPES[e]; i += 2; continue; }
      const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      const hex = text.slice(i + 2, i + 2 + width);
      if (!width || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) throw new YamlSubsetError(`bad escape '\\${e}'`, line);
      out += String.fromCodePoint(Number.parseInt(hex, 16));
      i += 2 + width;
      continue;
    }
    out += c;
    i++;
  }
  throw new YamlSubsetError('unterminated quoted scalar', line);
}

/** Folds the lines of a multi-line flow scalar: single breaks become spaces, blank lines newlines. */
function foldLines(parts) {
  let out = '';
  let pendingBreaks = 0;
  for (const part of parts) {
    if (part === '') { pendingBreaks++; continue; }
    if (out !== '') out += pendingBreaks ? '\n'.repeat(pendingBreaks) : ' ';
    pendingBreaks = 0;
    out += part;
  }
  return out;
}

/** Parser for flow collections and scalars within one logical (possibly joined) line. */
class FlowReader {
  constructor(text, line) {
    this.text = text;
    this.i = 0;
    this.line = line;
  }

  fail(message) { throw new YamlSubsetError(message, this.line); }

  skipSpace() { while (this.i < this.text.length && /\s/.test(this.text[this.i])) this.i++; }

  /** The whole text as one value. */
  whole() {
    this.skipSpace();
    const value = this.value(false);
    this.skipSpace();
    if (this.i !== this.text.length) this.fail(`unexpected '${this.text.slice(this.i)}'`);
    return value;
  }

  value(inFlow) {
    this.skipSpace();
    const c = this.text[this.i];
    if (c === '{') return this.mapping();
    if (c === '[') return this.sequence();
    if (c === '"' || c === "'") {
      const [value, next] = quotedScalar(this.text, this.i, this.line);
      this.i = next;
      return value;
    }
    return plainScalar(this.plain(inFlow), this.line);
  }

  /** A plain scalar: up to the end, or in flow context up to ',', ']', '}' or ': '. */
  plain(inFlow, isKey = false) {
    const start = this.i;
    while (this.i < this.text.length) {
      const c = this.text[this.i];
      if (inFlow && (c === ',' || c === ']' || c === '}')) break;
      if (isKey && c === ':' && (this.i + 1 === this.text.length || /[\s,\]}]/.test(this.text[this.i + 1]))) break;
      if (inFlow && (c === '[' || c === '{')) this.fail(`unexpected '${c}' in a plain scalar`);
      this.i++;
    }
    return this.text.slice(start, this.i).trim();
  }

  mapping() {
    const result = {};
    this.i++;  // '{'
    for (;;) {
      this.skipSpace();
      if (this.text[this.i] === '}') { this.i++; return result; }
      let key;
      const c = this.text[this.i];
      if (c === '"' || c === "'") {
        const [value, next] = quotedScalar(this.text, this.i, this.line);
        key = value;
        this.i = next;
      } else {
        key = this.plain(true, true);
        if (UNSUPPORTED_START.test(key)) this.fail(`unsupported key '${key}'`);
      }
      this.skipSpace();
      if (this.text[this.i] !== ':') this.fail(`expected ':' after key '${key}' in a flow mapping`);
      this.i++;
      if (Object.hasOwn(result, key)) this.fail(`duplicate key '${key}'`);
      result[key] = this.value(true);
      this.skipSpace();
      if (this.text[this.i] === ',') { this.i++; continue; }
      if (this.text[this.i] === '}') { this.i++; return result; }
      this.fail('expected , or } in a flow mapping');
    }
  }

  sequence() {
    const result = [];
    this.i++;  // '['
    for (;;) {
      this.skipSpace();
      if (this.text[this.i] === ']') { this.i++; return result; }
      result.push(this.value(true));
      this.skipSpace();
      if (this.text[this.i] === ',') { this.i++; continue; }
      if (this.text[this.i] === ']') { this.i++; return result; }
      this.fail('expected , or ] in a flow sequence');
    }
  }
}

/** Whether a flow text has unclosed brackets or an unclosed quote (it continues on the next lines). */
function isOpenFlow(text) {
  let depth = 0;
  let quote = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") i++;
        else quote = null;
      }
    } else if ((c === '"' || c === "'") && opensQuote(text, i)) quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
  }
  return depth > 0 || quote !== null;
}

/** Finds "key:" at the start of block content; returns {key, rest} or null. */
function splitKey(content, line) {
  let key;
  let i;
  if (content[0] === '"' || content[0] === "'") {
    [key, i] = quotedScalar(content, 0, line);
    while (content[i] === ' ') i++;
    if (content[i] !== ':') return null;
  } else {
    i = 0;
    for (;;) {
      i = content.indexOf(':', i);
      if (i < 0) return null;
      if (i + 1 === content.length || content[i + 1] === ' ') break;
      i++;
    }
    key = content.slice(0, i).trim();
    if (key.startsWith('[') || key.startsWith('{')) return null;
    if (/^[&*!?|>%@`]/.test(key)) throw new YamlSubsetError(`unsupported key '${key}'`, line);
  }
  return { key, rest: content.slice(i + 1).trim() };
}

class BlockReader {
  constructor(text) {
    if (text.includes('\t')) {
      // Tabs are legal inside scalars but not as indentation; be strict: openapi.yaml uses none.
      const line = text.slice(0, text.indexOf('\t')).split('\n').length;
      throw new YamlSubsetError('tab character (indent with spaces)', line);
    }
    this.lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((raw, index) => {
      const indent = raw.length - raw.trimStart().length;
      return { raw, no: index + 1, indent, content: stripComment(raw.slice(indent)) };
    });
    this.pos = 0;
  }

  /** Advances past blank and comment-only lines; returns the current line or null at the end. */
  peek() {
    while (this.pos < this.lines.length && this.lines[this.pos].content === '') this.pos++;
    return this.pos < this.lines.length ? this.lines[this.pos] : null;
  }

  document() {
    let first = this.peek();
    if (first && first.content.startsWith('%')) throw new YamlSubsetError('directives are not supported', first.no);
    if (first && first.content === '---') { this.pos++; first = this.peek(); }
    if (!first) return null;
    const value = this.block(first.indent);
    const rest = this.peek();
    if (rest) {
      if (rest.content === '---' || rest.content === '...') throw new YamlSubsetError('only one document is supported', rest.no);
      throw new YamlSubsetError(`unexpected indentation or content '${rest.content}'`, rest.no);
    }
    return value;
  }

  /** A block node whose lines start at column `indent`. */
  block(indent) {
    const line = this.peek();
    if (!line || line.indent < indent) return null;
    if (line.content === '-' || line.content.startsWith('- ')) return this.sequence(line.indent);
    if (splitKey(line.content, line.no)) return this.mapping(line.indent);
    // A scalar on its own line(s).
    this.pos++;
    return this.flowValue(line.content, line.indent - 1, line);
  }

  mapping(indent) {
    const result = {};
    for (;;) {
      const line = this.peek();
      if (!line || line.indent < indent) return result;
      if (line.indent > indent) throw new YamlSubsetError('unexpected indentation', line.no);
      const entry = splitKey(line.content, line.no);
      if (!entry) throw new YamlSubsetError(`expected 'key: value', got '${line.content}'`, line.no);
      if (Object.hasOwn(result, entry.key)) throw new YamlSubsetError(`duplicate key '${entry.key}'`, line.no);
      this.pos++;
      result[entry.key] = this.valueAfterIndicator(entry.rest, indent, line, true);
    }
  }

  sequence(indent) {
    const result = [];
    for (;;) {
      const line = this.peek();
      if (!line || line.indent < indent) return result;
      if (line.indent > indent) throw new YamlSubsetError('unexpected indentation', line.no);
      if (!(line.content === '-' || line.content.startsWith('- '))) {
        // A mapping key at the indent of its own sequence value ends the sequence.
        return result;
      }
      const rest = line.content.slice(1).trimStart();
      if (rest !== '' && (rest === '-' || rest.startsWith('- ') || splitKey(rest, line.no))) {
        // "- key: value" or "- - x": the item is a block node starting at this column.
        const column = line.indent + (line.content.length - rest.length);
        this.lines[this.pos] = { ...line, indent: column, content: rest };
        result.push(this.block(column));
      } else {
        this.pos++;
        result.push(this.valueAfterIndicator(rest, indent, line, false));
      }
    }
  }

  /** The value after "key:" or "-": inline text, a block scalar, or a nested block. */
  valueAfterIndicator(rest, parentIndent, line, isMappingValue) {
    if (rest === '') {
      const next = this.peek();
      if (!next) return null;
      if (next.indent > parentIndent) return this.block(next.indent);
      // YAML allows a mapping's sequence value at the mapping's own indent.
      if (isMappingValue && next.indent === parentIndent && (next.content === '-' || next.content.startsWith('- '))) {
        return this.sequence(parentIndent);
      }
      return null;
    }
    if (rest[0] === '|' || rest[0] === '>') return this.blockScalar(rest, parentIndent, line);
    return this.flowValue(rest, parentIndent, line);
  }

  /** Inline text that may continue on more-indented lines (flow collections, quoted or plain scalars). */
  flowValue(text, parentIndent, line) {
    const parts = [text];
    const startsQuoted = text[0] === '"' || text[0] === "'";
    const startsFlow = text[0] === '[' || text[0] === '{';
    if (startsFlow || startsQuoted) {
      let joined = text;
      while (isOpenFlow(joined)) {
        if (this.pos >= this.lines.length) throw new YamlSubsetError('unterminated flow value', line.no);
        const next = this.lines[this.pos++];
        // Inside quotes a comment marker is text; the raw line is used there.
        const piece = startsQuoted ? next.raw.trim() : next.content.trim();
        parts.push(piece);
        joined = startsQuoted ? foldLines(parts) : parts.join(' ');
      }
      return new FlowReader(joined, line.no).whole();
    }
    // A plain scalar continues on following lines indented deeper than its parent;
    // blank lines in between become newlines, a comment line ends it.
    let blanks = 0;
    for (let k = this.pos; k < this.lines.length; k++) {
      const next = this.lines[k];
      if (next.raw.trim() === '') { blanks++; continue; }
      if (next.content === '' || next.indent <= parentIndent) break;
      if (splitKey(next.content, next.no) || next.content.startsWith('- ')) {
        throw new YamlSubsetError('a plain scalar cannot have nested content', next.no);
      }
      for (; blanks > 0; blanks--) parts.push('');
      parts.push(next.content.trim());
      this.pos = k + 1;
    }
    const value = foldLines(parts);
    if (value.includes(': ') || value.endsWith(':')) throw new YamlSubsetError(`ambiguous plain scalar '${value}' (quote it)`, line.no);
    return new FlowReader(value, line.no).whole();
  }

  /** Literal (|) and folded (>) block scalars with the clip, strip (-) or keep (+) chomping indicator. */
  blockScalar(header, parentIndent, line) {
    const m = /^([|>])([-+]?)([1-9]?)$/.exec(header);
    if (!m) throw new YamlSubsetError(`unsupported block scalar header '${header}'`, line.no);
    const [, style, chomping, explicitIndent] = m;
    const body = [];
    let indent = explicitIndent ? parentIndent + Number(explicitIndent) : null;
    while (this.pos < this.lines.length) {
      const next = this.lines[this.pos];
      const isBlank = next.raw.trim() === '';
      if (!isBlank) {
        if (indent === null) {
          if (next.indent <= parentIndent) break;
          indent = next.indent;
        }
        if (next.indent < indent) break;
      }
      body.push(isBlank ? '' : next.raw.slice(indent));
      this.pos++;
    }
    // Trailing blank lines belong to the chomping, not the content.
    let trailing = 0;
    while (body.length && body[body.length - 1] === '') { body.pop(); trailing++; }
    let text;
    if (style === '|') {
      text = body.join('\n');
    } else {
      // Folding (YAML 1.2 §8.1.3): a single break between two normal lines becomes a space,
      // each blank line a newline; breaks around more-indented lines are kept.
      const moreIndented = (s) => s.startsWith(' ');
      text = '';
      let previous = null;
      let blanks = 0;
      for (const current of body) {
        if (current === '') { blanks++; continue; }
        if (previous === null) text += '\n'.repeat(blanks);
        else if (moreIndented(current) || moreIndented(previous)) text += '\n'.repeat(blanks + 1);
        else text += blanks ? '\n'.repeat(blanks) : ' ';
        text += current;
        previous = current;
        blanks = 0;
      }
    }
    if (body.length === 0) return chomping === '+' ? '\n'.repeat(trailing) : '';
    if (chomping === '-') return text;
    if (chomping === '+') return text + '\n'.repeat(trailing + 1);
    return text + '\n';
  }
}
