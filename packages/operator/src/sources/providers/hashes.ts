/** Provider package hashes moved to the operator (they describe a stored package, not a source); re-exported for the source tests. */
export * from '../../controllers/provider-hashes.ts';
