// A real embedded store whose segment uploads take `delayMs` each: a store that lags the encoder.
import { setTimeout as sleep } from 'node:timers/promises';
import { HeliaStore } from '../../src/store/helia-store.js';

export class SlowHeliaStore extends HeliaStore {
  constructor(dir: string, private readonly delayMs: number) {
    super({ dir });
  }

  override async add(bytes: Uint8Array): Promise<string> {
    await sleep(this.delayMs);
    return super.add(bytes);
  }
}
