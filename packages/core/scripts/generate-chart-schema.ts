/**
 * Writes the Helm chart's values.schema.json (see chart-values-schema.ts). `--check` writes nothing
 * and exits 1 when the committed file differs from what would be generated.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CHART_SCHEMA_PATH, renderChartValuesSchema } from './chart-values-schema.ts';

const file = fileURLToPath(new URL(`../../../${CHART_SCHEMA_PATH}`, import.meta.url));
const wanted = renderChartValuesSchema();
const current = await readFile(file, 'utf8').catch(() => undefined);

if (current === wanted) {
  console.log(`${CHART_SCHEMA_PATH} is up to date`);
} else if (process.argv.includes('--check')) {
  console.error(`${CHART_SCHEMA_PATH} is out of date. Run \`node --conditions=opendepot-source packages/core/scripts/generate-chart-schema.ts\`.`);
  process.exitCode = 1;
} else {
  await writeFile(file, wanted);
  console.log(`wrote ${CHART_SCHEMA_PATH}`);
}
