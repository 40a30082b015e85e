// Peak signal-to-noise ratio between two 8-bit pictures of the same size, in dB.
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`PSNR of ${a.length} vs ${b.length} bytes`);
  let squared = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    squared += d * d;
  }
  if (squared === 0) return Infinity;
  return 10 * Math.log10((255 * 255) / (squared / a.length));
}
