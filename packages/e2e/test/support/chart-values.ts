/**
 * What the Helm chart gives the operator, read from the chart itself so the tests that mirror it
 * follow it: its `config` block (values.yaml), its memory limit, and its NODE_OPTIONS
 * (templates/_deployment.tpl).
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
  /** The NODE_OPTIONS the chart's containers run with. */
  nodeOptions: string;
}

const BINARY_SUFFIXES: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };

/** A Kubernetes memory quantity with a binary suffix (Ki, Mi, Gi), in bytes. */
export function quantityBytes(quantity: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`memory quantity ${JSON.stringify(quantity)}: expected a whole number with Ki, Mi or Gi (e.g. 512Mi)`);
  return Number(m[1]) * BINARY_SUFFIXES[m[2]!]!;
}

/** Reads the chart's values and deployment template. */
export async function readChartOperator(): Promise<ChartOperator> {
  const values = parse(await readFile(`${CHART}values.yaml`, 'utf8')) as { config: Record<string, unknown>; operator: { resources: { limits: { memory: string } } } };
  const quantity = values.operator.resources.limits.memory;
  const template = await readFile(`${CHART}templates/_deployment.tpl`, 'utf8');
  const nodeOptions = /name: NODE_OPTIONS, value: "([^"]*)"/.exec(template)?.[1];
  if (nodeOptions === undefined) throw new Error('charts/opendepot/templates/_deployment.tpl sets no NODE_OPTIONS any more: update chart-values.ts to what the containers run with');
  return { config: values.config, memoryLimit: { quantity, bytes: quantityBytes(quantity) }, nodeOptions };
}
