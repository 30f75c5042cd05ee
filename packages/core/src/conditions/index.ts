/** Condition reasons (one table) and the bound on their messages. */
export * from './reasons.ts';
export * from './message.ts';
