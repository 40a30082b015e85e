// A raw HTTP/2 client (node:http2) for the tests: one session (one TLS connection) and
// requests on it as streams, so a test can hold many requests at once on one connection
// and read every header the server sent, as a player's HTTP/2 stack would see them.
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { gunzipSync } from 'node:zlib';

export interface Http2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, gunzipped when content-encoding says gzip. */
  body: Buffer;
  /** The bytes as they came on the wire. */
  rawBytes: number;
}

export interface Http2Client {
  session: ClientHttp2Session;
  /** What ALPN chose ('h2'). */
  protocol: string | undefined;
  /** The server's SETTINGS. */
  remoteSettings: Promise<import('node:http2').Settings>;
  request(path: string, headers?: OutgoingHttpHeaders): Promise<Http2Answer>;
  /** A request that the test may reset (RST_STREAM CANCEL) before it is answered; `response` resolves with the headers. */
  open(path: string, headers?: OutgoingHttpHeaders): { answer: Promise<Http2Answer>; response: Promise<IncomingHttpHeaders>; cancel(): void };
  close(): Promise<void>;
}

/** HTTP/2 headers a server must never send (RFC 9113 8.2.2). */
export const CONNECTION_SPECIFIC_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];

export async function connectHttp2(origin: string, ca: string): Promise<Http2Client> {
  const session = connect(origin, { ca, ALPNProtocols: ['h2'] });
  const remoteSettings = new Promise<import('node:http2').Settings>((resolve) => session.once('remoteSettings', resolve));
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  session.on('error', () => undefined); // a reset session fails its open streams; each reports its own error
  const open = (path: string, headers: OutgoingHttpHeaders = {}) => {
    const stream = session.request({ ':path': path, ...headers }, { endStream: true });
    const response = new Promise<IncomingHttpHeaders>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('close', () => reject(new Error(`stream ${path} closed before its headers`)));
    });
    response.catch(() => undefined);
    const answer = new Promise<Http2Answer>((resolve, reject) => {
      let responseHeaders: IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (responseHeaders = h));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.once('error', reject);
      // On 'close', not 'end': a stream reset by either side may still 'end' with part of a body.
      stream.once('close', () => {
        if (stream.rstCode !== constants.NGHTTP2_NO_ERROR) return reject(new Error(`stream ${path} closed with RST_STREAM ${stream.rstCode}`));
        if (responseHeaders === undefined) return reject(new Error(`stream ${path} ended without an answer`));
        const raw = Buffer.concat(chunks);
        const body = responseHeaders['content-encoding'] === 'gzip' && raw.length > 0 ? gunzipSync(raw) : raw;
        resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, body, rawBytes: raw.length });
      });
    });
    return { answer, response, cancel: () => stream.close(constants.NGHTTP2_CANCEL) };
  };
  return {
    session,
    protocol: session.alpnProtocol,
    remoteSettings,
    open,
    request: (path, headers) => open(path, headers).answer,
    close: () => new Promise<void>((resolve) => session.close(() => resolve())),
  };
}
