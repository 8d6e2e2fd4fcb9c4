import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Writable } from 'node:stream';

/** Flush COPY text to the connection in pieces of about this size. */
const FLUSH_CHARS = 256 * 1024;

/**
 * An UNLOGGED staging table filled with COPY over a raw `pg` connection (Prisma cannot COPY).
 * It is a real table, not a TEMP one, so that the upsert can run in a Prisma transaction next
 * to its audit row; `drop()` removes it whatever happened.
 */
export class StagingTable {
  readonly name: string;
  private copy?: Writable;
  private failure?: Error;
  private buffered: string[] = [];
  private bufferedChars = 0;

  private constructor(
    private readonly client: Client,
    readonly importId: string,
  ) {
    this.name = `users_import_${importId.replace(/-/g, '')}`;
  }

  static async open(databaseUrl: string): Promise<StagingTable> {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    const table = new StagingTable(client, randomUUID());
    try {
      await client.query(
        `CREATE UNLOGGED TABLE ${table.name} (id bigint NOT NULL, country text NOT NULL, platform text NOT NULL,
           app_version text NOT NULL, e2ee_capable boolean NOT NULL, attributes jsonb NOT NULL, line bigint NOT NULL)`,
      );
      table.copy = client.query(copyFrom(`COPY ${table.name} FROM STDIN`));
      // kept until the next write/finish, which rethrows it: an 'error' nobody listens to would crash the process
      table.copy.on('error', (err: Error) => {
        table.failure ??= err;
      });
      client.on('error', (err: Error) => {
        table.failure ??= err;
      });
    } catch (err) {
      await client.end();
      throw err;
    }
    return table;
  }

  /** Queues one COPY text line (synchronous; call `flushIfFull` between input chunks). */
  add(line: string): void {
    this.buffered.push(line);
    this.bufferedChars += line.length;
  }

  /** Hands buffered lines to the connection when enough piled up; waits while it is busy. */
  async flushIfFull(): Promise<void> {
    if (this.bufferedChars >= FLUSH_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.buffered.length === 0) return;
    const text = this.buffered.join('');
    this.buffered = [];
    this.bufferedChars = 0;
    if (!this.copy!.write(text)) await this.drained();
  }

  private async drained(): Promise<void> {
    const copy = this.copy!;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        copy.off('error', onError);
        resolve();
      };
      const onError = (err: Error) => {
        copy.off('drain', onDrain);
        reject(err);
      };
      copy.once('drain', onDrain);
      copy.once('error', onError);
    });
  }

  async finish(): Promise<number> {
    await this.flush();
    const copy = this.copy!;
    const done = once(copy, 'finish');
    copy.end();
    await done;
    return Number((copy as unknown as { rowCount: number }).rowCount);
  }

  /** Closes the raw connection (an unfinished COPY dies with it); the caller then drops the table. */
  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
