import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { DEFAULT_MAX_FIELDS, extractNumeric } from '../history/numeric.js';
import { EXPORT_MIME_TYPES, formatRows, type ExportRow } from '../output/export-rows.js';
import type { StoredMessage } from '../store/types.js';
import { memorySince, readBasis } from './basis.js';
import { defineTool, withAttachments } from './define.js';
import { readRange } from './history-reads.js';
import { BasisShape, FilterInput, SourceField } from './schemas.js';
import { timeWindow, WindowShape } from './window.js';

const MESSAGE_COLUMNS = [
  'receivedAt',
  'topic',
  'qos',
  'retain',
  'sizeBytes',
  'truncated',
  'encoding',
  'payload',
];
const FIELD_COLUMNS = ['receivedAt', 'topic', 'field', 'value'];

export const exportTool = defineTool({
  name: 'mqtt_export',
  title: 'Export MQTT messages as CSV or JSON Lines',
  description:
    'The messages of a topic filter in a time window as a file (an embedded resource): CSV (default) or JSON ' +
    'Lines, oldest first, one row per message (receivedAt, topic, qos, retain, sizeBytes, truncated, encoding, ' +
    'payload), or with field one row per value of that numeric field (receivedAt, topic, field, value). Bounded in ' +
    'rows and bytes: omitted counts rows read that did not fit, next.to is where the next (older) part ends. Cells a ' +
    'spreadsheet would run as formulas are quoted as text. Example: filter "plant/line1/#", sinceSeconds 3600.',
  input: z
    .object({
      filter: FilterInput,
      ...WindowShape,
      field: z.string().max(256).optional().describe('Dot path of one numeric field: one row per value'),
      format: z.enum(['csv', 'jsonl']).default('csv').describe('csv or jsonl (JSON Lines)'),
      limit: z.number().int().min(1).max(10_000).default(1000).describe('Most rows'),
    })
    .strict(),
  output: z.object({
    filter: z.string(),
    format: z.enum(['csv', 'jsonl']),
    mimeType: z.string(),
    rows: z.number().int(),
    bytes: z.number().int(),
    omitted: z.number().int(),
    cutCells: z.number().int(),
    next: z.object({ to: z.string() }).optional().describe('Ask again with this to for the older part'),
    source: SourceField,
    coverage: BasisShape.coverage,
    connection: BasisShape.connection,
    collectingSince: BasisShape.collectingSince,
    heldSince: BasisShape.heldSince,
    olderDropped: BasisShape.olderDropped,
    more: BasisShape.more,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: true,
  moreHint: 'to get the older part, call again with to set to next.to; or narrow the filter or the window',
  handler: async ({ filter, field, format, limit, ...window }, { deps }) => {
    deps.policy.assertReadFilter(filter);
    const now = deps.now();
    const { since, until } = timeWindow(window, now, 3600);
    const read = await readRange(deps, filter, {
      since,
      until,
      limit,
      now,
      memorySince: memorySince(deps, filter, now),
    });
    // Rows newest first: what fits the bounds is the newest part of the window; it is written
    // oldest first. The cut never splits one millisecond: rows at the first left-out time are all
    // left for the next part, which is [since, next.to) with next.to just after that time.
    const newest = read.messages.flatMap((m) =>
      (field === undefined ? [messageRow(m)] : fieldRows(m, field)).map((row) => ({ at: m.receivedAt, row })),
    );
    const options = {
      format,
      columns: field === undefined ? MESSAGE_COLUMNS : FIELD_COLUMNS,
      maxRows: limit,
      maxBytes: deps.limits.resultMaxBytes,
    };
    const fits = formatRows(
      newest.map((r) => r.row),
      options,
    ).rows;
    // The first time not wholly in this part: the first row left out, or, when a limit left
    // messages unread, the oldest message read (unread ones may share its millisecond).
    const boundary =
      fits < newest.length ? newest[fits]?.at : read.more ? read.messages.at(-1)?.receivedAt : undefined;
    let keep = fits;
    if (boundary !== undefined) {
      while (keep > 0 && newest[keep - 1]?.at === boundary) keep--;
      if (keep === 0) keep = fits;
    }
    const text = formatRows(
      newest
        .slice(0, keep)
        .reverse()
        .map((r) => r.row),
      options,
    );
    const omitted = newest.length - keep;
    const next = boundary !== undefined ? { to: new Date(boundary + 1).toISOString() } : undefined;
    const structured = {
      filter,
      format,
      mimeType: text.mimeType,
      rows: text.rows,
      bytes: text.bytes,
      omitted,
      cutCells: text.cutCells,
      ...(next !== undefined ? { next } : {}),
      source: read.source,
      ...readBasis(deps, [filter], {
        since,
        limited: next !== undefined,
        now,
        ...(read.source === 'history' ? { historySince: read.historySince ?? now } : {}),
      }),
    };
    return withAttachments(structured, [
      {
        type: 'resource',
        resource: { uri: `mqtt://export/${format}`, mimeType: EXPORT_MIME_TYPES[format], text: text.text },
      },
    ]);
  },
});

function messageRow(m: StoredMessage): ExportRow {
  const bytes = m.payload;
  const text = isUtf8(bytes);
  return {
    receivedAt: new Date(m.receivedAt).toISOString(),
    topic: m.topic,
    qos: m.qos,
    retain: m.retain,
    sizeBytes: m.sizeBytes,
    truncated: m.storedBytes < m.sizeBytes,
    encoding: text ? 'utf8' : 'base64',
    payload: text ? bytes.toString('utf8') : bytes.toString('base64'),
  };
}

function fieldRows(m: StoredMessage, field: string): ExportRow[] {
  const at = new Date(m.receivedAt).toISOString();
  return extractNumeric(m.data, DEFAULT_MAX_FIELDS)
    .filter((f) => f.field === field)
    .map((f) => ({ receivedAt: at, topic: m.topic, field, value: f.value }));
}
