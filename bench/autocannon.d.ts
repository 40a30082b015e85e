// The parts of autocannon (which ships no types) that the endpoint case uses.
declare module 'autocannon' {
  /** autocannon's histogram summary: latency in whole milliseconds; requests and throughput per one-second sample. */
  export interface HistogramSummary {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    [percentile: string]: number;
  }

  export interface Options {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    pipelining?: number;
    timeout?: number;
    workers?: number;
    headers?: Record<string, string>;
  }

  export interface Result {
    url: string;
    connections: number;
    duration: number;
    samples: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    resets: number;
    '2xx': number;
    latency: HistogramSummary;
    requests: HistogramSummary & { sent: number };
    throughput: HistogramSummary;
  }

  export default function autocannon(options: Options): Promise<Result> & { on(event: string, listener: (...args: unknown[]) => void): void };
}
