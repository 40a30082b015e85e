// The CLI owns its process, so it may set V8 flags that a library must not.
import { setFlagsFromString } from 'node:v8';

/**
 * WebAssembly compiled from here on stays on V8's baseline compiler (Liftoff).
 * The embedded registry is PostgreSQL in 9 MB of WASM (PGlite): left to
 * dynamic tiering, its startup code turns hot and is compiled again by
 * TurboFan, ~60 MB of RSS and ~0.6 s of CPU in a short `encode`, for registry
 * statements that run as fast on Liftoff (docs/performance.md has both).
 */
export function keepWasmOnBaselineTier(): void {
  setFlagsFromString('--liftoff-only');
}
