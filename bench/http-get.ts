// A plain GET over a keep-alive agent, timed to the last body byte, with the
// bytes as sent on the wire (fetch would negotiate and decode gzip itself).
import { Agent, request } from 'node:http';

export interface TimedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Body bytes as received (compressed when Content-Encoding says so). */
  body: Buffer;
  ms: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

export function timedGet(url: string, headers: Record<string, string> = {}): Promise<TimedResponse> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
