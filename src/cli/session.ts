import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { createRuntime, openEventStore, prepareDataDir, type Runtime } from '../composition.ts';
import { type Config, loadConfig } from '../config/config.ts';
import type { CommandMetadata } from '../domain/shared/message.ts';
import type { EventStore } from '../eventStore/eventStore.ts';
import { createLogger } from '../observability/logger.ts';
import { CliError, EXIT } from './exitCodes.ts';

/** What a command writes to and reads from; the real process's in `main.ts`. */
export type CliIo = {
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  /** epoch milliseconds, for progress rates */
  readonly now: () => number;
};

/** The embedded store's file name under DATA_DIR (the SQLite adapter's default). */
const EMBEDDED_STORE_FILE = 'events.sqlite';

/**
 * One invocation's connection to the configured store, opened on first use (so `--help`
 * and usage errors never touch configuration) and closed once at the end.
 *
 * The command line opens the store directly, like the service does, so it works while the
 * HTTP service is stopped — the emergency path — and equally while it runs (SQLite in WAL
 * mode and EventStoreDB both take several processes).
 */
export class Session {
  /** one per invocation: every event an admin command causes carries it */
  readonly correlationId = randomUUID();
  #config: Config | undefined;
  #logger: Logger | undefined;
  #store: Promise<EventStore> | undefined;
  #runtime: Promise<Runtime> | undefined;

  constructor(
    private readonly io: CliIo,
    private readonly logLevel: string,
  ) {}

  config(): Config {
    this.#config ??= loadConfig(this.io.env);
    return this.#config;
  }

  /**
   * Diagnostics go to stderr (never stdout, which stays machine-readable), quiet unless
   * asked: the service's LOG_LEVEL is for a server, not for a command someone pipes.
   */
  logger(): Logger {
    this.#logger ??= createLogger(this.logLevel, pino.destination({ fd: 2, sync: true }));
    return this.#logger;
  }

  /** The event store alone: for reading the log, with no keys needed. */
  async store(): Promise<EventStore> {
    if (this.#runtime) return (await this.#runtime).store;
    this.#store ??= this.#open(() => openEventStore(this.config()));
    return this.#store;
  }

  /** The service over the store, for commands and for state as it stood. */
  /**
   * On EventStoreDB a destroyed key and a replaced wrapping are hidden, not gone, until the
   * next scavenge (docs/keys.md): what a command that removes them tells the operator.
   */
  scavengeNote(): string | null {
    return this.config().eventStoreConnectionString === null
      ? null
      : 'note: on EventStoreDB, replaced and destroyed keys stay in its files until a scavenge has run on every node (POST /admin/scavenge); run one now\n';
  }

  async runtime(): Promise<Runtime> {
    if (this.#store) throw new Error('open either the store or the runtime in one invocation');
    this.#runtime ??= this.#open(() =>
      createRuntime(this.config(), this.logger(), { generateCredentials: false }),
    );
    return this.#runtime;
  }

  /**
   * The audit context of an admin command: role `cli`, the administrator named by --actor,
   * and this invocation's correlation id, which is printed so the admin can quote it.
   */
  metadataFor(actorId: string): CommandMetadata {
    this.io.stderr.write(`twofactor: correlation id ${this.correlationId}\n`);
    return {
      correlationId: this.correlationId,
      causationId: this.correlationId,
      actor: { role: 'cli', id: actorId },
    };
  }

  async close(): Promise<void> {
    const runtime = this.#runtime;
    const store = this.#store;
    this.#runtime = undefined;
    this.#store = undefined;
    // One that failed to open has nothing to close; its error was reported by the command.
    await (await runtime?.catch(() => undefined))?.close();
    await (await store?.catch(() => undefined))?.close();
    this.#logger?.flush();
  }

  /**
   * Refuses to create an embedded store: a mistyped DATA_DIR would otherwise give an empty
   * log that "verifies", or an admin action recorded where the service never looks. The
   * service creates the store on its first start.
   */
  #open<T>(open: () => Promise<T>): Promise<T> {
    const config = this.config();
    if (config.eventStoreConnectionString === null) {
      const file = join(config.dataDir, EMBEDDED_STORE_FILE);
      if (!existsSync(file)) {
        throw new CliError(
          `no event store at ${file}: set DATA_DIR to the service's data directory ` +
            '(or EVENTSTORE_CONNECTION_STRING for EventStoreDB)',
          EXIT.failure,
        );
      }
    }
    prepareDataDir(config.dataDir);
    return open();
  }
}
