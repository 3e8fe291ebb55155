/**
 * The projection thread of the service: folds the log into the read models with a store
 * connection of its own, so that neither the projections' work nor their commits' fsync
 * holds up the thread that answers requests. Told what to do by `readModelsThread.ts`;
 * reports its health after every change, and sends its log lines to the service's logger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import type { EventStore } from '../eventStore/eventStore.ts';
import { openStoreAt } from '../eventStore/storeLocation.ts';
import { lowerThreadPriority } from '../workers/moduleWorker.ts';
import { openReadModels, type ReadModels } from './readModels.ts';
import {
  type FromProjector,
  type ProjectorData,
  serializeError,
  type ToProjector,
} from './threadMessages.ts';

if (parentPort === null) throw new Error('readModelsWorker.ts runs as the projection thread of the service');
const port = parentPort;
// Background work: on busy cores the request thread goes first (the read models may lag a
// little more; status reads, which come from the aggregate, never wait for them).
lowerThreadPriority(10);
const data = workerData as ProjectorData;
const send = (message: FromProjector) => port.postMessage(message);

const logger = pino(
  { level: data.logLevel, base: null },
  { write: (line: string) => send({ type: 'log', line }) },
);
/*
 * Opened before any message is handled: messages wait for it, in the order they came. The
 * bundle the service runs compiled is CommonJS, which has no top-level await. A store that
 * cannot be opened ends the thread with that error, which the service reports and retries.
 */
const opened = openStoreAt(data.location).then((store) => {
  let healthQueued = false;
  const readModels = openReadModels({
    dataDir: data.dataDir,
    store,
    logger,
    fileName: data.fileName,
    role: data.role,
    ...(data.batchSize ? { batchSize: data.batchSize } : {}),
    ...(data.retryDelayMs ? { retryDelayMs: data.retryDelayMs } : {}),
    // One report per turn of the loop, however many batches it committed.
    onHealthChanged() {
      if (healthQueued) return;
      healthQueued = true;
      setImmediate(() => {
        healthQueued = false;
        send({ type: 'health', health: readModels.health() });
      });
    },
  });
  return { store, readModels };
});

port.on('message', (message: ToProjector) => {
  void opened.then(({ store, readModels }) => handle(message, store, readModels));
});

function handle(message: ToProjector, store: EventStore, readModels: ReadModels): void {
  switch (message.type) {
    case 'start':
      readModels.start().then(
        () => send({ type: 'started' }),
        (error: unknown) => send({ type: 'start-failed', error: serializeError(error) }),
      );
      return;
    case 'rebuild':
      readModels
        .rebuild(message.name, (applied, total) => send({ type: 'progress', id: message.id, applied, total }))
        .then(
          () => send({ type: 'rebuilt', id: message.id }),
          (error: unknown) => send({ type: 'rebuild-failed', id: message.id, error: serializeError(error) }),
        );
      return;
    case 'store-answered':
      readModels.storeAnswered();
      return;
    case 'stop':
      void (async () => {
        try {
          await readModels.stop();
        } finally {
          await store.close();
          send({ type: 'stopped' });
          port.close();
        }
      })();
      return;
    default:
      // The two sides are out of step: stop, as on any error, rather than guess.
      throw new Error(
        `the projection thread got a message it does not understand: ${JSON.stringify(message)}`,
      );
  }
}
