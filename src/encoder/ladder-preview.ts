// One frame through the ladder's scalers, without encoding: the YUV picture
// each rendition's encoder would get. On 'cuda' the frame is uploaded, scaled
// with scale_cuda and downloaded, so the GPU path can be checked against the
// CPU path on any CUDA machine, NVENC or not. A device frame ({ cudaDevicePtr,
// pitch }) takes the encoder's cudaFrames path: the RGB-to-YUV kernel on 'cuda',
// a copy to host memory on 'cpu'.
import { AbrcastError, describeValue, invalidParameterError } from '../errors.js';
import { loadNativeAddon, type NativeDeviceFrame } from '../native/binding.js';
import { checkFrameBytes, isCudaDeviceFrame, normalizeCudaFrame } from './cuda-frame.js';
import { toNativeConfig } from './native-config.js';
import { normalizeEncoderOptions } from './options.js';
import type { CudaDeviceFrame, LadderEncoderOptions } from './types.js';

export interface ScaledRenditionFrame {
  name: string;
  width: number;
  height: number;
  /** yuv420p: the Y, U and V planes one after another, without row padding. */
  pixelFormat: string;
  /** Whether the frame was scaled on the GPU (then downloaded). */
  onGpu: boolean;
  data: Buffer;
}

export async function previewLadderFrame(
  options: Omit<LadderEncoderOptions, 'audio' | 'input' | 'outputDir' | 'cudaFrames'>,
  frame: Uint8Array | Uint8ClampedArray | CudaDeviceFrame,
  { device = 'cpu' }: { device?: 'cpu' | 'cuda' } = {},
): Promise<ScaledRenditionFrame[]> {
  const normalized = normalizeEncoderOptions({ ...options, encoder: 'x264' });
  if (device !== 'cpu' && device !== 'cuda') throw invalidParameterError('device', 'one of cpu, cuda', device);
  let input: Uint8Array | NativeDeviceFrame;
  if (isCudaDeviceFrame(frame)) {
    input = normalizeCudaFrame(frame, normalized);
  } else if (frame instanceof Uint8Array || frame instanceof Uint8ClampedArray) {
    input = checkFrameBytes(frame, normalized);
  } else {
    throw new TypeError(`Expected Buffer, Uint8Array or { cudaDevicePtr, pitch } for frame but received ${describeValue(frame)}`);
  }
  try {
    return loadNativeAddon().scaleLadderFrame(toNativeConfig(normalized, 'x264'), input, device === 'cuda');
  } catch (cause) {
    throw new AbrcastError(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}
