// An encrypted run's content keys, one per key period: made here (random),
// wrapped under the server secret and put in the registry before any resource
// they encrypt is stored, so a server can hand out the key of everything a
// playlist lists. The registry keeps the first key stored for a period, and
// that is the one used: a retry after a lost answer, or `abrcast resume` in
// another process, encrypts with the key players fetch. The clear key lives in
// this process only.
import { newContentKey, unwrapRunKey, wrapRunKey } from '../crypto/key-wrap.js';
import type { ServerSecrets } from '../crypto/server-secret.js';
import { AbrcastError } from '../errors.js';
import type { RunRecorder } from '../model/run-recorder.js';

export interface RunKeysOptions {
  registry: Required<Pick<RunRecorder, 'putRunKey'>>;
  /** The run's id, once created. */
  runId: () => string | undefined;
  secrets: ServerSecrets;
}

export class RunKeys {
  readonly #options: RunKeysOptions;

  constructor(options: RunKeysOptions) {
    this.#options = options;
  }

  /** Content key `index` of the run: the one the registry holds, stored first if it holds none. */
  async key(index: number): Promise<Buffer> {
    const { registry, secrets } = this.#options;
    const runId = this.#options.runId();
    if (runId === undefined) throw new AbrcastError('The run has no id yet: its keys are made once start() created it');
    const slot = { runId, index };
    const stored = await registry.putRunKey(runId, index, wrapRunKey(newContentKey(), secrets, slot));
    return unwrapRunKey(stored, secrets, slot);
  }
}
