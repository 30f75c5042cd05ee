/** Error mappings at the edges: HTTP responses (server) and conditions (controllers). */
export * from './http.ts';
export * from './condition.ts';
export * from './with-context.ts';
export * from './user-message.ts';
