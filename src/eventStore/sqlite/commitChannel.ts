import { BroadcastChannel } from 'node:worker_threads';

/**
 * Where a commit to an event log file is announced to every thread of this process: the
 * writer thread posts after each commit, and the stores that follow the file (the
 * projections' in their own thread) wake their subscriptions at once instead of at their
 * next poll. Other processes still find new events by polling.
 */
export const commitChannel = (filePath: string): BroadcastChannel =>
  new BroadcastChannel(`two-factor-event-log:${filePath}`);
