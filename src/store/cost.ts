/**
 * What the store's structures cost on the V8 heap, in bytes: the store counts this against its
 * byte limit (STORE_MAX_BYTES), so that no shape of topics, payloads or properties can grow memory
 * past it. The constants were measured with heap measurements after a full GC on Node 20 and 24
 * (64-bit, official builds: no pointer compression) and rounded up to the worst case seen (maps
 * with the spare capacity a shrinking map keeps): test/unit/store-memory.test.ts measures the heap
 * under every shape of topics and properties and fails when the count no longer covers it.
 *
 * A string costs a 16-byte header (part of each constant below), padding to 8 bytes (likewise)
 * and its characters: one byte each, or two when it holds a character above U+00FF.
 */

/**
 * One stored message besides its payload bytes: two slots of the message columns (nodes.ts keeps
 * at most about twice the slots in use; a slot is 37 bytes of typed arrays and three 8-byte array
 * elements, 61), the payload string's header and padding (up to 23), and a slot in the eviction
 * heap (8, with spare capacity 16): 161, rounded up (the heap and typed arrays measured per shape
 * in store-memory.test.ts stay well under it).
 */
export const MESSAGE_BYTES = 176;

/**
 * One topic besides its name's characters: the topic entry (11 fields, 112), its last receive time
 * (a heap number, 16), the name string's header and padding (up to 23).
 */
export const TOPIC_BYTES = 152;

/**
 * One trie node besides its label's characters: the node (6 fields, 72), its entry in its
 * parent's children map (24 a slot, up to four slots per entry while a shrinking map has not
 * been rebuilt: 112) and sorted key list (8), and its two label strings' headers and padding (46).
 */
export const NODE_BYTES = 248;

/** The children map (32 and a first table of 152) and sorted key list (48) of a node with children. */
export const CHILDREN_BYTES = 240;

/** One topic's entry in the index's map from topic to node (like a children map entry: 112). */
export const VALUE_BYTES = 112;

/** Message properties: their object (64); a content type string's header and padding (24). */
export const PROPERTIES_BYTES = 64;
export const CONTENT_TYPE_BYTES = 24;
/**
 * User properties: their dictionary (256); per name, its dictionary entry with spare capacity and
 * its strings' headers (96); per repeated name, its array with spare capacity (192) and per value a
 * slot and a string header (40).
 */
export const USER_PROPERTIES_BYTES = 256;
export const USER_PROPERTY_BYTES = 96;
export const REPEATED_BYTES = 192;
export const REPEATED_VALUE_BYTES = 40;

// Any character above U+00FF (the heap then keeps the string at two bytes a character).
const WIDE = /[\u0100-\uffff]/;

/** The characters' bytes of a string: one per character, two if any is above U+00FF. */
export function textBytes(text: string): number {
  return WIDE.test(text) ? 2 * text.length : text.length;
}

/**
 * A copy of a string cut from a longer one that does not keep the longer one alive (V8 makes a
 * cut of 13 characters or more a view into its source), in its narrowest representation.
 * `wide`: the source holds characters above U+00FF (a cut from it may be two-byte even when its
 * own characters are not).
 */
export function ownCopy(text: string, wide: boolean): string {
  if (wide) return Buffer.from(text, 'utf16le').toString('utf16le');
  return text.length < 13 ? text : Buffer.from(text, 'latin1').toString('latin1');
}

/** What a message's properties cost: their objects, and each name and value string. */
export function propertiesBytes(properties: {
  readonly contentType?: string;
  readonly userProperties?: Readonly<Record<string, string | readonly string[]>>;
}): number {
  let total = PROPERTIES_BYTES;
  if (properties.contentType !== undefined) total += CONTENT_TYPE_BYTES + textBytes(properties.contentType);
  const user = properties.userProperties;
  if (user === undefined) return total;
  total += USER_PROPERTIES_BYTES;
  for (const key of Object.keys(user)) {
    const value = user[key];
    total += USER_PROPERTY_BYTES + textBytes(key);
    if (typeof value === 'string') total += textBytes(value);
    else if (value !== undefined) {
      total += REPEATED_BYTES;
      for (const v of value) total += REPEATED_VALUE_BYTES + textBytes(v);
    }
  }
  return total;
}
