import * as assert from 'node:assert/strict';
import type { StorageCase } from '../case.ts';

/** The capabilities a backend declares match the methods it has. */
export const capabilities: StorageCase = {
  id: 'capabilities',
  name: 'declares its capabilities, and has the methods they promise',
  async run({ backend }) {
    assert.equal(typeof backend.capabilities, 'object', 'capabilities must be an object');
    assert.equal(typeof backend.capabilities.presign, 'boolean', 'capabilities.presign must be a boolean');
    for (const method of ['put', 'get', 'stat', 'delete'] as const) assert.equal(typeof backend[method], 'function', `${method} must be a method`);
    if (backend.capabilities.presign) assert.equal(typeof backend.presign, 'function', 'capabilities.presign is true, so presign must be a method');
  },
};
