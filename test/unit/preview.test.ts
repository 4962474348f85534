/**
 * The confirmation of a publish shows what will be sent (issue 11, finding 3): nothing cut
 * without saying so, nothing hidden by control, bidi or invisible characters, binary as hex,
 * the exact size and hash; a payload too long to show is not offered for confirmation.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { PREVIEW_CHARS, confirmationMessage, previewPayload, visible } from '../../src/output/preview.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('publish confirmation preview', () => {
  it('the padded second action of the review is in plain view', () => {
    const payload = Buffer.from(`{"action":"status"${' '.repeat(190)},"action":"unlock"}`);
    const preview = previewPayload(payload);
    assert.ok(preview !== undefined);
    const message = confirmationMessage('plant/door/cmd', preview, { qos: 1, retain: false });
    assert.match(message, /\{"action":"status"\[190 spaces\],"action":"unlock"\}/);
    assert.match(message, new RegExp(`${payload.byteLength} bytes, SHA-256 ${sha(payload)}`));
    assert.doesNotMatch(message, /cut after/);
  });

  it('newlines, bidi controls, zero-width and other invisible characters are escaped', () => {
    const text = 'on\nOFF\u202e\u200bx\u00ad\u2028\ufe0f\u{e0100}\u0007\ufffd';
    assert.equal(
      visible(text),
      'on\\nOFF\\u{202E}\\u{200B}x\\u{AD}\\u{2028}\\u{FE0F}\\u{E0100}\\u{7}\\u{FFFD}',
    );
    assert.equal(visible('a\\u{202E}'), 'a\\\\u{202E}', 'a literal escape cannot pass for one of ours');
  });

  it('a topic with hidden characters is shown escaped too', () => {
    const preview = previewPayload(Buffer.from('OPEN'));
    assert.ok(preview !== undefined);
    assert.match(
      confirmationMessage('plant/\u202edoor/cmd', preview, { qos: 2, retain: true }),
      /topic plant\/\\u\{202E\}door\/cmd \(QoS 2, retained\)/,
    );
  });

  it('bytes that are not UTF-8 are shown as hex; base64 text payloads arrive decoded', () => {
    const binary = Buffer.from([0xff, 0x00, 0x41]);
    const hex = previewPayload(binary);
    assert.equal(hex?.kind, 'hex');
    assert.equal(hex?.shown, 'ff0041');
    const text = previewPayload(Buffer.from('T04=', 'base64'));
    assert.equal(text?.kind, 'text');
    assert.equal(text?.shown, 'ON');
  });

  it('a long payload is cut with an explicit marker; one mostly hidden is refused', () => {
    const long = Buffer.from('x'.repeat(PREVIEW_CHARS + 500));
    const preview = previewPayload(long);
    assert.ok(preview !== undefined);
    assert.equal(preview.shownBytes, PREVIEW_CHARS);
    assert.match(
      confirmationMessage('a/b', preview, { qos: 1, retain: false }),
      new RegExp(`\\[cut after ${PREVIEW_CHARS} of ${PREVIEW_CHARS + 500} bytes: the rest is not shown\\]`),
    );
    assert.equal(previewPayload(Buffer.from('x'.repeat(PREVIEW_CHARS * 3))), undefined);
    assert.equal(previewPayload(Buffer.alloc(PREVIEW_CHARS * 2, 0xff)), undefined);
    // Escapes take room: a payload of hidden characters is refused long before its byte count says.
    assert.equal(previewPayload(Buffer.from('\u200b'.repeat(1000))), undefined);
  });
});
