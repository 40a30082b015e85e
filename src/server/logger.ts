// The server's structured log (pino, one JSON object per line). Clients get
// generic errors; the detail (store URL, file path, database message) goes here.
import { destination as pinoDestination, pino, type DestinationStream, type Level, type Logger } from 'pino';

/** What the server writes to: a pino logger fits, and so does any object with these methods. */
export type ServerLogger = Pick<Logger, 'error' | 'warn' | 'info' | 'debug'>;

export type ServerLogLevel = Level | 'silent';

/** A pino logger named 'abrcast-server', on stderr unless `destination` is given. */
export function createServerLogger(level: ServerLogLevel = 'warn', destination?: DestinationStream): Logger {
  const options = { name: 'abrcast-server', level };
  return destination ? pino(options, destination) : pino(options, pinoDestination(2));
}
