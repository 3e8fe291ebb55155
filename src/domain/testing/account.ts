import { DomainRejection, type RejectionCode } from '../shared/domainError.ts';
import type { CommandMetadata } from '../shared/message.ts';
import type {
  OpenedAuthenticator,
  Proof,
  RecoveryCodeProof,
  TotpProof,
  TwoFactorCommand,
} from '../twoFactor/commands.ts';
import { decide } from '../twoFactor/decide.ts';
import type { EncryptedSecret } from '../twoFactor/encryptedSecret.ts';
import type { EnrollmentRequirement } from '../twoFactor/enrollmentDeadline.ts';
import type { TwoFactorEvent } from '../twoFactor/events.ts';
import { evolve } from '../twoFactor/evolve.ts';
import type { Factor } from '../twoFactor/lockout.ts';
import { type Outcome, outcomeOf } from '../twoFactor/outcome.ts';
import { initialState, type TwoFactorState } from '../twoFactor/state.ts';
import { SECOND, SteppedClock, T0 } from './clock.ts';
import {
  addAuthenticator,
  confirmAuthenticator,
  confirmEnrollment,
  countRefusedAttempts,
  disableTwoFactor,
  eraseUser,
  regenerateRecoveryCodes,
  removeAuthenticator,
  renameAuthenticator,
  resealSecrets,
  resetTwoFactor,
  startEnrollment,
  totpProof,
  unlockFactor,
  verifySignIn,
} from './commands.ts';
import { type IssuedRecoveryCodes, issueRecoveryCodes, recoveryCodeProof } from './recoveryCodes.ts';
import { recordEnrollmentDeadline } from './requirement.ts';
import { openSecret, sealSecret } from './secrets.ts';
import { codeAt, wrongCodeAt } from './totpCodes.ts';

export type Attempt =
  | { readonly rejected: null; readonly events: readonly TwoFactorEvent[]; readonly outcome: Outcome }
  | { readonly rejected: RejectionCode; readonly events: readonly []; readonly outcome: null };

/**
 * One user's 2FA account driven the way the command handler drives it: load, prepare what
 * is random or secret (new secrets, recovery-code sets, the decrypted secret, the digest of
 * a presented code), decide, append, evolve. For flows and property tests.
 */
export class TwoFactorAccount {
  readonly clock: SteppedClock;
  private readonly history: TwoFactorEvent[] = [];
  private current: TwoFactorState = initialState();
  private setsIssued = 0;
  private readonly issued: IssuedRecoveryCodes[] = [];

  constructor(
    nowMs: number = T0,
    private readonly label = 'account',
  ) {
    this.clock = new SteppedClock(nowMs);
  }

  get state(): TwoFactorState {
    return this.current;
  }

  get events(): readonly TwoFactorEvent[] {
    return this.history;
  }

  get nowMs(): number {
    return this.clock.nowMs;
  }

  advance(ms: number): this {
    this.clock.advance(ms);
    return this;
  }

  /** Decides and records; a DomainRejection is returned as `rejected`, with nothing recorded. */
  run(command: TwoFactorCommand): Attempt {
    let events: readonly TwoFactorEvent[];
    try {
      events = decide(command, this.current);
    } catch (error) {
      if (error instanceof DomainRejection) return { rejected: error.code, events: [], outcome: null };
      throw error;
    }
    for (const event of events) {
      this.history.push(event);
      this.current = evolve(this.current, event);
    }
    return { rejected: null, events, outcome: outcomeOf(events) };
  }

  /** A fresh set of ten codes, as the handler generates before deciding. */
  newRecoveryCodes(): IssuedRecoveryCodes {
    this.setsIssued += 1;
    const issued = issueRecoveryCodes(`${this.label} set ${this.setsIssued}`);
    this.issued.push(issued);
    return issued;
  }

  /** The plaintext codes of the set the account holds now, or null. */
  codesInForce(): IssuedRecoveryCodes | null {
    const salt = this.current.recoveryCodes?.set.salt;
    return this.issued.find((issued) => issued.set.salt === salt) ?? null;
  }

  /** Every set issued so far, accepted or not, in order. */
  issuedSets(): readonly IssuedRecoveryCodes[] {
    return this.issued;
  }

  /** The first confirmed authenticator's secret (the only one, unless more were added). */
  activeSecret(): string | null {
    const first = this.current.authenticators[0];
    return first === undefined ? null : openSecret(first.secret);
  }

  /** One confirmed authenticator's secret, by id. */
  secretOf(authenticatorId: string): string {
    const found = this.current.authenticators.find(({ id }) => id === authenticatorId);
    if (found === undefined) throw new Error(`no authenticator ${authenticatorId}`);
    return openSecret(found.secret);
  }

  /** Every confirmed authenticator's secret, opened, as the handler opens them for a check. */
  openedSecrets(): readonly OpenedAuthenticator[] {
    return this.current.authenticators.map((a) => ({
      authenticatorId: a.id,
      secretBase32: openSecret(a.secret),
    }));
  }

  pendingSecret(): string | null {
    return this.current.pending === null ? null : openSecret(this.current.pending.secret);
  }

  /** The code the active authenticator shows now (or `stepOffset` steps away). */
  currentCode(stepOffset = 0): string {
    const secret = this.activeSecret();
    if (secret === null) throw new Error('no active authenticator');
    return codeAt(secret, this.nowMs, stepOffset);
  }

  totp(code: string): TotpProof {
    return totpProof(code, this.openedSecrets());
  }

  /** Starts adding `secretBase32` as one more authenticator, proven with `proof`. */
  add(authenticatorId: string, secretBase32: string, proof: Proof, name = 'Backup phone'): Attempt {
    return this.run(
      addAuthenticator({
        nowMs: this.nowMs,
        authenticatorId,
        name,
        newSecret: sealSecret(secretBase32),
        proof,
      }),
    );
  }

  /** Confirms an added authenticator with `code`, by default the code it shows now. */
  confirmAdded(authenticatorId: string, code?: string): Attempt {
    const pendingSecretBase32 = this.pendingSecret();
    const presented =
      code ?? (pendingSecretBase32 === null ? '000000' : codeAt(pendingSecretBase32, this.nowMs));
    return this.run(
      confirmAuthenticator({ nowMs: this.nowMs, authenticatorId, code: presented, pendingSecretBase32 }),
    );
  }

  rename(authenticatorId: string, name: string): Attempt {
    return this.run(renameAuthenticator({ nowMs: this.nowMs, authenticatorId, name }));
  }

  remove(authenticatorId: string, proof: Proof, requireTwoFactor = false): Attempt {
    return this.run(removeAuthenticator({ nowMs: this.nowMs, authenticatorId, proof, requireTwoFactor }));
  }

  recovery(code: string): RecoveryCodeProof {
    return recoveryCodeProof(this.current.recoveryCodes?.set ?? null, code);
  }

  start(secretBase32: string, proof: Proof | null = null): Attempt {
    return this.run(startEnrollment({ nowMs: this.nowMs, newSecret: sealSecret(secretBase32), proof }));
  }

  /** Confirms with `code`, by default the code the pending authenticator shows now. */
  confirm(code?: string): Attempt {
    const pendingSecretBase32 = this.pendingSecret();
    const presented =
      code ?? (pendingSecretBase32 === null ? '000000' : codeAt(pendingSecretBase32, this.nowMs));
    return this.run(
      confirmEnrollment({
        nowMs: this.nowMs,
        code: presented,
        pendingSecretBase32,
        newRecoveryCodes: this.newRecoveryCodes().set,
      }),
    );
  }

  /** Enrolls and confirms `secretBase32`; returns the codes the user was shown. */
  enable(secretBase32: string): IssuedRecoveryCodes {
    this.start(secretBase32);
    this.advance(20_000);
    const confirmed = this.confirm();
    const codes = this.codesInForce();
    if (confirmed.rejected !== null || confirmed.outcome.kind !== 'accepted' || codes === null) {
      throw new Error('enable did not enable');
    }
    return codes;
  }

  /**
   * Fails `times` sign-ins in a row with wrong codes of one factor — a wrong code of the active
   * authenticator, or a recovery code of no set — a second apart, waiting out each lock first.
   */
  failInARow(factor: Factor, times: number): this {
    for (let n = 0; n < times; n++) {
      const until = this.current.lockouts[factor].lockedUntilMs;
      if (until !== null && until > this.nowMs) this.advance(until - this.nowMs);
      this.advance(SECOND);
      const secret = this.activeSecret();
      this.signIn(
        factor === 'app' && secret !== null
          ? this.totp(wrongCodeAt(secret, this.nowMs))
          : this.recovery('zzzzz-zzzzz'),
      );
    }
    return this;
  }

  /** A sign-in's second step, made from `metadata` (the web API's, by default). */
  signIn(proof: Proof, metadata?: CommandMetadata): Attempt {
    return this.run(verifySignIn({ nowMs: this.nowMs, proof, ...(metadata ? { metadata } : {}) }));
  }

  regenerate(proof: TotpProof): Attempt {
    return this.run(
      regenerateRecoveryCodes({ nowMs: this.nowMs, proof, newRecoveryCodes: this.newRecoveryCodes().set }),
    );
  }

  disable(proof: Proof, requireTwoFactor = false): Attempt {
    return this.run(disableTwoFactor({ nowMs: this.nowMs, proof, requireTwoFactor }));
  }

  reset(reason = 'user lost phone and codes'): Attempt {
    return this.run(resetTwoFactor({ nowMs: this.nowMs, reason }));
  }

  erase(reason = 'erasure request'): Attempt {
    return this.run(eraseUser({ nowMs: this.nowMs, reason }));
  }

  /** Seals the secrets in force anew (as `keys migrate` does), here under the test key again. */
  reseal(): Attempt {
    const again = (sealed: EncryptedSecret | undefined) =>
      sealed === undefined ? null : sealSecret(openSecret(sealed));
    return this.run(
      resealSecrets({
        nowMs: this.nowMs,
        authenticator: again(this.current.authenticators[0]?.secret),
        pending: again(this.current.pending?.secret),
      }),
    );
  }

  unlock(): Attempt {
    return this.run(unlockFactor({ nowMs: this.nowMs }));
  }

  /** Records refusals counted since `firstAtMs`, as the handler does once a lock ends. */
  countRefused(
    attempts: number,
    firstAtMs: number,
    lockedUntil: string | null = null,
    factor: Factor = 'app',
  ): Attempt {
    return this.run(countRefusedAttempts({ nowMs: this.nowMs, factor, attempts, firstAtMs, lockedUntil }));
  }

  /** The service sees the user (a status read) under `requirement`, as the handler does. */
  see(requirement: EnrollmentRequirement | null): Attempt {
    return this.run(recordEnrollmentDeadline({ nowMs: this.nowMs, requirement }));
  }
}
