/**
 * The container images the real-cluster test bed runs, built with no daemon and no registry by
 * tools/build-images.sh: each is a `docker save`-format tar (for `ctr images import`), cached
 * under ${OPENDEPOT_CACHE:-~/.cache/opendepot}/images and keyed by its inputs.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPathScript } from './script-output.ts';
import { ensureTool } from './tools.ts';

const BUILD_SCRIPT = fileURLToPath(new URL('../tools/build-images.sh', import.meta.url));

/** The base image's reference: Debian bookworm (minbase) with git, CA certificates, Node 24 and corepack. */
export const BASE_IMAGE_REF = 'localhost/opendepot-base:bookworm-node24';
/** The pause image's reference (containerd's default `sandbox_image`). */
export const PAUSE_IMAGE_REF = 'registry.k8s.io/pause:3.10';

/** Where the image tars (and buildah's storage) are cached. */
export function imagesDir(): string {
  return join(process.env.OPENDEPOT_CACHE ?? join(homedir(), '.cache', 'opendepot'), 'images');
}

function buildImage(args: string[]): Promise<string> {
  return runPathScript(BUILD_SCRIPT, args, (code) => `build-images.sh ${args.join(' ')} failed (exit ${code}); see ${join(imagesDir(), 'logs')}`);
}

/** The base image's tar ({@link BASE_IMAGE_REF}): `debootstrap --variant=minbase` + Node from the npm registry. */
export function buildBaseImage(): Promise<string> {
  return buildImage(['base']);
}

/** The pause image's tar ({@link PAUSE_IMAGE_REF}), a static Go program. */
export function buildPauseImage(): Promise<string> {
  return buildImage(['pause']);
}

/** The Dex image's reference in the cluster suite (the test bed's own build of Dex v2.45.1). */
export const DEX_IMAGE = { repository: 'localhost/dex', tag: 'v2.45.1' } as const;

/** The Dex image's tar ({@link DEX_IMAGE}): the binary {@link ensureTool} builds, alone in one layer. */
export async function buildDexImage(): Promise<string> {
  return buildImage(['dex', '--binary', await ensureTool('dex'), '--tag', `${DEX_IMAGE.repository}:${DEX_IMAGE.tag}`]);
}

/** Options of {@link buildOpendepotImage}. */
export interface OpendepotImageOptions {
  /** The image reference to tag, e.g. `localhost/opendepot:test`. */
  tag: string;
  /** Dockerfile target: `opendepot` (the default image) or `with-trivy`. */
  target?: 'opendepot' | 'with-trivy';
  /** For `with-trivy`: the trivy binary to put in (default: the test bed's build of trivy, if any). */
  trivy?: string;
}

/**
 * The repository's Dockerfile built with buildah on the base image, from the working tree
 * (files git does not ignore, minus .dockerignore); resolves to the image's tar.
 */
export function buildOpendepotImage(options: OpendepotImageOptions): Promise<string> {
  const args = ['opendepot', '--tag', options.tag];
  if (options.target) args.push('--target', options.target);
  if (options.trivy) args.push('--trivy', options.trivy);
  return buildImage(args);
}

/** The image references the cluster suite installs (the default image, and the `with-trivy` one). */
export const TEST_IMAGE_REPOSITORY = 'localhost/opendepot';
export const TEST_IMAGE_TAGS = { default: 'test', withTrivy: 'test-trivy' } as const;

/** The three images of the cluster suite (pause, OpenDepot, OpenDepot with trivy), built or taken from the cache. */
export async function buildClusterSuiteImages(): Promise<{ pause: string; opendepot: string; withTrivy: string }> {
  const pause = await buildPauseImage();
  const opendepot = await buildOpendepotImage({ tag: `${TEST_IMAGE_REPOSITORY}:${TEST_IMAGE_TAGS.default}` });
  const withTrivy = await buildOpendepotImage({ tag: `${TEST_IMAGE_REPOSITORY}:${TEST_IMAGE_TAGS.withTrivy}`, target: 'with-trivy' });
  return { pause, opendepot, withTrivy };
}
