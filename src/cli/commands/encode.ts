// `abrcast encode`: files and streams in, the same ladder out. It needs demuxing
// and decoding inside the native addon, which is not written yet, so for now the
// command says so plainly (exit code 2) instead of pretending.
import { CliError, EXIT_CODES } from '../errors.js';

export function runEncode(): never {
  throw new CliError('abrcast encode is not available yet: decoding input files in the native addon is still to be written', {
    fix: 'Render frames in Node and write them to MultiResolutionHlsOutput, or try `abrcast demo`',
    exitCode: EXIT_CODES.usage,
  });
}
