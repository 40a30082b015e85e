// Public API of abrcast.
export { LadderEncoder } from './encoder/ladder-encoder.js';
export type { LadderEncoderEvents } from './encoder/ladder-encoder.js';
export { defaultLadder, estimateBitrate, ladderFromHeights, validateLadder } from './encoder/ladder.js';
export { probeHardware } from './encoder/hardware.js';
export type { HardwareReport } from './encoder/hardware.js';
export type * from './encoder/types.js';
export { AbrcastError } from './errors.js';
