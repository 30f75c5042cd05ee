/** A process and its descendants, read from /proc: who runs, and how much memory each holds. */
import { readdir, readFile } from 'node:fs/promises';

/** One process of the tree at the moment it was read (memory in KiB, from /proc/<pid>/status). */
export interface ProcessMemory {
  pid: number;
  ppid: number;
  /** The kernel's name of the process: the executable's file name, cut to 15 characters. */
  comm: string;
  /** VmRSS: resident now, anonymous and file-backed together. */
  rssKiB: number;
  /** RssAnon: heap and stacks, what a memory limit cannot reclaim. */
  anonKiB: number;
  /** RssFile: mapped files (the executable's code, mmapped databases), shared between processes of the same file. */
  fileKiB: number;
  /** VmHWM: the highest VmRSS the process has had. */
  hwmKiB: number;
  /**
   * Pss (smaps_rollup): resident memory with each shared page split between the processes that
   * map it, so that a sum over processes counts it once (concurrent trivy share their executable).
   */
  pssKiB: number;
}

/** pid → (ppid, comm) of every process, from /proc/<pid>/stat. */
async function allProcesses(): Promise<Map<number, { ppid: number; comm: string }>> {
  const processes = new Map<number, { ppid: number; comm: string }>();
  const entries = await readdir('/proc');
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        // Gone between readdir and read: it is simply not in the tree.
        const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split at the last ')'.
        const close = stat.lastIndexOf(')');
        if (close < 0) return;
        const ppid = Number(stat.slice(close + 2).split(' ')[1]);
        processes.set(Number(e), { ppid, comm: stat.slice(stat.indexOf('(') + 1, close) });
      }),
  );
  return processes;
}

function kib(status: string, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
}

/** `root` and every process below it, with their memory; empty when `root` has exited. */
export async function processTree(root: number): Promise<ProcessMemory[]> {
  const processes = await allProcesses();
  if (!processes.has(root)) return [];
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of processes) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const tree: number[] = [];
  for (const queue = [root]; queue.length > 0; ) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  const read = await Promise.all(
    tree.map(async (pid): Promise<ProcessMemory | undefined> => {
      const [status, rollup] = await Promise.all([readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''), readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '')]);
      if (status === '') return undefined;
      const { ppid, comm } = processes.get(pid)!;
      return { pid, ppid, comm, rssKiB: kib(status, 'VmRSS'), anonKiB: kib(status, 'RssAnon'), fileKiB: kib(status, 'RssFile'), hwmKiB: kib(status, 'VmHWM'), pssKiB: kib(rollup, 'Pss') };
    }),
  );
  return read.filter((p) => p !== undefined);
}
