/** What every command starts from: the root, the validated config, host paths, a logger and the clock. */
import { resolve } from 'node:path';
import { type Config, DEFAULT_CONFIG_PATH, configWarnings, loadConfig } from '../config/config.js';
import { type HostPaths, hostPaths, resolveUnderRoot, underRoot } from '../host/paths.js';
import { type Logger, createLogger } from '../ops/log.js';

export interface GlobalOptions {
  root: string;
  config?: string;
  output: 'table' | 'wide' | 'json';
  logFormat?: Config['log']['format'];
  verbose: boolean;
}

export interface Context {
  root: string;
  configFile: string;
  config: Config;
  paths: HostPaths;
  log: Logger;
  now: () => Date;
  output: 'table' | 'wide' | 'json';
  /** Where command output (tables, JSON) goes. */
  print: (text: string) => void;
  /** Where log lines and errors go (stderr in the process; captured in in-process tests). */
  printError: (text: string) => void;
}

export function createContext(options: GlobalOptions, print: (text: string) => void, printError: (text: string) => void): Context {
  const explicit = options.config !== undefined;
  // An explicit --config is a path on this machine; the default one lives in the host tree under --root.
  const configFile = explicit ? (options.config as string) : resolveUnderRoot(resolve(options.root), underRoot(resolve(options.root), DEFAULT_CONFIG_PATH));
  const config = loadConfig(configFile, explicit);
  if (options.logFormat) config.log.format = options.logFormat;
  if (options.verbose) config.log.level = 'debug';
  const paths = hostPaths(options.root, config);
  let log: Logger | undefined;
  const ctx: Context = {
    root: paths.root,
    configFile,
    config,
    paths,
    // Created on first use: `status` usually logs nothing and should not pay for loading pino.
    get log(): Logger {
      log ??= createLogger({ ...config.log, write: printError });
      return log;
    },
    now: () => new Date(),
    output: options.output,
    print,
    printError,
  };
  for (const warning of configWarnings(config)) ctx.log.warn({ config: configFile }, warning);
  return ctx;
}
