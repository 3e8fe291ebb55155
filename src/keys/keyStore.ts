/**
 * A user's data key as it is kept: wrapped (AES-256-GCM) by an instance key of
 * SECRET_ENCRYPTION_KEYS, beside the log and never in an event. The data key seals that
 * user's TOTP secrets and personal fields and derives the pepper of their recovery codes, so
 * destroying it erases all of them at once (crypto-shredding), and re-wrapping it under a
 * new instance key retires the old one without rewriting an event.
 */
export type WrappedDataKey = {
  readonly userId: string;
  /** random, never reused: what sealed values name, so a later key of the same user is told apart */
  readonly dataKeyId: string;
  /** the instance key it is wrapped by */
  readonly wrappingKeyId: string;
  /** base64 of nonce (12 bytes), ciphertext (32 bytes) and tag (16 bytes) */
  readonly wrapped: string;
  /** ISO time the data key was made */
  readonly createdAt: string;
};

/**
 * Where data keys live. One key per user at a time; both adapters (SQLite beside the events,
 * EventStoreDB a stream per user) pass the same contract suite (`test/keys/keyStoreContract.ts`).
 */
export interface KeyStore {
  /** the user's data key, or null when the user has none (never had one, or it was destroyed) */
  get(userId: string): Promise<WrappedDataKey | null>;
  /**
   * Keeps `key` unless the user already has a data key, and answers the one the user has now:
   * of two instances making a user's first key at once, both end up using the same one.
   */
  create(key: WrappedDataKey): Promise<WrappedDataKey>;
  /**
   * Replaces the wrapping of the user's data key `dataKeyId`, only while it is still wrapped
   * by `expectedWrappingKeyId`; false when it is not (destroyed, replaced or re-wrapped
   * meanwhile), so a rotation running beside the service never resurrects an erased key.
   */
  rewrap(
    userId: string,
    dataKeyId: string,
    expectedWrappingKeyId: string,
    next: { readonly wrappingKeyId: string; readonly wrapped: string },
  ): Promise<boolean>;
  /**
   * Destroys the user's data key so that no copy remains in the store's files once this
   * resolves (see each adapter for what that takes); true when there was one.
   */
  destroy(userId: string): Promise<boolean>;
  /**
   * Every user's data key once, in no promised order; for rotation and status. A store that
   * cannot be reached rejects with the event store port's `StoreUnavailableError`.
   */
  all(): AsyncIterable<WrappedDataKey>;
  close(): Promise<void>;
}

/** For tests and tools: the contract in memory. */
export function createInMemoryKeyStore(): KeyStore {
  const keys = new Map<string, WrappedDataKey>();
  return {
    get: async (userId) => keys.get(userId) ?? null,
    async create(key) {
      const existing = keys.get(key.userId);
      if (existing) return existing;
      keys.set(key.userId, { ...key });
      return key;
    },
    async rewrap(userId, dataKeyId, expectedWrappingKeyId, next) {
      const existing = keys.get(userId);
      if (existing?.dataKeyId !== dataKeyId || existing.wrappingKeyId !== expectedWrappingKeyId) return false;
      keys.set(userId, { ...existing, ...next });
      return true;
    },
    destroy: async (userId) => keys.delete(userId),
    async *all() {
      yield* [...keys.values()];
    },
    close: async () => {},
  };
}
