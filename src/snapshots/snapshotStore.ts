/**
 * A saved fold of a stream up to a revision, so loading an aggregate costs the events since
 * the snapshot, not its whole history. A snapshot is only a cache: it is checked against the
 * stream (read from the revision after it) and ignored when its state version is stale.
 */
export type Snapshot = {
  readonly streamName: string;
  readonly revision: bigint;
  readonly lastHash: string;
  readonly stateVersion: number;
  readonly state: unknown;
};

export interface SnapshotStore {
  load(streamName: string): Promise<Snapshot | null>;
  save(snapshot: Snapshot): Promise<void>;
}

export function createInMemorySnapshotStore(): SnapshotStore {
  const snapshots = new Map<string, Snapshot>();
  return {
    load: async (streamName) => snapshots.get(streamName) ?? null,
    save: async (snapshot) => {
      snapshots.set(snapshot.streamName, structuredClone(snapshot));
    },
  };
}
