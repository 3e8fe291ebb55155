import { describe, expect, it } from 'vitest';
import { TwoFactorAccount } from '../testing/account.ts';
import { MINUTE, SECOND, stepAt, T0 } from '../testing/clock.ts';
import {
  addAuthenticator,
  confirmAuthenticator,
  removeAuthenticator,
  renameAuthenticator,
  startEnrollment,
  totpProof,
  verifySignIn,
} from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import {
  authenticatorAdded,
  authenticatorConfirmed,
  authenticatorRemoved,
  authenticatorRenamed,
  FIRST,
  factorLocked,
  recoveryCodeConsumed,
  signInVerified,
  twoFactorDisabled,
  verificationFailed,
  verificationRefused,
} from '../testing/events.ts';
import {
  BACKUP,
  BACKUP_ADDED_AT,
  BACKUP_CONFIRMED_AT,
  enabled,
  lockedTemporarily,
  neverEnrolled,
  pendingLive,
  SEALED_A,
  SEALED_B,
  STEP_NOW,
  withBackupPhone,
} from '../testing/histories.ts';
import { CODES_1, recoveryCodeProof } from '../testing/recoveryCodes.ts';
import { sealSecret } from '../testing/secrets.ts';
import { codeAt, SECRET_A, SECRET_B, SECRET_C, wrongCodeAt } from '../testing/totpCodes.ts';
import { FIRST_AUTHENTICATOR_ID, MAX_AUTHENTICATORS } from './authenticatorNames.ts';
import type { Proof } from './commands.ts';
import { ENROLLMENT_TTL_MS } from './decide.ts';
import { twoFactorDecider } from './decider.ts';

const spec = deciderSpecification(twoFactorDecider);

const SEALED_C = sealSecret(SECRET_C);
const THIRD = { authenticatorId: 'auth_third', name: 'Tablet' } as const;

/** The secrets of both authenticators of `withBackupPhone`, opened as the handler opens them. */
const bothSecrets = [
  { authenticatorId: FIRST_AUTHENTICATOR_ID, secretBase32: SECRET_A },
  { authenticatorId: BACKUP.authenticatorId, secretBase32: SECRET_B },
];
const codeOf = (secret: string, nowMs = T0) => totpProof(codeAt(secret, nowMs), bothSecrets);

const addThird = (proof: Proof = totpProof(codeAt(SECRET_A, T0), bothSecrets), name: string = THIRD.name) =>
  addAuthenticator({ nowMs: T0, authenticatorId: THIRD.authenticatorId, name, newSecret: SEALED_C, proof });

describe('AddAuthenticator: one more authenticator app beside the enabled ones', () => {
  it('proven with a current code of any authenticator, it starts pending, and the proof spends that step', () => {
    const { state } = spec
      .given(withBackupPhone)
      .when(addThird(codeOf(SECRET_B)))
      .then([
        authenticatorAdded(T0, THIRD, SEALED_C, {
          method: 'totp',
          step: STEP_NOW,
          authenticatorId: BACKUP.authenticatorId,
        }),
      ]);
    expect(state.pending).toEqual({
      ...{ authenticatorId: THIRD.authenticatorId, name: THIRD.name },
      secret: SEALED_C,
      expiresAtMs: T0 + ENROLLMENT_TTL_MS,
      kind: 'addition',
    });
    expect(state.authenticators.map((a) => [a.id, a.lastAcceptedStep, a.lastUsedAtMs])).toEqual([
      // (A's code proved the addition of B: its last use.)
      [FIRST_AUTHENTICATOR_ID, stepAt(BACKUP_ADDED_AT), BACKUP_ADDED_AT],
      [BACKUP.authenticatorId, STEP_NOW, T0],
    ]);
  });

  it('proven with a recovery code, it consumes that code', () => {
    spec
      .given(enabled)
      .when(addThird(recoveryCodeProof(CODES_1.set, CODES_1.codes[2]!)))
      .then([
        recoveryCodeConsumed(T0, 2, 9, 'add-authenticator'),
        authenticatorAdded(T0, THIRD, SEALED_C, { method: 'recovery-code', step: null }),
      ]);
  });

  it('a wrong code adds nothing and counts against the app, as any attempt does', () => {
    spec
      .given(enabled)
      .when(addThird(totpProof(wrongCodeAt(SECRET_A, T0), SECRET_A)))
      .then([verificationFailed(T0, 1, 'add-authenticator')]);
  });

  it('while the app is locked, a code is refused unchecked', () => {
    spec
      .given(lockedTemporarily)
      .when(addThird(totpProof(codeAt(SECRET_A, T0), SECRET_A)))
      .then([verificationRefused(T0, T0 - 10 * SECOND + MINUTE, 'add-authenticator')]);
  });

  it('a name another authenticator has, in any case, is refused before the code is checked', () => {
    spec
      .given(withBackupPhone)
      .when(addThird(codeOf(SECRET_A), 'BACKUP PHONE'))
      .thenThrows('authenticator-name-taken');
    spec
      .given(withBackupPhone)
      .when(addThird(codeOf(SECRET_A), 'authenticator app'))
      .thenThrows('authenticator-name-taken');
  });

  it('a name that breaks the rule for text is refused', () => {
    spec
      .given(enabled)
      .when(addThird(codeOf(SECRET_A), ''))
      .thenThrows('invalid-authenticator-name');
    spec
      .given(enabled)
      .when(addThird(codeOf(SECRET_A), 'x'.repeat(65)))
      .thenThrows('invalid-authenticator-name');
    spec
      .given(enabled)
      .when(addThird(codeOf(SECRET_A), 'Phone\u202e'))
      .thenThrows('invalid-authenticator-name');
  });

  it(`at ${MAX_AUTHENTICATORS} authenticators, one more is refused`, () => {
    const five = [...enabled];
    for (let n = 2; n <= MAX_AUTHENTICATORS; n++) {
      const device = { authenticatorId: `auth_${n}x`, name: `Device ${n}` };
      five.push(
        authenticatorAdded(T0 - 8 * MINUTE, device, SEALED_B, { method: 'recovery-code', step: null }),
        authenticatorConfirmed(T0 - 8 * MINUTE, device, stepAt(T0 - 8 * MINUTE)),
      );
    }
    spec.given(five).when(addThird()).thenThrows('too-many-authenticators');
  });

  it('needs 2FA on: a user without it enrolls first', () => {
    spec.given(neverEnrolled).when(addThird()).thenThrows('not-enabled');
    spec.given(pendingLive).when(addThird()).thenThrows('not-enabled');
  });
});

describe('ConfirmAuthenticator: the added authenticator’s first code', () => {
  const ADDED_AT = T0 - MINUTE;
  const pendingThird = [
    ...withBackupPhone,
    authenticatorAdded(ADDED_AT, THIRD, SEALED_C, { method: 'totp', step: stepAt(ADDED_AT) }),
  ];
  const confirmThird = (code: string, secret: string | null = SECRET_C, nowMs = T0) =>
    confirmAuthenticator({
      nowMs,
      authenticatorId: THIRD.authenticatorId,
      code,
      pendingSecretBase32: secret,
    });

  it('the right code adds it to the others, with its own replay step', () => {
    const { state } = spec
      .given(pendingThird)
      .when(confirmThird(codeAt(SECRET_C, T0)))
      .then([authenticatorConfirmed(T0, THIRD, STEP_NOW)]);
    expect(state.pending).toBeNull();
    expect(state.authenticators.map((a) => [a.id, a.name, a.addedAtMs, a.lastAcceptedStep])).toEqual([
      [FIRST_AUTHENTICATOR_ID, FIRST.name, T0 - 9 * MINUTE, stepAt(ADDED_AT)],
      [BACKUP.authenticatorId, BACKUP.name, BACKUP_CONFIRMED_AT, stepAt(BACKUP_CONFIRMED_AT)],
      [THIRD.authenticatorId, THIRD.name, T0, STEP_NOW],
    ]);
  });

  it('a wrong code counts against the app’s lockout', () => {
    spec
      .given(pendingThird)
      .when(confirmThird(wrongCodeAt(SECRET_C, T0)))
      .then([verificationFailed(T0, 1, 'add-authenticator')]);
  });

  it('another id than the pending one’s, or nothing pending, is refused', () => {
    spec
      .given(pendingThird)
      .when(
        confirmAuthenticator({
          nowMs: T0,
          authenticatorId: 'auth_other',
          code: '123456',
          pendingSecretBase32: null,
        }),
      )
      .thenThrows('no-pending-enrollment');
    spec
      .given(withBackupPhone)
      .when(confirmThird(codeAt(SECRET_C, T0)))
      .thenThrows('no-pending-enrollment');
  });

  it('after 15 minutes it has expired', () => {
    spec
      .given(pendingThird)
      .when(confirmThird(codeAt(SECRET_C, ADDED_AT + 15 * MINUTE), SECRET_C, ADDED_AT + 15 * MINUTE))
      .thenThrows('enrollment-expired');
  });
});

describe('VerifySignIn with several authenticators', () => {
  it('a code of any of them signs in, and the event names whose it was', () => {
    spec
      .given(withBackupPhone)
      .when(verifySignIn({ nowMs: T0, proof: codeOf(SECRET_B) }))
      .then([signInVerified(T0, 'totp', STEP_NOW, BACKUP.authenticatorId)]);
    spec
      .given(withBackupPhone)
      .when(verifySignIn({ nowMs: T0, proof: codeOf(SECRET_A) }))
      .then([signInVerified(T0, 'totp', STEP_NOW, FIRST_AUTHENTICATOR_ID)]);
  });

  it('each keeps its own replay step: a code accepted from one does not spend that step on another', () => {
    const afterA = [...withBackupPhone, signInVerified(T0, 'totp', STEP_NOW, FIRST_AUTHENTICATOR_ID)];
    spec
      .given(afterA)
      .when(verifySignIn({ nowMs: T0 + SECOND, proof: codeOf(SECRET_B, T0) }))
      .then([signInVerified(T0 + SECOND, 'totp', STEP_NOW, BACKUP.authenticatorId)]);
    // …while A's own code of that step, sent again, is the double submit it always was.
    spec
      .given(afterA)
      .when(verifySignIn({ nowMs: T0 + SECOND, proof: codeOf(SECRET_A, T0) }))
      .thenThrows('code-already-used');
  });

  it('a wrong code matches no authenticator and counts once, against the one lockout they share', () => {
    spec
      .given(withBackupPhone)
      .when(verifySignIn({ nowMs: T0, proof: totpProof(wrongCodeAt([SECRET_A, SECRET_B], T0), bothSecrets) }))
      .then([verificationFailed(T0, 1)]);
  });

  it('five wrong codes lock the app for every authenticator', () => {
    const fourWrong = [
      ...withBackupPhone,
      ...[1, 2, 3, 4].map((n) => verificationFailed(T0 - (5 - n) * SECOND, n)),
    ];
    spec
      .given(fourWrong)
      .when(verifySignIn({ nowMs: T0, proof: totpProof(wrongCodeAt([SECRET_A, SECRET_B], T0), bothSecrets) }))
      .then([verificationFailed(T0, 5), factorLocked(T0, 5, T0 + MINUTE)]);
    spec
      .given([...fourWrong, verificationFailed(T0, 5), factorLocked(T0, 5, T0 + MINUTE)])
      .when(verifySignIn({ nowMs: T0 + SECOND, proof: codeOf(SECRET_B, T0 + SECOND) }))
      .then([verificationRefused(T0 + SECOND, T0 + MINUTE)]);
  });
});

describe('RenameAuthenticator', () => {
  const rename = (authenticatorId: string, name: string) =>
    renameAuthenticator({ nowMs: T0, authenticatorId, name });

  it('records the new name and the one it replaces', () => {
    const { state } = spec
      .given(withBackupPhone)
      .when(rename(BACKUP.authenticatorId, 'Old phone'))
      .then([authenticatorRenamed(T0, BACKUP.authenticatorId, 'Old phone', BACKUP.name)]);
    expect(state.authenticators.map((a) => a.name)).toEqual([FIRST.name, 'Old phone']);
  });

  it('the same name again records nothing; a case change is a rename', () => {
    spec.given(withBackupPhone).when(rename(BACKUP.authenticatorId, BACKUP.name)).then([]);
    spec
      .given(withBackupPhone)
      .when(rename(BACKUP.authenticatorId, 'backup phone'))
      .then([authenticatorRenamed(T0, BACKUP.authenticatorId, 'backup phone', BACKUP.name)]);
  });

  it('another authenticator’s name is refused; an unknown id is not found', () => {
    spec
      .given(withBackupPhone)
      .when(rename(BACKUP.authenticatorId, 'Authenticator App'))
      .thenThrows('authenticator-name-taken');
    spec.given(withBackupPhone).when(rename('auth_nope', 'Anything')).thenThrows('authenticator-not-found');
  });
});

describe('RemoveAuthenticator', () => {
  const remove = (authenticatorId: string, proof = codeOf(SECRET_A), requireTwoFactor = false) =>
    removeAuthenticator({ nowMs: T0, authenticatorId, proof, requireTwoFactor });

  it('removes one with proof; the others go on signing in', () => {
    const { state } = spec
      .given(withBackupPhone)
      .when(remove(BACKUP.authenticatorId))
      .then([authenticatorRemoved(T0, BACKUP, { method: 'totp', step: STEP_NOW })]);
    expect(state.enabled).toBe(true);
    expect(state.authenticators.map((a) => a.id)).toEqual([FIRST_AUTHENTICATOR_ID]);
  });

  it('removing the last one is disabling 2FA', () => {
    const { state } = spec
      .given(enabled)
      .when(remove(FIRST_AUTHENTICATOR_ID, totpProof(codeAt(SECRET_A, T0), SECRET_A)))
      .then([
        authenticatorRemoved(T0, FIRST, { method: 'totp', step: STEP_NOW }),
        twoFactorDisabled(T0, 'totp', STEP_NOW),
      ]);
    expect(state.enabled).toBe(false);
    expect(state.authenticators).toEqual([]);
    expect(state.recoveryCodes).toBeNull();
  });

  it('…and follows the disable rules: refused, unchecked, while 2FA is required; one of several is not', () => {
    spec
      .given(enabled)
      .when(remove(FIRST_AUTHENTICATOR_ID, totpProof(codeAt(SECRET_A, T0), SECRET_A), true))
      .thenThrows('two-factor-required');
    spec
      .given(withBackupPhone)
      .when(remove(BACKUP.authenticatorId, codeOf(SECRET_A), true))
      .then([authenticatorRemoved(T0, BACKUP, { method: 'totp', step: STEP_NOW })]);
  });

  it('a wrong code removes nothing and counts; an unknown id is not found', () => {
    spec
      .given(withBackupPhone)
      .when(remove(BACKUP.authenticatorId, totpProof(wrongCodeAt([SECRET_A, SECRET_B], T0), bothSecrets)))
      .then([verificationFailed(T0, 1, 'remove-authenticator')]);
    spec.given(withBackupPhone).when(remove('auth_nope')).thenThrows('authenticator-not-found');
  });

  it('a removed authenticator’s codes stop working at once', () => {
    const removed = [
      ...withBackupPhone,
      authenticatorRemoved(T0 - SECOND, BACKUP, { method: 'totp', step: stepAt(T0 - MINUTE) }),
    ];
    spec
      .given(removed)
      .when(verifySignIn({ nowMs: T0, proof: totpProof(codeAt(SECRET_B, T0), SECRET_A) }))
      .then([verificationFailed(T0, 1)]);
  });
});

describe('a replacement and an administrator’s reset, with several authenticators', () => {
  /** A user with two confirmed authenticators, A (the first) and B. */
  function twoAuthenticators(): TwoFactorAccount {
    const account = new TwoFactorAccount(T0);
    account.enable(SECRET_A);
    account.advance(MINUTE);
    account.add(BACKUP.authenticatorId, SECRET_B, account.totp(account.currentCode()));
    account.advance(SECOND);
    account.confirmAdded(BACKUP.authenticatorId);
    account.advance(MINUTE);
    return account;
  }

  it('a confirmed replacement (the way back from a lost device) replaces them all', () => {
    const account = twoAuthenticators();
    expect(account.state.authenticators).toHaveLength(2);
    account.start(SECRET_C, account.recovery(account.codesInForce()!.codes[0]!));
    account.advance(SECOND);
    account.confirm();
    expect(account.state.authenticators.map((a) => a.id)).toEqual([FIRST_AUTHENTICATOR_ID]);
    expect(account.activeSecret()).toBe(SECRET_C);
  });

  it('an administrator’s reset removes them all', () => {
    const account = twoAuthenticators();
    account.reset();
    expect(account.state.authenticators).toEqual([]);
    expect(account.state.enabled).toBe(false);
  });
});

describe('the first enrollment’s authenticator', () => {
  it('has the id and name the enrollment gave it', () => {
    spec
      .given([])
      .when(
        startEnrollment({ nowMs: T0, authenticatorId: 'auth_mine', name: 'My phone', newSecret: SEALED_A }),
      )
      .thenSatisfies((events) =>
        expect(events[0]?.data).toMatchObject({ authenticatorId: 'auth_mine', name: 'My phone' }),
      );
  });
});
