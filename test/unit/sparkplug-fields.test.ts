/**
 * SparkplugFields' lookup of BIRTHs it has not seen (for a writer whose store answers
 * asynchronously, PostgreSQL): which BIRTH topics a batch needs, a miss asked again only after
 * 10 s, a BIRTH found or seen never asked for again, and DATA named by what was seeded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SparkplugFields } from '../../src/history/sparkplug-fields.js';
import { SPARKPLUG_BIRTH, sparkplugData } from '../history/contract.js';

const DDATA = 'spBv1.0/g/DDATA/e/d';
const DBIRTH = 'spBv1.0/g/DBIRTH/e/d';

describe('SparkplugFields: BIRTHs looked up', () => {
  it('asks for the BIRTH of each node and device of the DATA, once per batch, and nothing for other topics', () => {
    const f = new SparkplugFields();
    const batch = [DDATA, DDATA, 'spBv1.0/g/NDATA/e', 'plant/a', 'spBv1.0/g/DBIRTH/e/x'].map((topic) => ({
      topic,
    }));
    assert.deepEqual(f.needed(batch), [DBIRTH, 'spBv1.0/g/NBIRTH/e']);
  });

  it('a miss is asked again only after 10 s; a BIRTH found is never asked again and names the DATA', () => {
    let now = 1_000_000;
    const f = new SparkplugFields(undefined, () => now);
    const batch = [{ topic: DDATA }];
    f.seed(f.needed(batch), new Map());
    assert.deepEqual(f.needed(batch), [], 'within 10 s of a miss');
    assert.deepEqual(f.fields(DDATA, sparkplugData(3), 10), [], 'unnamed: the alias alone is no field');
    now += 10_001;
    const asked = f.needed(batch);
    assert.deepEqual(asked, [DBIRTH]);
    f.seed(asked, new Map([[DBIRTH, SPARKPLUG_BIRTH]]));
    assert.deepEqual(f.needed(batch), []);
    now += 60_000;
    assert.deepEqual(f.needed(batch), [], 'known now');
    assert.deepEqual(f.fields(DDATA, sparkplugData(21.5), 10), [{ field: 'boiler/temp', value: 21.5 }]);
  });

  it('a BIRTH seen in the stream ends a pending miss, and a seeded older BIRTH does not replace it', () => {
    const f = new SparkplugFields();
    f.seed(f.needed([{ topic: DDATA }]), new Map());
    f.fields(DBIRTH, SPARKPLUG_BIRTH, 10);
    assert.deepEqual(f.needed([{ topic: DDATA }]), []);
    const older = Buffer.from(SPARKPLUG_BIRTH, 'latin1')
      .toString('latin1')
      .replace('boiler/temp', 'boiler/tmpx');
    f.seed([DBIRTH], new Map([[DBIRTH, older]]));
    assert.deepEqual(f.fields(DDATA, sparkplugData(1), 10), [{ field: 'boiler/temp', value: 1 }]);
  });
});
