/**
 * A chart as a small tree of SVG elements: the renderer builds it once, then it becomes an SVG
 * document (toSvgString, for the PNG) or DOM nodes in the MCP App (created element by element,
 * text set as text). Element and attribute names come from this module's callers only; broker
 * text (topic names, fields, units) appears only as the `text` of an element, never in an
 * attribute, and is escaped here for XML.
 */

export type SvgTag = 'svg' | 'g' | 'defs' | 'clipPath' | 'rect' | 'path' | 'line' | 'circle' | 'text';

export interface SvgNode {
  readonly tag: SvgTag;
  readonly attrs: Readonly<Record<string, string | number>>;
  readonly children?: readonly SvgNode[];
  /** Text content (for `text`). */
  readonly text?: string;
}

export const SVG_NS = 'http://www.w3.org/2000/svg';

export function el(tag: SvgTag, attrs: Record<string, string | number>, children?: SvgNode[]): SvgNode {
  return children === undefined ? { tag, attrs } : { tag, attrs, children };
}

export function textNode(attrs: Record<string, string | number>, text: string): SvgNode {
  return { tag: 'text', attrs, text };
}

/** A number as an attribute value: rounded to 0.01 px, no exponent, no `-0`. */
export function px(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

export function toSvgString(root: SvgNode): string {
  const parts: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  write(root, parts, true);
  return parts.join('');
}

function write(node: SvgNode, parts: string[], isRoot: boolean): void {
  parts.push('<', node.tag);
  if (isRoot) parts.push(` xmlns="${SVG_NS}"`);
  for (const [name, value] of Object.entries(node.attrs)) {
    parts.push(' ', name, '="', escapeXml(typeof value === 'number' ? px(value) : value), '"');
  }
  const children = node.children ?? [];
  if (children.length === 0 && node.text === undefined) {
    parts.push('/>');
    return;
  }
  parts.push('>');
  if (node.text !== undefined) parts.push(escapeXml(node.text));
  for (const child of children) write(child, parts, false);
  parts.push('</', node.tag, '>');
}

// Characters XML 1.0 does not allow (controls other than tab/newline, lone surrogates, U+FFFE/U+FFFF):
// neutralize() has already replaced most of them; this is the last line for any that remain.
const NOT_XML =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const XML_SPECIAL = /[&<>"']/g;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function escapeXml(text: string): string {
  return text.replace(NOT_XML, '\ufffd').replace(XML_SPECIAL, (c) => ENTITIES[c] ?? c);
}
