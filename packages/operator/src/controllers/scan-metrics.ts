/**
 * The age of each scanner's vulnerability database as metrics, so a database that stopped being
 * refreshed (a broken CronJob, an unreachable mirror) is alerted on before scans miss new advisories.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ScanDatabase } from '@opendepot/sdk';

/** What the Version controller tells after each scan that used a database. */
export interface ScanDatabaseMetrics {
  observe(scanner: string, database: ScanDatabase): void;
}

/** Registers `<prefix>scanner_database_updated_timestamp_seconds` and `..._age_seconds`, by scanner. */
export function scanDatabaseMetrics(registry: Registry, prefix = 'opendepot_operator_'): ScanDatabaseMetrics {
  const updated = new Map<string, number>();
  new Gauge({
    name: `${prefix}scanner_database_updated_timestamp_seconds`,
    help: 'When the vulnerability database the last scan of each scanner used was built (Unix seconds).',
    labelNames: ['scanner'] as const,
    registers: [registry],
    collect() {
      for (const [scanner, ms] of updated) this.set({ scanner }, ms / 1000);
    },
  });
  new Gauge({
    name: `${prefix}scanner_database_age_seconds`,
    help: 'How old that database is now (seconds since it was built); alert when it exceeds a day or two.',
    labelNames: ['scanner'] as const,
    registers: [registry],
    collect() {
      for (const [scanner, ms] of updated) this.set({ scanner }, Math.max(0, (Date.now() - ms) / 1000));
    },
  });
  return {
    observe(scanner, database) {
      const ms = Date.parse(database.updatedAt);
      if (!Number.isNaN(ms)) updated.set(scanner, ms);
    },
  };
}
