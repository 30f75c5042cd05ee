/** Private test bed: the real components OpenDepot's tests run against. */
export * from './tools.ts';
export * from './ports.ts';
export * from './processes.ts';
export * from './kubectl.ts';
export * from './control-plane.ts';
