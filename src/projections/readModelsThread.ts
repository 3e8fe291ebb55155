import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { EventStore } from '../eventStore/eventStore.ts';
import type { StoreLocation } from '../eventStore/storeLocation.ts';
import type { UserKeys } from '../keys/userKeys.ts';
import { siblingModule, startModuleWorker } from '../workers/moduleWorker.ts';
import { CaughtUpSignal } from './caughtUpSignal.ts';
import { readStatuses } from './checkpointStore.ts';
import type { RunnerHealth } from './projectionRunner.ts';
import {
  openReadModelsFile,
  PROJECTIONS,
  READ_MODELS_FILE,
  type ReadModels,
  readModelQueries,
} from './readModels.ts';
import type { RunnerFailure } from './runnerFailures.ts';
import {
  deserializeError,
  type FromProjector,
  type ProjectorData,
  type SerializedError,
  type ToProjector,
} from './threadMessages.ts';

export type ReadModelsThreadOptions = {
  readonly dataDir: string;
  /** the log as this thread reads it: for `status()`, which counts what is behind */
  readonly store: EventStore;
  /** the same log, for the projection thread to open a connection of its own */
  readonly location: StoreLocation;
  /** the users' data keys, to open the personal fields the read models keep sealed */
  readonly keys?: UserKeys;
  readonly logger?: Logger;
  /** default `read-models.sqlite` */
  readonly fileName?: string;
  /** who takes the lock, as shown to a process it refuses; default `service` */
  readonly role?: string;
  /** first wait before retrying after a failure; default 500 ms */
  readonly retryDelayMs?: number;
  readonly batchSize?: number;
  /** for tests: told of each projection thread started */
  readonly onThreadStarted?: (worker: Worker) => void;
};

/**
 * The projection thread's young generation, in MB. V8 grows it to 48 MB under a steady
 * stream of short-lived objects (each event decoded, folded and written is one), and keeps
 * it: for the projections' batches a small one is as quick and holds far less.
 */
const PROJECTION_YOUNG_GENERATION_MB = 8;

/** Longest wait before a projection thread that stopped unasked is started again. */
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * The read models with their projections in a thread of their own (`readModelsWorker.ts`):
 * the service's request thread never runs a projection nor waits for the read models'
 * commits. Queries run here, on a connection of their own (WAL readers never wait for the
 * projection's writes); health, readiness and `caughtUp()` follow what the thread reports
 * after each change. A thread that stops unasked shows as failing (readiness turns 503
 * after the tolerance) and is started again, with a growing delay, until `stop()`.
 *
 * Read-your-writes is not among its promises: the status a user's own request reads comes
 * from the aggregate, never from here; these lag the log by a commit or two.
 */
export function openReadModelsThread(options: ReadModelsThreadOptions): ReadModels {
  const fileName = options.fileName ?? READ_MODELS_FILE;
  const db = openReadModelsFile(options.dataDir, fileName);
  db.pragma('query_only = ON');
  const names = PROJECTIONS.map((projection) => projection.name);
  const data: ProjectorData = {
    location: options.location,
    dataDir: options.dataDir,
    fileName,
    role: options.role ?? 'service',
    logLevel: options.logger?.level ?? 'silent',
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
  };
  const retryDelayMs = options.retryDelayMs ?? 500;

  let health: RunnerHealth = {
    caughtUp: false,
    failing: null,
    failures: 0,
    positions: names.map((name) => ({ name, position: 0n })),
  };
  const caughtUp = new CaughtUpSignal();
  let worker: Worker | null = null;
  let state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  /** a thread that stopped unasked: since when the projections have been down, and why */
  let down: RunnerFailure | null = null;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | null = null;
  let nextRequest = 1;
  const requests = new Map<
    number,
    {
      resolve: () => void;
      reject: (error: Error) => void;
      progress?: (applied: number, total: number | null) => void;
    }
  >();
  let starting: { resolve: () => void; reject: (error: Error) => void } | null = null;

  const mirror = (next: RunnerHealth) => {
    health = next;
    if (next.caughtUp) caughtUp.settle();
    else caughtUp.reset();
  };

  const relayLog = (line: string) => {
    const logger = options.logger;
    if (!logger) return;
    try {
      const { level, msg, time: _time, ...fields } = JSON.parse(line) as Record<string, unknown>;
      const label = typeof level === 'number' ? logger.levels.labels[level] : undefined;
      if (label === undefined) return;
      (logger as unknown as Record<string, (object: unknown, message?: unknown) => void>)[label]?.(
        { ...fields, thread: 'projections' },
        msg,
      );
    } catch {
      // A line that is not JSON is no log record of the thread's.
    }
  };

  function spawn(): Worker {
    const thread = startModuleWorker(siblingModule(import.meta.url, 'readModelsWorker'), {
      workerData: data,
      resourceLimits: { maxYoungGenerationSizeMb: PROJECTION_YOUNG_GENERATION_MB },
    });
    worker = thread;
    const send = (message: ToProjector) => thread.postMessage(message);
    thread.on('message', (message: FromProjector) => {
      switch (message.type) {
        case 'started':
          down = null;
          restarts = 0;
          starting?.resolve();
          starting = null;
          return;
        case 'start-failed':
          starting?.reject(deserializeError(message.error));
          starting = null;
          send({ type: 'stop' });
          return;
        case 'health':
          mirror(down === null ? message.health : { ...message.health, failing: down });
          return;
        case 'progress':
          requests.get(message.id)?.progress?.(message.applied, message.total);
          return;
        case 'rebuilt':
        case 'rebuild-failed': {
          const request = requests.get(message.id);
          requests.delete(message.id);
          if (message.type === 'rebuilt') request?.resolve();
          else request?.reject(deserializeError(message.error as SerializedError));
          return;
        }
        case 'log':
          relayLog(message.line);
          return;
        case 'stopped':
          return;
      }
    });
    let error: unknown;
    thread.on('error', (cause) => {
      error = cause;
    });
    thread.on('exit', (code) => {
      if (worker === thread) worker = null;
      const reason = `the projection thread stopped (${error instanceof Error ? error.message : `exit code ${code}`})`;
      for (const request of requests.values()) request.reject(new Error(reason));
      requests.clear();
      if (starting !== null) {
        starting.reject(new Error(reason));
        starting = null;
        return;
      }
      if (state !== 'running') return;
      options.logger?.error({ err: error }, `${reason}; starting it again`);
      down = { since: down?.since ?? Date.now(), reason, storeUnavailable: false };
      mirror({ ...health, failing: down, failures: health.failures + 1 });
      const delay = Math.min(retryDelayMs * 2 ** restarts, MAX_RESTART_DELAY_MS);
      restarts += 1;
      restartTimer = setTimeout(() => {
        restartTimer = null;
        if (state === 'running') void begin().catch(() => {});
      }, delay);
      restartTimer.unref();
    });
    options.onThreadStarted?.(thread);
    return thread;
  }

  /** Starts a thread and its runner; rejects as the runner's start does (the lock, a newer version). */
  function begin(): Promise<void> {
    const thread = spawn();
    return new Promise<void>((resolve, reject) => {
      starting = { resolve, reject };
      thread.postMessage({ type: 'start' } satisfies ToProjector);
    });
  }

  let stopped: Promise<void> | null = null;
  return {
    names,
    async start() {
      if (state !== 'idle') return;
      state = 'running';
      try {
        await begin();
      } catch (error) {
        state = 'idle';
        throw error;
      }
    },
    caughtUp: () => caughtUp.wait(),
    isCaughtUp: () => health.caughtUp,
    health: () => health,
    storeAnswered() {
      worker?.postMessage({ type: 'store-answered' } satisfies ToProjector);
    },
    status: () => readStatuses(db, options.store, PROJECTIONS),
    async rebuild(name, onProgress) {
      if (name !== undefined && !names.includes(name)) {
        throw new RangeError(`no projection named ${name}; known: ${names.join(', ')}`);
      }
      if (worker === null) throw new Error('the read models are not started');
      const id = nextRequest++;
      const done = new Promise<void>((resolve, reject) => {
        requests.set(id, { resolve, reject, ...(onProgress ? { progress: onProgress } : {}) });
      });
      worker.postMessage({
        type: 'rebuild',
        id,
        ...(name === undefined ? {} : { name }),
      } satisfies ToProjector);
      await done;
    },
    stop() {
      stopped ??= (async () => {
        state = 'stopping';
        if (restartTimer !== null) clearTimeout(restartTimer);
        const thread = worker;
        try {
          if (thread !== null) {
            const ended = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
            thread.postMessage({ type: 'stop' } satisfies ToProjector);
            await ended;
          }
        } finally {
          state = 'stopped';
          if (!health.caughtUp) caughtUp.fail(new Error('the projection runner stopped before catching up'));
          db.close();
        }
      })();
      return stopped;
    },
    ...readModelQueries(db, options.keys),
  };
}
