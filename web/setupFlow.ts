import {
  type AddedAuthenticator,
  ApiError,
  type Authenticator,
  api,
  type Enrollment,
  type SessionView,
} from './api.ts';
import { AUTHENTICATOR_NAME_MAX_LENGTH, authenticatorNameError, refusesName } from './authenticatorName.ts';
import { codeForm, errorWithRetry, field } from './components.ts';
import { h, replace } from './dom.ts';
import { messageFor } from './messages.ts';
import { recoveryCodesPanel } from './recoveryCodes.ts';

type SetupCommon = {
  readonly productName: string;
  readonly userId: string;
  /** the steps' headings: h3 in a dialog (under its h2), h2 on a page of its own (under its h1) */
  readonly headingLevel: 'h2' | 'h3';
  /** offers Cancel before the last step (a setup the person chose); none where it is required */
  readonly cancel?: () => void;
};

/** Turning two-factor authentication on: its first authenticator app, and the recovery codes. */
type FirstSetup = SetupCommon & {
  readonly addition?: undefined;
  /** the code was confirmed: two-factor authentication is on from here (behind step 3) */
  readonly onConfirmed?: (session: SessionView) => void;
  /** the recovery codes were saved and Finish pressed */
  readonly onFinish: (session: SessionView) => void;
};

/** One more authenticator app while 2FA is on: named and proved first, no new recovery codes. */
type AdditionSetup = SetupCommon & {
  readonly addition: {
    /** the names of the user's other apps, which the new one must not repeat */
    readonly otherNames: readonly string[];
    /** a code of the new app confirmed it: it is on the account from here */
    readonly onAdded: (added: Authenticator) => void;
  };
};

/** The new app's secret, and for an addition the pending authenticator it belongs to. */
type Pending = Enrollment & { readonly authenticatorId?: string; readonly name?: string };

/**
 * The steps of setting up an authenticator app in one element: scan the QR code, enter the
 * verification code, save the recovery codes — inside the Account page's dialog, or on a page
 * of its own when the setup is required before anything else. Adding another app while 2FA is
 * on reuses the same QR code and code steps, after a first step that names the app and proves
 * the person with a current code (or a recovery code); the recovery codes stay as they are.
 */
export function setupFlow(options: FirstSetup | AdditionSetup) {
  const body = h('div', { class: 'setup' });
  let finished = false;
  const addition = options.addition;
  /** where the QR code and the code steps fall: after naming the app, when adding one */
  const offset = addition === undefined ? 0 : 1;

  const step = (n: number, title: string, focus: 'heading' | HTMLElement | null, ...nodes: Node[]) => {
    const heading = h(options.headingLevel, { tabindex: '-1' }, title);
    replace(body, h('p', { class: 'step' }, `Step ${n} of 3`), heading, ...nodes);
    (focus === 'heading' ? heading : focus)?.focus();
  };

  const cancel = () =>
    options.cancel === undefined ? null : h('button', { type: 'button', onclick: options.cancel }, 'Cancel');

  function scan(enrollment: Pending) {
    const secretId = 'manual-secret';
    const manual = h(
      'div',
      { id: secretId, class: 'manual', hidden: true },
      h('p', {}, 'Enter this code in your authenticator app (spaces do not matter), as a time-based key:'),
      h('p', {}, h('code', { class: 'secret' }, enrollment.secret.replace(/(.{4})(?=.)/g, '$1 '))),
    );
    const reveal = h(
      'button',
      {
        type: 'button',
        class: 'link',
        'aria-expanded': 'false',
        'aria-controls': secretId,
        onclick: () => {
          const open = manual.hidden;
          manual.hidden = !open;
          reveal.setAttribute('aria-expanded', String(open));
        },
      },
      "Can't scan? Enter this code manually",
    );
    step(
      1 + offset,
      'Scan the QR code',
      'heading',
      h(
        'p',
        {},
        enrollment.name === undefined
          ? 'Open your authenticator app and scan this QR code.'
          : 'Open the authenticator app you are adding and scan this QR code.',
      ),
      h('img', {
        class: 'qr',
        src: enrollment.qrCode,
        alt: 'QR code for your authenticator app',
        width: 200,
        height: 200,
      }),
      h('p', {}, reveal),
      manual,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'primary', onclick: () => verify(enrollment) }, 'Continue'),
        cancel(),
      ),
    );
  }

  function verify(enrollment: Pending) {
    // Shown once the enrollment has expired (or was replaced elsewhere): a new QR code is needed.
    const again = h('button', { type: 'button', hidden: true, onclick: () => begin() }, 'Start again');
    const form = codeForm({
      submitLabel: addition === undefined ? 'Verify and enable' : 'Verify and add',
      allowRecoveryCode: false,
      onSubmit: async (proof) => {
        const code = 'code' in proof ? proof.code : '';
        try {
          if (options.addition !== undefined) {
            options.addition.onAdded(await api.confirmAuthenticator(enrollment.authenticatorId ?? '', code));
            return;
          }
          const confirmed = await api.confirmEnrollment(code);
          options.onConfirmed?.(confirmed.session);
          save(confirmed.recoveryCodes, confirmed.session, options.onFinish);
        } catch (error) {
          if (
            error instanceof ApiError &&
            ['enrollment-expired', 'no-pending-enrollment'].includes(error.code)
          ) {
            again.hidden = false;
          }
          throw error;
        }
      },
      extraButtons: [h('button', { type: 'button', onclick: () => scan(enrollment) }, 'Back'), again],
    });
    const intro =
      enrollment.name === undefined
        ? h('p', {}, 'Type the six-digit code your authenticator app shows for ', options.productName, '.')
        : h(
            'p',
            {},
            'Type the six-digit code ',
            h('strong', {}, enrollment.name),
            ' shows for ',
            options.productName,
            '.',
          );
    // The person comes here to type: the keyboard goes straight to the code field.
    step(2 + offset, 'Enter the verification code', null, intro, form.element);
    form.focus();
  }

  function save(codes: readonly string[], session: SessionView, onFinish: (session: SessionView) => void) {
    finished = true;
    step(
      3,
      'Save your recovery codes',
      'heading',
      ...recoveryCodesPanel({
        codes,
        productName: options.productName,
        userId: options.userId,
        onFinish: () => onFinish(session),
      }),
    );
  }

  /**
   * Adding an app: its name and a current code (or a recovery code) first; the service then
   * hands out the new secret, pending until a code of the new app confirms it.
   */
  function identify(otherNames: readonly string[]) {
    const name = field({
      label: 'Name',
      hint: `What tells this app from your others, e.g. Backup phone (at most ${AUTHENTICATOR_NAME_MAX_LENGTH} characters).`,
      // In a dialog just opened, the browser gives the keyboard to the autofocus field.
      input: { autocomplete: 'off', required: true, autofocus: true },
    });
    const cancelButton = cancel();
    const checkName = () => {
      const problem = authenticatorNameError(name.input.value, otherNames);
      name.setError(problem);
      return problem === null;
    };
    const form = codeForm({
      submitLabel: 'Continue',
      allowRecoveryCode: true,
      prefix: [
        name.element,
        h(
          'p',
          { class: 'label' },
          'Confirm it is you with a current code from an authenticator app you already have, or with a recovery code.',
        ),
      ],
      beforeSubmit: checkName,
      onSubmit: async (proof) => {
        let added: AddedAuthenticator;
        try {
          added = await api.addAuthenticator(name.input.value, proof);
        } catch (error) {
          // A name the service refuses is the name field's error, not the code's.
          if (error instanceof ApiError && refusesName(error)) {
            name.setError(messageFor(error));
            return;
          }
          throw error;
        }
        scan(added);
      },
      extraButtons: cancelButton === null ? [] : [cancelButton],
    });
    step(1, 'Name your new authenticator app', null, form.element);
    name.input.focus();
  }

  function begin() {
    if (addition !== undefined) {
      identify(addition.otherNames);
      return;
    }
    replace(body, h('p', { role: 'status' }, 'Preparing your QR code…'));
    api.startEnrollment().then(scan, (error: unknown) => {
      if (!(error instanceof ApiError)) throw error;
      replace(body, ...errorWithRetry(messageFor(error), begin, cancel()));
      body.querySelector<HTMLElement>('[data-key="retry"]')?.focus();
    });
  }

  return {
    element: body,
    begin,
    /** the codes are on screen: 2FA is on, and only Finish (once they are saved) leaves */
    get finished() {
      return finished;
    },
  };
}
