import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthcheckTarget } from '../../src/config/healthcheck-target.js';

describe('the Docker healthcheck target', () => {
  it('reads MCP_TRANSPORT and MCP_HTTP_PORT with their defaults; a port that is not one is 3000', () => {
    assert.deepEqual(healthcheckTarget({}), { transport: 'stdio', port: 3000 });
    assert.deepEqual(healthcheckTarget({ MCP_TRANSPORT: 'http', MCP_HTTP_PORT: '8080' }), {
      transport: 'http',
      port: 8080,
    });
    for (const bad of ['x', '0', '70000', '1.5'])
      assert.equal(healthcheckTarget({ MCP_HTTP_PORT: bad }).port, 3000, bad);
  });
});
