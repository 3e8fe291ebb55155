import { randomBytes, randomUUID } from 'node:crypto';
import { Secret } from 'otpauth';
import type { RecoveryCodeHasher } from '../crypto/recoveryCodeHasher.ts';
import {
  decidePolicy,
  evolvePolicy,
  initialPolicyState,
  POLICY_STREAM,
  type PolicyState,
  requirementOf,
} from '../domain/policy/policy.ts';
import { FactorLockedRejection } from '../domain/shared/domainError.ts';
import type { AnyEvent, CommandMetadata } from '../domain/shared/message.ts';
import {
  confirmationIsChecked,
  disableProofIsChecked,
  removalProofIsChecked,
} from '../domain/twoFactor/attemptChecks.ts';
import {
  DEFAULT_AUTHENTICATOR_NAME,
  normaliseAuthenticatorName,
} from '../domain/twoFactor/authenticatorNames.ts';
import type { ConfirmEnrollment, RegenerateRecoveryCodes, TotpProof } from '../domain/twoFactor/commands.ts';
import { decide } from '../domain/twoFactor/decide.ts';
import { twoFactorStreamName } from '../domain/twoFactor/decider.ts';
import type { EncryptedSecret } from '../domain/twoFactor/encryptedSecret.ts';
import { deadlineIsDue } from '../domain/twoFactor/enrollmentDeadline.ts';
import type { SeenThrough, TwoFactorEvent } from '../domain/twoFactor/events.ts';
import { evolve } from '../domain/twoFactor/evolve.ts';
import {
  type Authenticator,
  initialState,
  recoveryCodesRemaining,
  type TwoFactorState,
} from '../domain/twoFactor/state.ts';
import { type TwoFactorStatus, twoFactorStatus } from '../domain/twoFactor/status.ts';
import { TOTP_SECRET_BYTES } from '../domain/twoFactor/totp.ts';
import type { EventStore } from '../eventStore/eventStore.ts';
import {
  hasPlaintextPersonalFields,
  type PersonalFieldKind,
  plaintextPersonalFields,
  sealPersonalFields,
} from '../keys/personalFields.ts';
import { isDataKeyId, type UserKeyring, type UserKeys } from '../keys/userKeys.ts';
import type { SnapshotStore } from '../snapshots/snapshotStore.ts';
import { policyKind, twoFactorKind } from './aggregates.ts';
import { handleCommand } from './commandHandler.ts';
import { enrollmentUri } from './enrollmentUri.ts';
import { lockedError, rethrowRejection, throwUnlessAccepted } from './errors.ts';
import { createKeyedMutex } from './keyedMutex.ts';
import { type KeyUse, keyUseOf } from './keyUse.ts';
import {
  type AttemptContext,
  decideIssuingCodes,
  digestAhead,
  type EarlyDigest,
  type IsChecked,
  type PresentedCode,
  prepareProof,
  presentedMethod,
} from './proofs.ts';
import { countRefusals, createRefusalTally, type Tally } from './refusalTally.ts';
import { createRepository, type RepositoryOptions } from './repository.ts';

export type { KeyUse } from './keyUse.ts';
export type { AttemptContext, PresentedCode } from './proofs.ts';

export type TwoFactorServiceDeps = {
  readonly store: EventStore;
  readonly snapshots: SnapshotStore;
  /** the users' data keys: they seal secrets and personal fields, and pepper recovery codes */
  readonly keys: UserKeys;
  readonly hasher: RecoveryCodeHasher;
  /** epoch milliseconds; tests hand in their own clock */
  readonly clock: () => number;
  readonly issuer: string;
  readonly repository?: RepositoryOptions;
  /** told of every event appended, e.g. to count verifications and lockouts */
  readonly onAppended?: (events: readonly AnyEvent[]) => void;
  /** told when counted refusals could not be recorded yet (they are kept and tried again) */
  readonly onBackgroundError?: (error: unknown) => void;
};

/** How often counted refusals whose lock has ended are recorded, when nothing else records them. */
export const REFUSAL_COUNT_SWEEP_MS = 5_000;

export type PolicyView = PolicyState;

/** One of a user's authenticators as the contract shows it: never its secret. */
export type AuthenticatorView = {
  readonly id: string;
  readonly name: string;
  readonly addedAt: string;
  readonly lastUsedAt: string | null;
};

const authenticatorView = (a: Authenticator): AuthenticatorView => ({
  id: a.id,
  name: a.name,
  addedAt: new Date(a.addedAtMs).toISOString(),
  lastUsedAt: a.lastUsedAtMs === null ? null : new Date(a.lastUsedAtMs).toISOString(),
});

/** The authenticator as the state holds it after a command that keeps it. */
function viewOf(state: TwoFactorState, authenticatorId: string): AuthenticatorView {
  const found = state.authenticators.find(({ id }) => id === authenticatorId);
  if (found === undefined)
    throw new Error(`authenticator ${authenticatorId} is not in the state it was decided into`);
  return authenticatorView(found);
}

/**
 * Whether a stored event holds a name the user gave one of their authenticators: a label
 * kept in the event as it is (not sealed, so that the decider can keep names apart), which an
 * erasure therefore does not reach. The default name says nothing about anyone.
 */
function namesAnAuthenticatorItsUserNamed(event: { readonly data: unknown }): boolean {
  const data = event.data as { readonly name?: unknown; readonly previousName?: unknown };
  return [data.name, data.previousName].some(
    (name) => typeof name === 'string' && name !== DEFAULT_AUTHENTICATOR_NAME,
  );
}

/** A fresh 160-bit TOTP secret. */
const newTotpSecret = (): string =>
  // Copied into its own ArrayBuffer: a Buffer may be a view into a larger shared pool.
  new Secret({ buffer: new Uint8Array(randomBytes(TOTP_SECRET_BYTES)).buffer }).base32;

/** `auth_` and 16 hex digits: unique per user by chance alone (2^64), and never `auth_1`. */
const newAuthenticatorId = (): string => `auth_${randomBytes(8).toString('hex')}`;

/**
 * Who asked, when a status read does not say: the web role's read, with a correlation id of
 * its own, so the deadline it may record is still traceable to one request.
 */
const unattributedRead = (): CommandMetadata => {
  const id = randomUUID();
  return { correlationId: id, causationId: id, actor: { role: 'web', id: null } };
};

/** The status document under `policy`, at `nowMs`. */
const statusUnder = (userId: string, state: TwoFactorState, policy: PolicyState, nowMs: number) =>
  twoFactorStatus(userId, state, {
    nowMs,
    requireTwoFactor: policy.requireTwoFactor,
    requirement: requirementOf(policy),
  });

/**
 * The use cases of the contract. Each prepares what is random, timed or slow (new secrets,
 * decryption, argon2), hands it to the pure decider, and appends what it decides.
 *
 * About 400 lines, kept as one: every use case shares the same per-user path (lock, data
 * key, refusal counting, sealing, append), and each is only the few lines that differ. The
 * parts that stand alone live beside it: proofs, key use, refusal tally, errors.
 */
export function createTwoFactorService(deps: TwoFactorServiceDeps) {
  const users = createRepository(deps.store, twoFactorKind, deps.snapshots, deps.repository);
  const policies = createRepository(deps.store, policyKind, deps.snapshots, deps.repository);
  const mutex = createKeyedMutex();
  const refusals = createRefusalTally();

  /**
   * The events as the store keeps them: personal fields sealed with the user's data key. Once
   * a user was erased nothing makes them a new data key, until they enroll again: what is
   * recorded about them meanwhile (a count of refusals, an administrator's reset) holds no
   * personal field of theirs.
   */
  const sealedForStore = (events: readonly TwoFactorEvent[], keyring: UserKeyring, state: TwoFactorState) => {
    const enrolling = events.some((event) => event.type === 'EnrollmentStarted');
    const erased = state.erasedAtMs !== null || events.some((event) => event.type === 'UserErased');
    const createKey = enrolling || !erased;
    return Promise.all(events.map((event) => sealPersonalFields(event, keyring, { createKey })));
  };

  /** Records the refusals counted for a user as one event, on its own. */
  async function recordRefusals(userId: string): Promise<void> {
    const tally = refusals.take(userId);
    if (tally === undefined) return;
    try {
      const { events } = await handleCommand(users, mutex, twoFactorStreamName(userId), async (state) => ({
        events: await sealedForStore(
          countRefusals(userId, tally, state, deps.clock()),
          deps.keys.forUser(userId),
          state,
        ),
        result: null,
      }));
      deps.onAppended?.(events);
    } catch (error) {
      refusals.restore(userId, tally);
      throw error;
    }
  }

  const recordInBackground = (userId: string) =>
    recordRefusals(userId).catch((error: unknown) => deps.onBackgroundError?.(error));

  const sweep = setInterval(() => {
    for (const userId of refusals.due(deps.clock())) void recordInBackground(userId);
  }, REFUSAL_COUNT_SWEEP_MS);
  sweep.unref();

  /**
   * One command on a user's stream: decide with what `decideWith` prepares, seal the personal
   * fields of what it decided, append, count refusals. Each attempt (a conflict retries) reads
   * the user's data key afresh, so it never seals with a key destroyed meanwhile.
   */
  async function decideForUser<R>(
    userId: string,
    metadata: CommandMetadata,
    decideWith: (
      state: TwoFactorState,
      nowMs: number,
      keyring: UserKeyring,
    ) => Promise<{ events: readonly TwoFactorEvent[]; result: R }>,
  ) {
    // Refusals counted for this user are recorded ahead of whatever the user's next command
    // records (an unlock, a success, a reset…), so the log keeps their order.
    let counted: readonly Tally[] | undefined;
    try {
      const handled = await handleCommand(users, mutex, twoFactorStreamName(userId), async (state) => {
        const keyring = deps.keys.forUser(userId);
        const decided = await decideWith(state, deps.clock(), keyring);
        if (decided.events.length === 0) return decided;
        counted ??= refusals.take(userId);
        const events =
          counted === undefined
            ? decided.events
            : [...countRefusals(userId, counted, state, deps.clock()), ...decided.events];
        return { ...decided, events: await sealedForStore(events, keyring, state) };
      });
      deps.onAppended?.(handled.events);
      return handled;
    } catch (error) {
      if (counted !== undefined) refusals.restore(userId, counted);
      if (error instanceof FactorLockedRejection) {
        const crowded = refusals.add({
          userId,
          factor: error.factor,
          atMs: deps.clock(),
          lockedUntil: error.lockedUntil,
          metadata,
        });
        if (crowded !== null) void recordInBackground(crowded);
        throw lockedError(error.factor, error.lockedUntil);
      }
      rethrowRejection(error);
    }
  }

  async function currentPolicy(): Promise<PolicyState> {
    return (await policies.load(POLICY_STREAM)).state;
  }

  /**
   * The deadline of a user without 2FA whom the service sees now, while 2FA is required and
   * none is recorded for them in this period; nothing otherwise. The policy is read on every
   * attempt, so a retry after a conflict decides under the policy in force.
   */
  async function deadlineOnSight(
    userId: string,
    state: TwoFactorState,
    nowMs: number,
    seenThrough: Exclude<SeenThrough, 'reset'>,
    metadata: CommandMetadata,
  ): Promise<readonly TwoFactorEvent[]> {
    if (state.enabled) return [];
    const requirement = requirementOf(await currentPolicy());
    return decide(
      { type: 'RecordEnrollmentDeadline', data: { userId, nowMs, requirement, seenThrough }, metadata },
      state,
    );
  }

  /**
   * Where an attempt's hashing is shared from: the bucket the caller named, else the end-user
   * address recorded for it; attempts with neither share one.
   */
  const attemptContext = (metadata: CommandMetadata, context: AttemptContext): AttemptContext => ({
    workKey: context.workKey ?? (metadata.endUserIp === undefined ? undefined : `ip:${metadata.endUserIp}`),
  });

  /**
   * A presented recovery code hashed before the user's lock is taken: the wait for argon2 then
   * holds up no other command of the user (their TOTP code is checked meanwhile). The decision
   * itself still happens under the lock, on the state as it is then.
   */
  async function hashAhead(
    userId: string,
    presented: PresentedCode,
    context: AttemptContext,
    isChecked?: IsChecked,
  ): Promise<EarlyDigest | null> {
    if (!('recoveryCode' in presented)) return null;
    const { state } = await users.load(twoFactorStreamName(userId));
    return digestAhead(
      deps.hasher,
      deps.keys.forUser(userId),
      state,
      presented,
      deps.clock(),
      context,
      isChecked,
    );
  }

  return {
    /**
     * The status document of the contract. The first read of a user without 2FA while it is
     * required records their deadline (one event, under the user's lock and the stream's
     * expected revision, so racing first reads on any instance record it once); every other
     * read writes nothing.
     */
    async status(userId: string, metadata: CommandMetadata = unattributedRead()): Promise<TwoFactorStatus> {
      const [loaded, policy] = await Promise.all([users.load(twoFactorStreamName(userId)), currentPolicy()]);
      if (!deadlineIsDue(loaded.state, requirementOf(policy))) {
        return statusUnder(userId, loaded.state, policy, deps.clock());
      }
      const { after } = await decideForUser(userId, metadata, async (state, nowMs) => ({
        events: await deadlineOnSight(userId, state, nowMs, 'status', metadata),
        result: null,
      }));
      return statusUnder(userId, after.state, await currentPolicy(), deps.clock());
    },

    /** The status document without counting as seeing the user: for administrators' tools. */
    async peekStatus(userId: string): Promise<TwoFactorStatus> {
      const [loaded, policy] = await Promise.all([users.load(twoFactorStreamName(userId)), currentPolicy()]);
      return statusUnder(userId, loaded.state, policy, deps.clock());
    },

    async startEnrollment(
      userId: string,
      input: {
        readonly accountName: string;
        /** what the user calls this authenticator; "Authenticator app" when not given */
        readonly authenticatorName?: string;
        readonly proof: PresentedCode | null;
      },
      metadata: CommandMetadata,
      attempt: AttemptContext = {},
    ) {
      const context = attemptContext(metadata, attempt);
      const early = input.proof === null ? null : await hashAhead(userId, input.proof, context);
      const { events, result } = await decideForUser(userId, metadata, async (state, nowMs, keyring) => {
        const secretBase32 = newTotpSecret();
        const proof =
          input.proof === null
            ? null
            : await prepareProof(deps.hasher, keyring, state, input.proof, nowMs, undefined, {
                context,
                early,
              });
        const newSecret = await keyring.seal(secretBase32);
        // Built before anything is appended: if it cannot be built, nothing has happened.
        const otpauthUri = enrollmentUri({
          issuer: deps.issuer,
          accountName: input.accountName,
          secretBase32,
        });
        const decided = decide(
          {
            type: 'StartEnrollment',
            data: {
              userId,
              nowMs,
              authenticatorId: newAuthenticatorId(),
              name: normaliseAuthenticatorName(input.authenticatorName ?? DEFAULT_AUTHENTICATOR_NAME),
              newSecret,
              proof,
            },
            metadata,
          },
          state,
        );
        const seen = await deadlineOnSight(userId, state, nowMs, 'enrollment', metadata);
        return { events: [...seen, ...decided], result: { secretBase32, otpauthUri } };
      });
      throwUnlessAccepted(events);
      const started = events.find((e) => e.type === 'EnrollmentStarted');
      return {
        secret: result.secretBase32,
        otpauthUri: result.otpauthUri,
        expiresAt: started?.type === 'EnrollmentStarted' ? started.data.expiresAt : null,
        replacement: started?.type === 'EnrollmentStarted' ? started.data.replacement : false,
      };
    },

    async confirmEnrollment(userId: string, code: string, metadata: CommandMetadata) {
      const { events, result } = await decideForUser(userId, metadata, async (state, nowMs, keyring) => {
        const pendingSecretBase32 =
          confirmationIsChecked(state, nowMs) && state.pending
            ? await keyring.open(state.pending.secret)
            : null;
        const command: ConfirmEnrollment = {
          type: 'ConfirmEnrollment',
          data: { userId, nowMs, code, pendingSecretBase32, newRecoveryCodes: null },
          metadata,
        };
        return decideIssuingCodes(deps.hasher, command, state, keyring);
      });
      throwUnlessAccepted(events);
      return { status: 'enabled' as const, recoveryCodes: result };
    },

    async verify(
      userId: string,
      presented: PresentedCode,
      metadata: CommandMetadata,
      attempt: AttemptContext = {},
    ) {
      const context = attemptContext(metadata, attempt);
      const early = await hashAhead(userId, presented, context);
      const { events, after, result } = await decideForUser(
        userId,
        metadata,
        async (state, nowMs, keyring) => {
          const command = {
            type: 'VerifySignIn' as const,
            data: {
              userId,
              nowMs,
              proof: await prepareProof(deps.hasher, keyring, state, presented, nowMs, undefined, {
                context,
                early,
              }),
            },
            metadata,
          };
          try {
            return { events: decide(command, state), result: null };
          } catch (refusal) {
            // A sign-in attempt of a user without 2FA is refused, and still counts as seeing them.
            const seen = await deadlineOnSight(userId, state, nowMs, 'sign-in', metadata);
            if (seen.length === 0) throw refusal;
            return { events: seen, result: refusal };
          }
        },
      );
      if (result !== null) rethrowRejection(result);
      throwUnlessAccepted(events);
      const verified = events.find((event) => event.type === 'SignInVerified');
      return {
        verified: true as const,
        method: presentedMethod(presented),
        /** whose code it was; null for a recovery code */
        authenticatorId: verified?.type === 'SignInVerified' ? verified.data.authenticatorId : null,
        recoveryCodesRemaining: recoveryCodesRemaining(after.state),
      };
    },

    /**
     * The user's confirmed authenticators, oldest first. Reading them records nothing (unlike
     * a status read under "require 2FA"), so administrators' tools read them the same way.
     */
    async authenticators(userId: string): Promise<readonly AuthenticatorView[]> {
      const { state } = await users.load(twoFactorStreamName(userId));
      return state.authenticators.map(authenticatorView);
    },

    /**
     * Starts one more authenticator beside the enabled ones, proven with a current code of any
     * of them or a recovery code; pending until its first code confirms it.
     */
    async addAuthenticator(
      userId: string,
      input: { readonly name: string; readonly accountName: string; readonly proof: PresentedCode },
      metadata: CommandMetadata,
      attempt: AttemptContext = {},
    ) {
      const context = attemptContext(metadata, attempt);
      const early = await hashAhead(userId, input.proof, context);
      const name = normaliseAuthenticatorName(input.name);
      const { events, result } = await decideForUser(userId, metadata, async (state, nowMs, keyring) => {
        const secretBase32 = newTotpSecret();
        const otpauthUri = enrollmentUri({
          issuer: deps.issuer,
          accountName: input.accountName,
          secretBase32,
        });
        const proof = await prepareProof(deps.hasher, keyring, state, input.proof, nowMs, undefined, {
          context,
          early,
        });
        const command = {
          type: 'AddAuthenticator' as const,
          data: {
            userId,
            nowMs,
            authenticatorId: newAuthenticatorId(),
            name,
            newSecret: await keyring.seal(secretBase32),
            proof,
          },
          metadata,
        };
        return { events: decide(command, state), result: { secretBase32, otpauthUri } };
      });
      throwUnlessAccepted(events);
      const added = events.find((event) => event.type === 'AuthenticatorAdded');
      if (added?.type !== 'AuthenticatorAdded')
        throw new Error('an accepted addition records AuthenticatorAdded');
      return {
        authenticatorId: added.data.authenticatorId,
        name: added.data.name,
        secret: result.secretBase32,
        otpauthUri: result.otpauthUri,
        expiresAt: added.data.expiresAt,
      };
    },

    /** Confirms an added authenticator with its first code. */
    async confirmAuthenticator(
      userId: string,
      authenticatorId: string,
      code: string,
      metadata: CommandMetadata,
    ): Promise<AuthenticatorView> {
      const { events, after } = await decideForUser(userId, metadata, async (state, nowMs, keyring) => {
        const pending = state.pending;
        const pendingSecretBase32 =
          confirmationIsChecked(state, nowMs) && pending?.authenticatorId === authenticatorId
            ? await keyring.open(pending.secret)
            : null;
        const command = {
          type: 'ConfirmAuthenticator' as const,
          data: { userId, nowMs, authenticatorId, code, pendingSecretBase32 },
          metadata,
        };
        return { events: decide(command, state), result: null };
      });
      throwUnlessAccepted(events);
      return viewOf(after.state, authenticatorId);
    },

    /** Renames one of the user's authenticators: a label, so no proof. */
    async renameAuthenticator(
      userId: string,
      authenticatorId: string,
      name: string,
      metadata: CommandMetadata,
    ): Promise<AuthenticatorView> {
      const { after } = await decideForUser(userId, metadata, async (state, nowMs) => ({
        events: decide(
          {
            type: 'RenameAuthenticator',
            data: { userId, nowMs, authenticatorId, name: normaliseAuthenticatorName(name) },
            metadata,
          },
          state,
        ),
        result: null,
      }));
      return viewOf(after.state, authenticatorId);
    },

    /**
     * Removes one authenticator, proven with a code; the last one's removal disables 2FA (and
     * is refused, with no code checked, while the instance requires 2FA).
     */
    async removeAuthenticator(
      userId: string,
      authenticatorId: string,
      presented: PresentedCode,
      metadata: CommandMetadata,
      attempt: AttemptContext = {},
    ) {
      const context = attemptContext(metadata, attempt);
      const requiredNow = (await currentPolicy()).requireTwoFactor;
      const early = await hashAhead(userId, presented, context, (state, method, nowMs) =>
        removalProofIsChecked(state, authenticatorId, method, nowMs, requiredNow),
      );
      const { events, after } = await decideForUser(userId, metadata, async (state, nowMs, keyring) => {
        const { requireTwoFactor } = await currentPolicy();
        const proof = await prepareProof(
          deps.hasher,
          keyring,
          state,
          presented,
          nowMs,
          (s, method, now) => removalProofIsChecked(s, authenticatorId, method, now, requireTwoFactor),
          { context, early },
        );
        return {
          events: decide(
            {
              type: 'RemoveAuthenticator',
              data: { userId, nowMs, authenticatorId, proof, requireTwoFactor },
              metadata,
            },
            state,
          ),
          result: null,
        };
      });
      throwUnlessAccepted(events);
      return {
        status: after.state.enabled ? ('enabled' as const) : ('disabled' as const),
        authenticators: after.state.authenticators.length,
      };
    },

    async regenerateRecoveryCodes(userId: string, code: string, metadata: CommandMetadata) {
      const { events, result } = await decideForUser(userId, metadata, async (state, nowMs, keyring) => {
        const proof = (await prepareProof(deps.hasher, keyring, state, { code }, nowMs)) as TotpProof;
        const command: RegenerateRecoveryCodes = {
          type: 'RegenerateRecoveryCodes',
          data: { userId, nowMs, proof, newRecoveryCodes: null },
          metadata,
        };
        return decideIssuingCodes(deps.hasher, command, state, keyring);
      });
      throwUnlessAccepted(events);
      return { recoveryCodes: result };
    },

    async disable(
      userId: string,
      presented: PresentedCode,
      metadata: CommandMetadata,
      attempt: AttemptContext = {},
    ) {
      const context = attemptContext(metadata, attempt);
      const requiredNow = (await currentPolicy()).requireTwoFactor;
      const early = await hashAhead(userId, presented, context, (state, method, nowMs) =>
        disableProofIsChecked(state, method, nowMs, requiredNow),
      );
      const { events } = await decideForUser(userId, metadata, async (state, nowMs, keyring) => {
        // Read on every attempt, so a retry after a conflict sees a policy changed meanwhile.
        const { requireTwoFactor } = await currentPolicy();
        return {
          events: decide(
            {
              type: 'DisableTwoFactor',
              data: {
                userId,
                nowMs,
                requireTwoFactor,
                // Refused before any check when the policy requires 2FA: no slow work for it.
                proof: await prepareProof(
                  deps.hasher,
                  keyring,
                  state,
                  presented,
                  nowMs,
                  (s, method, now) => disableProofIsChecked(s, method, now, requireTwoFactor),
                  { context, early },
                ),
              },
              metadata,
            },
            state,
          ),
          result: null,
        };
      });
      throwUnlessAccepted(events);
      return { status: 'disabled' as const };
    },

    async reset(userId: string, reason: string, metadata: CommandMetadata) {
      await decideForUser(userId, metadata, async (state, nowMs) => {
        const requirement = requirementOf(await currentPolicy());
        return {
          events: decide(
            { type: 'ResetTwoFactor', data: { userId, nowMs, reason, requirement }, metadata },
            state,
          ),
          result: null,
        };
      });
      return { status: 'disabled' as const };
    },

    async unlock(userId: string, metadata: CommandMetadata) {
      const { after } = await decideForUser(userId, metadata, async (state, nowMs) => ({
        events: decide({ type: 'UnlockFactor', data: { userId, nowMs }, metadata }, state),
        result: null,
      }));
      return statusUnder(userId, after.state, await currentPolicy(), deps.clock());
    },

    async policy(): Promise<PolicyView> {
      return currentPolicy();
    },

    /**
     * The keys this user's stored secrets (the authenticator's, a pending one's) and recovery
     * codes (their pepper) depend on, and which of them the service cannot use: missing from
     * the configuration, or not the key they were sealed with.
     */
    async keyUse(userId: string): Promise<KeyUse> {
      const { state } = await users.load(twoFactorStreamName(userId));
      return keyUseOf(state, deps.keys.forUser(userId), deps.hasher);
    },

    /**
     * Erasure on request: destroys the user's data key, then records `UserErased`. Both run
     * under the user's lock and with the stream's expected revision, so a sign-in racing it
     * either lands before it (and is erased with the rest) or sees the user erased. If the
     * process stops between the two, the key is gone and the next erase records the event.
     * Refusals still counted in memory are dropped: their addresses are the user's.
     */
    async erase(userId: string, reason: string, metadata: CommandMetadata) {
      await decideForUser(userId, metadata, async (state, nowMs) => {
        refusals.take(userId);
        await deps.keys.erase(userId);
        return {
          events: decide({ type: 'EraseUser', data: { userId, nowMs, reason }, metadata }, state),
          result: null,
        };
      });
      // What no key's destruction reaches is said, not left to be believed otherwise: the user
      // id itself (it names the stream, and is in every event), and the personal fields that
      // events written before they were sealed hold in plain text.
      const retained = new Set<'userId' | 'authenticatorName' | PersonalFieldKind>(['userId']);
      let plaintextEvents = 0;
      for await (const event of deps.store.readStream(twoFactorStreamName(userId))) {
        for (const kind of plaintextPersonalFields(event)) retained.add(kind);
        if (namesAnAuthenticatorItsUserNamed(event)) retained.add('authenticatorName');
        if (hasPlaintextPersonalFields(event)) plaintextEvents++;
      }
      return {
        status: 'disabled' as const,
        erased: true as const,
        retained: [...retained],
        ...(plaintextEvents > 0 ? { eventsWrittenBeforeDataKeys: plaintextEvents } : {}),
      };
    },

    /**
     * Seals again under the user's data key the secrets in force that an instance key sealed
     * (written before data keys), so that instance key stops being needed for them. True when
     * something was sealed again.
     */
    async resealSecrets(userId: string, metadata: CommandMetadata): Promise<boolean> {
      const { events } = await decideForUser(userId, metadata, async (state, nowMs, keyring) => {
        const resealed = async (sealed: EncryptedSecret | undefined) =>
          sealed === undefined || isDataKeyId(sealed.keyId) ? null : keyring.seal(await keyring.open(sealed));
        const authenticators = [];
        for (const a of state.authenticators) {
          const secret = await resealed(a.secret);
          if (secret !== null) authenticators.push({ authenticatorId: a.id, secret });
        }
        return {
          events: decide(
            {
              type: 'ResealSecrets',
              data: {
                userId,
                nowMs,
                authenticators,
                pending: await resealed(state.pending?.secret),
              },
              metadata,
            },
            state,
          ),
          result: null,
        };
      });
      return events.length > 0;
    },

    /** Records every refusal still counted, and stops counting in the background; before the store closes. */
    async close(): Promise<void> {
      clearInterval(sweep);
      await Promise.all(refusals.users().map(recordInBackground));
    },

    /**
     * Sets the requirement and its grace period (default 0: enroll at the next sign-in). No
     * user's stream is written: every open deadline is computed from the policy in force.
     */
    async changePolicy(
      requireTwoFactor: boolean,
      metadata: CommandMetadata,
      options: { readonly gracePeriodHours?: number } = {},
    ): Promise<PolicyView> {
      const gracePeriodHours = options.gracePeriodHours ?? 0;
      const { after, events } = await handleCommand(policies, mutex, POLICY_STREAM, async (state) => ({
        events: decidePolicy(
          {
            type: 'ChangeTwoFactorRequirement',
            data: { requireTwoFactor, gracePeriodHours, nowMs: deps.clock() },
            metadata,
          },
          state,
        ),
        result: null,
      }));
      deps.onAppended?.(events);
      return after.state;
    },

    /**
     * The status document as it stood at `atMs`, rebuilt by folding the user's events and the
     * policy's up to that moment with the same `evolve` that decides today.
     */
    async statusAt(userId: string, atMs: number): Promise<TwoFactorStatus> {
      let state = initialState();
      for await (const { event } of users.readEvents(twoFactorStreamName(userId))) {
        if (Date.parse(event.data.at) > atMs) break;
        state = evolve(state, event);
      }
      let policyState = initialPolicyState();
      for await (const { event } of policies.readEvents(POLICY_STREAM)) {
        if (Date.parse(event.data.at) > atMs) break;
        policyState = evolvePolicy(policyState, event);
      }
      return statusUnder(userId, state, policyState, atMs);
    },
  };
}

export type TwoFactorService = ReturnType<typeof createTwoFactorService>;
