import { escapeUnsafeCharacters } from '../domain/shared/text.ts';

/**
 * Lines to a stream that may be a slow pipe or one that closes early (`| head`): a write
 * waits while the pipe is full, so a long export runs in constant memory, and a reader
 * that went away ends the export quietly instead of crashing it with EPIPE.
 */
export class LineOutput {
  #closed = false;

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', () => {
      // EPIPE or any other failure: nobody can read what follows.
      this.#closed = true;
    });
  }

  /** true once the reader went away; producers stop reading the log then. */
  get closed(): boolean {
    return this.#closed;
  }

  async line(text: string): Promise<void> {
    if (this.#closed) return;
    if (this.stream.write(`${text}\n`)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.once('drain', done);
      this.stream.once('error', done);
      this.stream.once('close', done);
    });
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Control characters (C0, DEL, C1) and bidirectional overrides as visible escapes: recorded
 * text must not drive a terminal, nor reorder what a person reads in it.
 */
export const printable = escapeUnsafeCharacters;
