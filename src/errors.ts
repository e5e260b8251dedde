/**
 * Every failure that ends a command. Each names the file or key involved and says what to do; only the CLI entry
 * point turns them into exit codes (2 for usage and configuration, 1 for everything else).
 */
export abstract class RenewerError extends Error {
  abstract readonly exitCode: 1 | 2;
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = new.target.name;
  }
  /** The message and its hint as the operator reads them. */
  describe(): string {
    return this.hint ? `${this.message}\n  → ${this.hint}` : this.message;
  }
}

/** Wrong command line: unknown flag, unknown entry name. */
export class UsageError extends RenewerError {
  readonly exitCode = 2;
}

/** The configuration file is missing, unreadable or invalid. */
export class ConfigError extends RenewerError {
  readonly exitCode = 2;
  constructor(readonly file: string, readonly key: string | undefined, message: string, hint?: string) {
    super(key ? `${file}: ${key}: ${message}` : `${file}: ${message}`, hint);
  }
}

/** Another run holds the lock. */
export class LockError extends RenewerError {
  readonly exitCode = 1;
}

/** A host file could not be read, parsed or written. */
export class HostFileError extends RenewerError {
  readonly exitCode = 1;
  constructor(readonly file: string, message: string, hint?: string) {
    super(`${file}: ${message}`, hint);
  }
}

/** Something the operator must act on after a run (partial failure). */
export class RunFailedError extends RenewerError {
  readonly exitCode = 1;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
