/**
 * The export formatter: CSV as RFC 4180 (checked by parsing it back), CSV injection neutralised,
 * text neutralised, JSON Lines that parse back to the rows, and the bounds on rows, bytes and
 * cells with `omitted` and where the next part starts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatRows, type ExportRow } from '../../src/output/export-rows.js';

const COLUMNS = ['at', 'topic', 'value', 'payload'];

/** RFC 4180 parser for the tests: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  assert.equal(field + record.join(''), '', 'the text ends with a complete record');
  return records;
}

const big = { maxRows: 10_000, maxBytes: 1 << 20 };

describe('formatRows: CSV', () => {
  it('writes a header and one record per row, quoting what needs quotes', () => {
    const rows: ExportRow[] = [
      { at: '2026-11-02T14:00:00.000Z', topic: 'plant/a', value: 21.5, payload: '{"t":21.5,"u":"C"}' },
      {
        at: '2026-11-02T14:00:01.000Z',
        topic: 'plant/b',
        value: null,
        payload: 'line one\nline two, "quoted"',
      },
      { at: '2026-11-02T14:00:02.000Z', topic: 'plant/c', value: -3.5, payload: ' padded ' },
    ];
    const out = formatRows(rows, { format: 'csv', columns: COLUMNS, ...big });
    assert.equal(out.mimeType, 'text/csv');
    assert.equal(out.rows, 3);
    assert.equal(out.omitted, 0);
    assert.equal(out.nextIndex, undefined);
    assert.equal(out.bytes, Buffer.byteLength(out.text));
    assert.deepEqual(parseCsv(out.text), [
      COLUMNS,
      ['2026-11-02T14:00:00.000Z', 'plant/a', '21.5', '{"t":21.5,"u":"C"}'],
      ['2026-11-02T14:00:01.000Z', 'plant/b', '', 'line one\nline two, "quoted"'],
      ['2026-11-02T14:00:02.000Z', 'plant/c', '-3.5', ' padded '],
    ]);
  });

  it('neutralises CSV injection: formula-like text gets an apostrophe and quotes', () => {
    const hostile = [
      '=1+1',
      '+SUM(A1:A9)',
      "-2+3+cmd|' /C calc'!A0",
      '@SUM(1,2)',
      '\t=tab',
      '\uff1dHYPERLINK("http://example.invalid")',
      '=HYPERLINK("http://example.invalid","click")',
    ];
    const rows = hostile.map((payload, i) => ({ at: String(i), topic: payload, value: i, payload }));
    const out = formatRows(rows, { format: 'csv', columns: COLUMNS, ...big });
    const records = parseCsv(out.text).slice(1);
    records.forEach((r, i) => {
      for (const cell of [r[1]!, r[3]!]) {
        assert.ok(cell.startsWith("'"), `${JSON.stringify(cell)} starts with an apostrophe`);
        assert.equal(cell.slice(1), hostile[i], 'the text after the apostrophe is unchanged');
      }
    });
    // Every formula cell is quoted in the raw text.
    for (const line of out.text.split('\r\n').slice(1, -1)) assert.match(line, /^[^,]*,"'/);
  });

  it('leaves numbers and plain-number text alone', () => {
    const out = formatRows([{ at: '-1', topic: '+5', value: -7, payload: '-2.5e3' }], {
      format: 'csv',
      columns: COLUMNS,
      ...big,
    });
    assert.deepEqual(parseCsv(out.text)[1], ['-1', '+5', '-7', '-2.5e3']);
    const odd = formatRows([{ at: 'x', topic: 't', value: Number.NaN, payload: true }], {
      format: 'csv',
      columns: COLUMNS,
      ...big,
    });
    assert.deepEqual(parseCsv(odd.text)[1], ['x', 't', '', 'true']);
  });

  it('neutralises control, bidi and tag characters in text cells', () => {
    const payload = '\u001b[31mred\u001b[0m \u202eevil\u202c \u200bzero \udb40\udc41tag \u0000nul';
    const out = formatRows([{ at: 'a', topic: 't\u202e', value: 1, payload }], {
      format: 'csv',
      columns: COLUMNS,
      ...big,
    });
    for (const bad of ['\u001b', '\u202e', '\u202c', '\u200b', '\udb40', '\u0000'])
      assert.ok(!out.text.includes(bad), `no ${JSON.stringify(bad)}`);
    assert.ok(out.text.includes('red'));
  });

  it('any text round-trips through the CSV (apart from the apostrophe of a formula)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme-ascii', maxLength: 30 }), { maxLength: 10 }),
        (cells) => {
          const rows = cells.map((payload) => ({ at: 'a', topic: 't', value: 1, payload }));
          const records = parseCsv(formatRows(rows, { format: 'csv', columns: COLUMNS, ...big }).text).slice(
            1,
          );
          assert.equal(records.length, cells.length);
          records.forEach((r, i) => {
            // eslint-disable-next-line no-control-regex
            const want = cells[i]!.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd');
            const got = r[3]!;
            assert.equal(
              /^[=+\-@\t\r]/.test(want) && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(want)
                ? got.slice(1)
                : got,
              want,
            );
          });
        },
      ),
    );
  });
});

describe('formatRows: JSON Lines', () => {
  it('one JSON object per line, keys in column order, absent cells left out', () => {
    const rows: ExportRow[] = [
      { at: 'a', topic: 'plant/a', value: 1.5, payload: '=1+1' },
      { at: 'b', topic: 'plant/\u202eb', payload: 'x' },
      { at: 'c', topic: 'plant/c', value: Number.POSITIVE_INFINITY },
    ];
    const out = formatRows(rows, { format: 'jsonl', columns: COLUMNS, ...big });
    assert.equal(out.mimeType, 'application/jsonl');
    assert.ok(out.text.endsWith('\n'));
    const lines = out.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { at: 'a', topic: 'plant/a', value: 1.5, payload: '=1+1' },
      { at: 'b', topic: 'plant/\ufffdb', payload: 'x' },
      { at: 'c', topic: 'plant/c', value: null },
    ]);
    assert.deepEqual(Object.keys(lines[0]!), COLUMNS);
  });
});

describe('formatRows: bounds', () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({
    at: `t${i}`,
    topic: 'plant/a',
    value: i,
    payload: 'x'.repeat(50),
  }));

  it('stops at maxRows and says how many were left out and where the next part starts', () => {
    for (const format of ['csv', 'jsonl'] as const) {
      const out = formatRows(rows, { format, columns: COLUMNS, maxRows: 30, maxBytes: 1 << 20 });
      assert.equal(out.rows, 30);
      assert.equal(out.omitted, 70);
      assert.equal(out.nextIndex, 30);
    }
  });

  it('stops before maxBytes, never cutting a row', () => {
    for (const format of ['csv', 'jsonl'] as const) {
      for (const maxBytes of [100, 1000, 2500]) {
        const out = formatRows(rows, { format, columns: COLUMNS, maxRows: 1000, maxBytes });
        assert.ok(out.bytes <= maxBytes, `${format}: ${out.bytes} <= ${maxBytes}`);
        assert.equal(out.bytes, Buffer.byteLength(out.text));
        assert.equal(out.rows + out.omitted, rows.length);
        const next = formatRows(rows.slice(out.nextIndex), {
          format,
          columns: COLUMNS,
          maxRows: 1,
          maxBytes: 1 << 20,
        });
        const oneMore =
          out.bytes + next.bytes - (format === 'csv' ? Buffer.byteLength(`${COLUMNS.join(',')}\r\n`) : 0);
        assert.ok(oneMore > maxBytes, 'the next row would not have fitted');
      }
    }
  });

  it('cuts a text cell at maxCellChars and counts it', () => {
    const out = formatRows([{ at: 'a', topic: 't', value: 1, payload: 'y'.repeat(10_000) }], {
      format: 'jsonl',
      columns: COLUMNS,
      maxRows: 10,
      maxBytes: 1 << 20,
      maxCellChars: 100,
    });
    const line = JSON.parse(out.text);
    assert.equal(Array.from(line.payload as string).length, 100);
    assert.ok((line.payload as string).endsWith('\u2026'));
    assert.equal(out.cutCells, 1);
  });
});
