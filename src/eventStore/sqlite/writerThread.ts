import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../../workers/moduleWorker.ts';
import { StoreUnavailableError } from '../eventStore.ts';
import type { PreparedAppend } from './preparedAppend.ts';
import type { BatchReply, FromWriter, ToWriter, WriterData } from './writerMessages.ts';

type Waiting = { readonly resolve: (value: unknown) => void; readonly reject: (error: unknown) => void };

/** For tests: told of each writer thread started, e.g. to stop it and see how appends fare. */
export type WriterObserver = (worker: Worker) => void;

/**
 * The store's side of its writer thread (`sqliteWriterWorker.ts`): started on the first
 * append, sent one batch at a time. If the thread dies — an error, a crash, terminated — every
 * batch it had not answered fails with StoreUnavailableError: whether it was committed is not
 * known, and the same events sent again (same ids) are written or acknowledged, never doubled.
 * The next batch starts a new thread.
 */
export class WriterThread {
  readonly #data: WriterData;
  readonly #observe: WriterObserver | undefined;
  #worker: Worker | null = null;
  #waiting = new Map<number, Waiting>();
  #nextId = 1;
  #closing: Promise<void> | null = null;
  /** why the last thread stopped unasked; null once one answers again */
  #failure: string | null = null;

  constructor(data: WriterData, observe?: WriterObserver) {
    this.#data = data;
    this.#observe = observe;
  }

  commit(items: readonly PreparedAppend[]): Promise<BatchReply> {
    return this.#ask((id) => ({ type: 'commit', id, items })) as Promise<BatchReply>;
  }

  /** Resolves once the writer thread answers (starting one if needed). */
  async ping(): Promise<void> {
    await this.#ask((id) => ({ type: 'ping', id }));
  }

  /** Why the last writer thread stopped unasked, while no new one has answered since. */
  get failure(): string | null {
    return this.#failure;
  }

  /** Closes the writer's connection and ends its thread, after what it was sent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const worker = this.#worker;
    if (worker === null) return;
    const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' } satisfies ToWriter);
    worker.ref();
    await ended;
  }

  #ask(message: (id: number) => ToWriter): Promise<unknown> {
    if (this.#closing !== null) {
      return Promise.reject(new StoreUnavailableError('the SQLite event store is closed'));
    }
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage(message(id));
    });
  }

  #start(): Worker {
    const worker = startModuleWorker(siblingModule(import.meta.url, 'sqliteWriterWorker'), {
      workerData: this.#data,
    });
    this.#worker = worker;
    worker.on('message', (message: FromWriter) => {
      if (message.type === 'committed' || message.type === 'pong') {
        this.#failure = null;
        const waiting = this.#waiting.get(message.id);
        this.#waiting.delete(message.id);
        waiting?.resolve(message.type === 'committed' ? message.reply : undefined);
      }
      // An idle writer does not keep the process alive; one with work (or closing) does.
      if (this.#waiting.size === 0 && this.#closing === null) worker.unref();
    });
    let error: unknown;
    worker.on('error', (cause) => {
      error = cause;
    });
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = null;
      if (this.#closing !== null && this.#waiting.size === 0) return;
      const reason = error instanceof Error ? error.message : `the writer thread exited with code ${code}`;
      this.#failure = reason;
      const failed = new StoreUnavailableError(
        `the SQLite event store's writer thread stopped (${reason}); an append it had not answered may or may not be stored`,
        { cause: error },
      );
      for (const waiting of this.#waiting.values()) waiting.reject(failed);
      this.#waiting.clear();
    });
    this.#observe?.(worker);
    return worker;
  }
}
