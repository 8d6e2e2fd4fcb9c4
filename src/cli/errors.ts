/** Exit codes of the CLI: scripts branch on these. */
export const EXIT = {
  ok: 0,
  /** the API refused the request (4xx/5xx other than auth) or the command line was wrong */
  apiOrUsage: 1,
  /** the API could not be reached at all */
  unreachable: 2,
  /** the key is missing, unknown, revoked or lacks the role */
  auth: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line on stderr and turns into an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly code?: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT.apiOrUsage, 'cli.usage');
}
