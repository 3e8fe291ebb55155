/**
 * The writer thread of a SQLite event store: owns the connection that writes, commits the
 * batches the store sends, one at a time, and announces each commit to the process.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { commitChannel } from './commitChannel.ts';
import { openSqliteWriter } from './sqliteWriter.ts';
import type { FromWriter, ToWriter, WriterData } from './writerMessages.ts';

const port = parentPort;
if (port === null) throw new Error('sqliteWriterWorker.ts runs as a worker thread of the event store');
const { filePath, busyTimeoutMs } = workerData as WriterData;
const writer = openSqliteWriter(filePath, busyTimeoutMs);
const commits = commitChannel(filePath);
const send = (message: FromWriter) => port.postMessage(message);

port.on('message', (message: ToWriter) => {
  switch (message.type) {
    case 'commit': {
      const reply = writer.commit(message.items);
      send({ type: 'committed', id: message.id, reply });
      if (reply.kind === 'committed') commits.postMessage(reply.lastAfter);
      return;
    }
    case 'ping':
      send({ type: 'pong', id: message.id });
      return;
    case 'close':
      writer.close();
      commits.close();
      send({ type: 'closed' });
      port.close();
      return;
    default:
      // The two sides are out of step: stop, as on any error, rather than guess. The store
      // fails what this writer had not answered and starts another.
      throw new Error(`the writer got a message it does not understand: ${JSON.stringify(message)}`);
  }
});
send({ type: 'ready' });
