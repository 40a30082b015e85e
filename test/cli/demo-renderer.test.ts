// The demo animation: right-sized opaque RGBA frames that change every frame,
// a clock that follows the wall time, and a render cost that leaves room for
// encoding at 1280x720@30 (33 ms per frame in all).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DemoRenderer, clockText } from '../../src/cli/demo-renderer.js';

function differingBytes(a: Uint8Array, b: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) count++;
  return count;
}

const renderer = await DemoRenderer.create(640, 360, 30);

describe('DemoRenderer', () => {
  const time = new Date(2025, 0, 2, 3, 4, 5, 678);

  test('frames are width*height RGBA, fully opaque', () => {
    const frame = renderer.render(0, time);
    assert.equal(frame.byteLength, 640 * 360 * 4);
    for (let i = 3; i < frame.length; i += 4) if (frame[i] !== 255) assert.fail(`alpha ${frame[i]} at pixel ${(i - 3) / 4}`);
  });

  test('consecutive frames differ; the same frame and time render the same', () => {
    const first = Uint8Array.from(renderer.render(10, time));
    const next = Uint8Array.from(renderer.render(11, time));
    assert.ok(differingBytes(first, next) > 1000, 'shapes and background move');
    assert.equal(differingBytes(first, renderer.render(10, time)), 0);
  });

  test('the clock panel shows the given time', () => {
    const a = Uint8Array.from(renderer.render(5, time));
    const b = Uint8Array.from(renderer.render(5, new Date(time.getTime() + 111)));
    assert.ok(differingBytes(a, b) > 0, 'another time draws other digits');
    assert.equal(clockText(time), '03:04:05.678');
  });

  test('renders 1280x720 well within the frame budget', async () => {
    const big = await DemoRenderer.create(1280, 720, 30);
    for (let i = 0; i < 5; i++) big.render(i);
    const frames = 60;
    const started = performance.now();
    for (let i = 0; i < frames; i++) big.render(i);
    const msPerFrame = (performance.now() - started) / frames;
    // ~1 ms here; 10 ms still leaves two thirds of a 30 fps frame to the encoder.
    assert.ok(msPerFrame < 10, `${msPerFrame.toFixed(2)} ms per frame`);
  });

  test('rejects sizes it cannot draw', async () => {
    await assert.rejects(DemoRenderer.create(32, 360, 30), /Expected integer of at least 64 for width but received 32/);
  });
});
