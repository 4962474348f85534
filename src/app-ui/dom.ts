/**
 * A chart scene as DOM nodes: each element created with createElementNS, each attribute set with
 * setAttribute, each text with textContent. Nothing is parsed as markup, so broker text in a
 * scene can only ever be text. Event-handler, style and link attributes are never set.
 */
import { px, SVG_NS, type SvgNode } from '../pictures/scene.js';

const TAGS = new Set(['svg', 'g', 'defs', 'clipPath', 'rect', 'path', 'line', 'circle', 'text']);

function allowedAttribute(name: string): boolean {
  const n = name.toLowerCase();
  return !n.startsWith('on') && n !== 'style' && !n.includes('href') && !n.includes(':');
}

export function toDom(node: SvgNode, doc: Document): SVGElement {
  if (!TAGS.has(node.tag)) throw new Error('unexpected element in a chart scene');
  const element = doc.createElementNS(SVG_NS, node.tag);
  for (const [name, value] of Object.entries(node.attrs)) {
    if (allowedAttribute(name)) element.setAttribute(name, typeof value === 'number' ? px(value) : value);
  }
  if (node.text !== undefined) element.textContent = node.text;
  for (const child of node.children ?? []) element.appendChild(toDom(child, doc));
  return element;
}

/** An SVG element for the view's own overlays (hover line, zoom selection). */
export function svgElement(
  doc: Document,
  tag: 'line' | 'rect',
  attrs: Record<string, string | number>,
): SVGElement {
  return toDom({ tag, attrs }, doc);
}
