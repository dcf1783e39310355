/**
 * The replay buffer on its own: counting, limits, confirmation, replay and rewinding across the
 * ring's wrap-around and growth, frames of many messages confirmed part-way, markers, and the
 * storage an emptied buffer gives back.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayBuffer } from '../../lib/recovery/buffer.js';
import { MessageList, SharedFrame } from '../../lib/protocol/shared-frame.js';
import { quote } from '../../lib/protocol/frames.js';
import { control } from '../../lib/recovery/wire.js';

const q = (n: number): string => `"m${n}"`;
const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => q(from + i));
/** The buffer's internals: slots (storage, not messages) and the lists it keeps. */
const inside = (b: ReplayBuffer): { slots: number; ring: unknown[] } => b as unknown as { slots: number; ring: unknown[] };
const marker = (s: string): string => quote(control({ t: 'p', s, g: 0 }));
const STOP = quote(control({ t: 'd' }));
const ACK = quote(control({ t: 'ack', recv: 1, sent: 2 }));

describe('replay buffer', () => {
  test('replays exactly what is unconfirmed, oldest first, through wrap-around, growth and frames confirmed part-way', () => {
    const b = new ReplayBuffer(1000, 1 << 20);
    let written = 0;
    let confirmed = 0;
    // Frames of 1 to 23 messages; confirmations lag the writes by a varying amount and land
    // inside frames, so the ring's start moves around its slots and the ring grows while wrapped.
    for (let step = 0; step < 300; step++) {
      const burst = 1 + ((step * 7) % 23);
      const list = range(written, written + burst);
      if (step % 2 === 0) b.keep(list);
      else b.add(new MessageList(list, burst, list.join('').length));
      written += burst;
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
    for (let i = 0; i < 12; i += 3) b.keep(range(i, i + 3));
    assert.equal(b.first, 7);
    assert.deepEqual(b.since(7), range(7, 12));
    const c = new ReplayBuffer(100, 10);
    c.keep(['"aaaa"']);
    c.keep(['"bbbb"']);
    assert.deepEqual([c.first, c.chars], [1, 6]);
    c.keep(['"' + 'x'.repeat(50) + '"']);
    assert.deepEqual(c.since(c.first), ['"' + 'x'.repeat(50) + '"']);
    assert.equal(c.written, 3);
  });

  test('markers go before their messages in a replay and go with them; other control messages are not kept', () => {
    const b = new ReplayBuffer(1000, 1 << 20);
    b.keep([ACK, q(0), marker('a'), q(1), q(2)]);
    b.keep([STOP, q(3), ACK, marker('b'), q(4)]);
    b.keep([ACK]);
    assert.equal(b.written, 5);
    assert.equal(b.chars, range(0, 5).join('').length);
    assert.deepEqual(b.since(0), [q(0), marker('a'), q(1), q(2), STOP, q(3), marker('b'), q(4)]);
    assert.deepEqual(b.since(1), [marker('a'), q(1), q(2), STOP, q(3), marker('b'), q(4)]);
    b.confirm(1);
    assert.deepEqual(b.since(1), [marker('a'), q(1), q(2), STOP, q(3), marker('b'), q(4)]);
    b.confirm(2);
    assert.deepEqual(b.since(2), [q(2), STOP, q(3), marker('b'), q(4)]);
    b.confirm(4);
    assert.deepEqual(b.since(4), [marker('b'), q(4)]);
    b.confirm(5);
    assert.equal(inside(b).slots, 0);
  });

  test('rewinding gives what since() gives and holds it no more; keeping it again restores the buffer', () => {
    for (let from = 3; from <= 12; from++) {
      const b = new ReplayBuffer(1000, 1 << 20);
      b.keep([q(0), q(1), q(2)]);
      b.keep([q(3), marker('x'), q(4), q(5), q(6)]);
      b.keep([q(7)]);
      b.keep([STOP, q(8), q(9), marker('y'), q(10), q(11)]);
      b.confirm(3);
      const all = b.since(3);
      const expected = b.since(from);
      assert.deepEqual(b.rewind(from), expected, `from ${from}`);
      assert.equal(b.written, from);
      assert.equal(b.first, 3);
      assert.equal(b.chars, range(3, from).join('').length);
      assert.deepEqual(b.since(3), all.slice(0, all.length - expected.length));
      b.keep(expected);
      assert.equal(b.written, 12);
      assert.deepEqual(b.since(3), all);
    }
  });

  test("a room's run is one entry for every buffer that keeps it, not a copy", () => {
    const run = new SharedFrame(q(1), new SharedFrame(q(0)));
    const b = new ReplayBuffer(1000, 1 << 20);
    const c = new ReplayBuffer(1000, 1 << 20);
    b.keepFrame(run);
    c.keepFrame(run);
    assert.equal(inside(b).ring[0], run.messageList);
    assert.equal(inside(c).ring[0], run.messageList);
    assert.deepEqual([c.written, c.chars], [2, q(0).length + q(1).length]);
    assert.deepEqual(c.since(0), [q(0), q(1)]);
  });

  test('an emptied buffer keeps no storage; a busy one keeps its slots', () => {
    const b = new ReplayBuffer(1000, 1 << 20);
    for (let i = 0; i < 100; i++) b.keep([q(i)]);
    const busy = inside(b).slots;
    assert.ok(busy >= 100);
    b.confirm(60);
    for (let i = 100; i < 140; i++) b.keep([q(i)]);
    assert.equal(inside(b).slots, busy, 'no new storage while the held frames fit');
    b.confirm(140);
    assert.equal(inside(b).slots, 0);
    assert.deepEqual(b.since(140), []);
    b.keep([q(140)]);
    assert.deepEqual(b.since(140), [q(140)]);
  });
});
