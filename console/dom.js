// Building the page without HTML strings: every text goes in through
// textContent, so nothing read from a card or a certificate can become markup
// (the page's Content-Security-Policy enforces this with Trusted Types).

/**
 * An element: h('p', { class: 'note', role: 'status' }, 'text', child, ...).
 * Properties: `class`, `text`, `on<event>` listeners, `dataset`, anything else
 * as an attribute (false/null/undefined leave it out, true sets it empty).
 */
export function h(tag, properties = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(properties)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === 'class') element.className = value;
    else if (name === 'text') element.textContent = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace what `element` holds. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** A definition list from [term, value] pairs; pairs without a value are left out. */
export function definitions(pairs, properties = {}) {
  const list = h('dl', properties);
  for (const [term, value] of pairs) {
    if (value === null || value === undefined || value === '') continue;
    list.append(h('dt', {}, term), h('dd', {}, value));
  }
  return list;
}
