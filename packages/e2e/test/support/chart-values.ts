/**
 * What the Helm chart gives the operator, read from the chart itself so the tests that mirror it
 * follow it: its `config` block, its memory limit and its node flags (all values.yaml).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const CHART = fileURLToPath(new URL('../../../../charts/opendepot/', import.meta.url));

/** The parts of the chart that shape the operator's process. */
export interface ChartOperator {
  /** values.yaml `config`: the configuration file both pods get. */
  config: Record<string, unknown>;
  /** values.yaml `operator.resources.limits.memory`, as written (e.g. 512Mi) and in bytes. */
  memoryLimit: { quantity: string; bytes: number };
  /** values.yaml `operator.nodeArgs`: the flags the container's `node` runs with, before the entry point. */
  nodeArgs: string[];
}

const BINARY_SUFFIXES: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };

/** A Kubernetes memory quantity with a binary suffix (Ki, Mi, Gi), in bytes. */
export function quantityBytes(quantity: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`memory quantity ${JSON.stringify(quantity)}: expected a whole number with Ki, Mi or Gi (e.g. 512Mi)`);
  return Number(m[1]) * BINARY_SUFFIXES[m[2]!]!;
}

/** Reads the chart's values. */
export async function readChartOperator(): Promise<ChartOperator> {
  const values = parse(await readFile(`${CHART}values.yaml`, 'utf8')) as {
    config: Record<string, unknown>;
    operator: { resources: { limits: { memory: string } }; nodeArgs: string[] };
  };
  const quantity = values.operator.resources.limits.memory;
  return { config: values.config, memoryLimit: { quantity, bytes: quantityBytes(quantity) }, nodeArgs: values.operator.nodeArgs };
}
