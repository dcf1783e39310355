/**
 * The replay buffer on its own: counting, limits, confirmation and replay across the ring's
 * wrap-around and growth, markers, and the storage an emptied buffer gives back.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayBuffer } from '../../lib/recovery/buffer.js';

const q = (n: number): string => `"m${n}"`;
const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => q(from + i));
/** The slots the buffer holds (storage, not messages). */
const slots = (b: ReplayBuffer): number => (b as unknown as { items: string[] }).items.length;

describe('replay buffer', () => {
  test('replays exactly what is unconfirmed, oldest first, through wrap-around and growth', () => {
    const b = new ReplayBuffer(1000, 1 << 20);
    let written = 0;
    let confirmed = 0;
    // Confirmations lag the writes by a varying amount, so the ring's start moves around its
    // slots and the ring grows while wrapped.
    for (let step = 0; step < 200; step++) {
      const burst = 1 + ((step * 7) % 23);
      for (let i = 0; i < burst; i++) b.push(q(written++));
      assert.equal(b.written, written);
      assert.deepEqual(b.since(confirmed), range(confirmed, written));
      confirmed = Math.max(confirmed, written - ((step * 5) % 40));
      b.confirm(confirmed);
      assert.equal(b.first, confirmed);
      assert.equal(b.chars, range(confirmed, written).join('').length);
      assert.ok(b.holds(confirmed) && b.holds(written) && !b.holds(confirmed - 1) && !b.holds(written + 1));
      assert.deepEqual(b.since(written - 1 < confirmed ? written : written - 1), written - 1 < confirmed ? [] : [q(written - 1)]);
    }
  });

  test('drops the oldest beyond max messages or max characters, never the newest', () => {
    const b = new ReplayBuffer(5, 1000);
    for (let i = 0; i < 12; i++) b.push(q(i));
    assert.equal(b.first, 7);
    assert.deepEqual(b.since(7), range(7, 12));
    const c = new ReplayBuffer(100, 10);
    c.push('"aaaa"');
    c.push('"bbbb"');
    assert.deepEqual([c.first, c.chars], [1, 6]);
    c.push('"' + 'x'.repeat(50) + '"');
    assert.deepEqual(c.since(c.first), ['"' + 'x'.repeat(50) + '"']);
    assert.equal(c.written, 3);
  });

  test('markers go before their messages in a replay', () => {
    const b = new ReplayBuffer(1000, 1 << 20);
    b.push(q(0));
    b.withMarks();
    for (let i = 1; i < 40; i++) b.push(q(i), i % 3 === 0 ? `"p${i}"` : '');
    b.confirm(30);
    assert.deepEqual(b.since(31), [q(31), q(32), '"p33"', q(33), q(34), q(35), '"p36"', q(36), q(37), q(38), '"p39"', q(39)]);
  });

  test('an emptied buffer keeps no storage; a busy one keeps its slots', () => {
    const b = new ReplayBuffer(1000, 1 << 20);
    for (let i = 0; i < 100; i++) b.push(q(i));
    const busy = slots(b);
    assert.ok(busy >= 100);
    b.confirm(60);
    for (let i = 100; i < 140; i++) b.push(q(i));
    assert.equal(slots(b), busy, 'no new storage while the held messages fit');
    b.confirm(140);
    assert.equal(slots(b), 0);
    assert.deepEqual(b.since(140), []);
    b.push(q(140));
    assert.deepEqual(b.since(140), [q(140)]);
  });
});
