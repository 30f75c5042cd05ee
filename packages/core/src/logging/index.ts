/** JSON logging with secret redaction. */
export * from './logger.ts';
export * from './redact.ts';
