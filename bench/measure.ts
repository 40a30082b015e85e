// What one pipeline run costs: CPU of this process and of its children, peak
// memory of the whole process tree, wall-clock time.
import { readFileSync, writeFileSync } from 'node:fs';

export interface CpuSeconds {
  user: number;
  system: number;
}

export function totalSeconds(cpu: CpuSeconds): number {
  return cpu.user + cpu.system;
}

/** CPU used by this process (all its threads, the native encoder's included) since `start`. */
export function processCpuSince(start: NodeJS.CpuUsage): CpuSeconds {
  const delta = process.cpuUsage(start);
  return { user: delta.user / 1e6, system: delta.system / 1e6 };
}

/**
 * bash's `times` prints two lines, the shell's own and its reaped children's:
 * "0m0.004s 0m0.002s\n1m2.345s 0m0.321s". Returns the children's line.
 */
export function parseBashTimes(text: string): CpuSeconds {
  const lines = text.trim().split('\n');
  // The decimal mark follows the locale; the child runs under LC_ALL=C, but accept both.
  const match = /^(\d+)m(\d+[.,]\d+)s\s+(\d+)m(\d+[.,]\d+)s$/.exec(lines[1]?.trim() ?? '');
  if (!match) throw new Error(`Cannot read child CPU times from bash's \`times\` output: ${JSON.stringify(text)}`);
  return {
    user: Number(match[1]) * 60 + Number(match[2]!.replace(',', '.')),
    system: Number(match[3]) * 60 + Number(match[4]!.replace(',', '.')),
  };
}

/** Resets this process's VmHWM (Linux 4.0+), so each run's peak is its own. False where not allowed. */
export function resetOwnPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

interface ProcessMemory {
  rss: number;
  hwm: number;
}

function readMemory(pid: number): ProcessMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return undefined; // exited between listing and reading
  }
}

/** This process's resident memory now, bytes. */
export function ownRssBytes(): number {
  return readMemory(process.pid)?.rss ?? 0;
}

function childPids(pid: number): number[] {
  try {
    // Children forked by the main thread: node's spawn, bash and ffmpeg all fork from it.
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim();
    return text ? text.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

export interface TreeMemory {
  /** Sum over every process of the tree of its own peak RSS (VmHWM, last seen): the figure reported. */
  peakRssBytes: number;
  /** Largest sum of current RSS seen in one sample: a lower bound of the true tree peak. */
  sampledTreeRssBytes: number;
  /** Processes seen in the tree, this one included. */
  processes: number;
}

/**
 * Samples /proc every `intervalMs` for this process and all its descendants.
 * Children's VmHWM is kept from their last sample before they exit; a child
 * lives seconds and allocates its buffers at the start, so the last sample
 * holds its peak.
 */
export class TreeMemorySampler {
  readonly #root = process.pid;
  readonly #hwm = new Map<number, number>();
  #sampledTreeRss = 0;
  #timer?: NodeJS.Timeout;
  #ownPeakReset = false;

  constructor(private readonly intervalMs = 50) {}

  start(): void {
    // Without the reset, this process's VmHWM would carry earlier runs' peaks; fall back to sampled RSS.
    this.#ownPeakReset = resetOwnPeakRss();
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.intervalMs);
  }

  stop(): TreeMemory {
    clearInterval(this.#timer);
    this.#sample();
    let peak = 0;
    for (const hwm of this.#hwm.values()) peak += hwm;
    return { peakRssBytes: peak, sampledTreeRssBytes: this.#sampledTreeRss, processes: this.#hwm.size };
  }

  #sample(): void {
    let treeRss = 0;
    const pending = [this.#root];
    while (pending.length > 0) {
      const pid = pending.pop()!;
      const memory = readMemory(pid);
      if (!memory) continue;
      treeRss += memory.rss;
      const peak = pid === this.#root && !this.#ownPeakReset ? memory.rss : memory.hwm;
      this.#hwm.set(pid, Math.max(this.#hwm.get(pid) ?? 0, peak));
      pending.push(...childPids(pid));
    }
    this.#sampledTreeRss = Math.max(this.#sampledTreeRss, treeRss);
  }
}
