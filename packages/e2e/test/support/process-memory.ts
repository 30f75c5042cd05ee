/**
 * The memory of one process, measured from outside: its peak resident set as the kernel keeps it
 * (`VmHWM` of /proc/<pid>/status), its resident set every few milliseconds (`VmRSS`), and the
 * sum over its process group (the git and other children it spawns, which a container's memory
 * limit counts too). Linux only.
 */
import { readdir, readFile } from 'node:fs/promises';

const MIB = 1024 * 1024;

/** A running sampler; figures in bytes. */
export interface MemorySampler {
  /** Peak resident set of the process (VmHWM), as last read. */
  readonly peakRss: number;
  /** The largest VmRSS sampled, when (ms since the sampler started), and its parts: anonymous memory, mapped files, shared memory. */
  readonly sampledPeak: { bytes: number; atMs: number; anon: number; file: number; shmem: number };
  /** The largest sum of VmRSS over the process group sampled (the process and its children). */
  readonly groupPeak: number;
  /** Samples taken (reads of the process's status). */
  readonly samples: number;
  /** Reads the figures one last time (while the process still runs) and stops sampling. */
  stop(): Promise<void>;
}

/** A `kB` field of a /proc status text, in bytes (0 when absent). */
function statusField(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** The process group of a pid, from /proc/<pid>/stat (undefined if it is gone). */
async function groupOf(pid: string): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // Fields after the command, which is in parentheses and may hold spaces: state ppid pgrp ...
  return stat === undefined ? undefined : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** Resident bytes of every process in group `pgid`. */
async function groupRss(pgid: number): Promise<number> {
  let total = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || (await groupOf(pid)) !== pgid) continue;
    total += statusField((await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')) || '', 'VmRSS');
  }
  return total;
}

/**
 * Samples `pid` every `intervalMs` (VmRSS, VmHWM) and its process group (`pid` leads it, e.g. a
 * detached child) every `groupIntervalMs`, which is costlier: it reads every process's stat.
 */
export function sampleProcessMemory(pid: number, { intervalMs = 100, groupIntervalMs = 500 } = {}): MemorySampler {
  const started = performance.now();
  const figures = { peakRss: 0, sampledPeak: { bytes: 0, atMs: 0, anon: 0, file: 0, shmem: 0 }, groupPeak: 0, samples: 0 };
  const readOwn = async () => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
    if (status === undefined) return;
    figures.samples++;
    figures.peakRss = Math.max(figures.peakRss, statusField(status, 'VmHWM'));
    const rss = statusField(status, 'VmRSS');
    if (rss > figures.sampledPeak.bytes) {
      const [anon, file, shmem] = ['RssAnon', 'RssFile', 'RssShmem'].map((f) => statusField(status, f)) as [number, number, number];
      figures.sampledPeak = { bytes: rss, atMs: performance.now() - started, anon, file, shmem };
    }
  };
  const readGroup = async () => void (figures.groupPeak = Math.max(figures.groupPeak, await groupRss(pid)));
  // One read at a time per kind: a slow /proc walk under load must not pile up.
  let busy = false;
  let groupBusy = false;
  const own = setInterval(() => {
    if (busy) return;
    busy = true;
    void readOwn().finally(() => (busy = false));
  }, intervalMs);
  const group = setInterval(() => {
    if (groupBusy) return;
    groupBusy = true;
    void readGroup().finally(() => (groupBusy = false));
  }, groupIntervalMs);
  return {
    get peakRss() {
      return figures.peakRss;
    },
    get sampledPeak() {
      return figures.sampledPeak;
    },
    get groupPeak() {
      return figures.groupPeak;
    },
    get samples() {
      return figures.samples;
    },
    async stop() {
      clearInterval(own);
      clearInterval(group);
      await readOwn();
      await readGroup();
    },
  };
}

/** Bytes as MiB with no decimals, for figures. */
export const mib = (bytes: number): string => `${(bytes / MIB).toFixed(0)} MiB`;
