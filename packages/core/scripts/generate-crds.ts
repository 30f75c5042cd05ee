/**
 * Writes the CRDs generated from packages/core/src/crds into charts/opendepot/crds/.
 * `--check` writes nothing and exits 1 when the files differ from what would be generated.
 */
import { readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUP, renderCrds } from '../src/crds/index.ts';

const dir = fileURLToPath(new URL('../../../charts/opendepot/crds/', import.meta.url));
const check = process.argv.includes('--check');
const wanted = renderCrds();

await mkdir(dir, { recursive: true });
const present = (await readdir(dir)).filter((f) => f.endsWith(`.${GROUP}.yaml`));
const stale: string[] = [];
for (const [name, text] of wanted) {
  const current = await readFile(join(dir, name), 'utf8').catch(() => undefined);
  if (current === text) continue;
  stale.push(name);
  if (!check) await writeFile(join(dir, name), text);
}
for (const name of present.filter((f) => !wanted.has(f))) {
  stale.push(name);
  if (!check) await rm(join(dir, name));
}

if (check && stale.length > 0) {
  console.error(`CRDs out of date: ${stale.join(', ')}. Run \`npm run gen:crds\`.`);
  process.exitCode = 1;
} else {
  console.log(stale.length === 0 ? `CRDs up to date in ${dir}` : `wrote ${stale.join(', ')} to ${dir}`);
}
