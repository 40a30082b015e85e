// What write() and previewLadderFrame() take as a frame: a Buffer of packed RGB, or, for a
// renderer that already holds its frame in CUDA memory, { cudaDevicePtr, pitch } (cudaFrames).
import { describeValue, invalidParameterError, isInteger } from '../errors.js';
import type { NativeDeviceFrame } from '../native/binding.js';
import type { CudaDeviceFrame, PixelFormat } from './types.js';

const MAX_POINTER = (1n << 64n) - 1n;
// Far beyond any real row (8192 px x 4 bytes, padded), but within what the kernel indexes.
const MAX_PITCH = 2 ** 31 - 1;

export function isCudaDeviceFrame(frame: unknown): frame is CudaDeviceFrame {
  return typeof frame === 'object' && frame !== null && !ArrayBuffer.isView(frame) && 'cudaDevicePtr' in frame;
}

/**
 * Checks a device frame against the encoder's size and pixel format, in the sharp style. The
 * pointer crosses into C++ as a bigint, so no 64-bit address loses bits.
 */
export function normalizeCudaFrame(
  frame: unknown,
  { width, pixelFormat }: { width: number; pixelFormat: PixelFormat },
): NativeDeviceFrame {
  if (!isCudaDeviceFrame(frame)) {
    throw new TypeError(`Expected { cudaDevicePtr, pitch } for frame (cudaFrames: true) but received ${describeValue(frame)}`);
  }
  const { cudaDevicePtr, pitch } = frame as { cudaDevicePtr: unknown; pitch: unknown };
  let pointer: bigint;
  if (typeof cudaDevicePtr === 'bigint') {
    pointer = cudaDevicePtr;
  } else if (isInteger(cudaDevicePtr) && Number.isSafeInteger(cudaDevicePtr)) {
    pointer = BigInt(cudaDevicePtr);
  } else {
    throw invalidParameterError('frame.cudaDevicePtr', 'bigint or safe integer device address', cudaDevicePtr);
  }
  if (pointer <= 0n || pointer > MAX_POINTER) {
    throw new RangeError(`Expected non-zero 64-bit device address for frame.cudaDevicePtr but received ${describeValue(cudaDevicePtr)}`);
  }
  const rowBytes = width * (pixelFormat === 'rgb24' ? 3 : 4);
  if (!isInteger(pitch) || pitch < rowBytes || pitch > MAX_PITCH) {
    throw invalidParameterError(
      'frame.pitch', `integer between ${rowBytes} (${width} px of ${pixelFormat}) and ${MAX_PITCH} bytes per row`, pitch,
    );
  }
  return { cudaDevicePtr: pointer, pitch };
}

/** Checks that a Buffer frame holds exactly one picture of the encoder's size and pixel format. */
export function checkFrameBytes(
  frame: Uint8Array | Uint8ClampedArray,
  { frameBytes, width, height, pixelFormat }: { frameBytes: number; width: number; height: number; pixelFormat: PixelFormat },
): Uint8Array {
  if (frame.byteLength !== frameBytes) {
    throw new RangeError(`Expected frame of ${frameBytes} bytes (${width}x${height} ${pixelFormat}) but received ${frame.byteLength}`);
  }
  return frame as Uint8Array;
}
