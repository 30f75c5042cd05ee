/** Dependency injection: typed tokens and a container facade over tsyringe. */
export * from './token.ts';
export * from './container.ts';
export * from './tokens.ts';
