import type { Command } from 'commander';
import { ApiClient, resolveConnection } from './client';
import { Output } from './output';

/** What every command group gets: the API client and output for the global options. */
export interface CliContext {
  /** built lazily, after commander parsed --url/--key */
  client(): ApiClient;
  out(): Output;
}

export interface GlobalOptions {
  url?: string;
  key?: string;
  json?: boolean;
}

export function createContext(program: Command): CliContext {
  let client: ApiClient | undefined;
  return {
    client: () => (client ??= new ApiClient(resolveConnection(program.opts<GlobalOptions>()))),
    out: () => new Output(Boolean(program.opts<GlobalOptions>().json)),
  };
}
