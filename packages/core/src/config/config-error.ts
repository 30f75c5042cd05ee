/** The error of an invalid configuration file or environment variable. */
import { InputError, type OpenDepotErrorOptions } from '@opendepot/sdk';

/** Options of {@link ConfigError}. */
export interface ConfigErrorOptions extends OpenDepotErrorOptions {
  /** The file or environment variable the bad value came from. */
  source?: string;
}

/** Invalid configuration: the message names the file or variable and the field. */
export class ConfigError extends InputError {
  /** The file or environment variable the (first) bad value came from. */
  readonly source: string | undefined;

  constructor(message: string, options: ConfigErrorOptions = {}) {
    super(message, options);
    this.name = 'ConfigError';
    this.source = options.source;
  }
}
