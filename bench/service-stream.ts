// The stream the service cases publish: MultiResolutionHlsOutput into a setup's
// store and registry, fed bench frames either at wall-clock pace (as a live
// renderer does) or as fast as the encoder takes them.
import { MultiResolutionHlsOutput } from '../src/publish/multi-resolution-hls-output.js';
import type { ServiceCaseConfig } from './config.js';
import type { FrameRing } from './frames.js';
import type { ServiceSetup } from './service-setup.js';

export function createOutput(config: ServiceCaseConfig, setup: ServiceSetup): MultiResolutionHlsOutput {
  return new MultiResolutionHlsOutput({
    sourceSize: [config.width, config.height],
    fps: config.fps,
    segmentDuration: config.segmentSeconds,
    renditions: config.renditions,
    encoder: 'x264',
    x264Preset: config.preset,
    store: setup.store,
    registry: setup.registry,
    // Players fetch segments through the server's own gateway, as with `abrcast serve`.
    segmentUrl: '/ipfs/{cid}',
    closeDeadlineMs: 30_000,
  });
}

/**
 * Writes frames `from` to `to` - 1; with `paced`, frame i is due at startedAt + i/fps
 * (late frames go at once, catching up after a stall). Returns when the last is written.
 */
export async function feedFrames(
  output: MultiResolutionHlsOutput,
  ring: FrameRing,
  { from, to, fps, paced, startedAt = performance.now() }: { from: number; to: number; fps: number; paced: boolean; startedAt?: number },
): Promise<void> {
  const started = startedAt;
  for (let i = from; i < to; i++) {
    if (paced) {
      const wait = started + (i * 1000) / fps - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await output.write(ring.frame(i));
  }
}
