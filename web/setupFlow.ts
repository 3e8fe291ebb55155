import { ApiError, api, type Enrollment, type SessionView } from './api.ts';
import { codeForm, errorWithRetry } from './components.ts';
import { h, replace } from './dom.ts';
import { messageFor } from './messages.ts';
import { recoveryCodesPanel } from './recoveryCodes.ts';

/**
 * The three steps of setting up two-factor authentication — scan the QR code, enter the
 * verification code, save the recovery codes — in one element: inside the Account page's
 * dialog, or on a page of its own when the setup is required before anything else.
 */
export function setupFlow(options: {
  readonly productName: string;
  readonly userId: string;
  /** the steps' headings: h3 in a dialog (under its h2), h2 on a page of its own (under its h1) */
  readonly headingLevel: 'h2' | 'h3';
  /** offers Cancel on steps 1 and 2 (a setup the person chose); none where it is required */
  readonly cancel?: () => void;
  /** the code was confirmed: two-factor authentication is on from here (behind step 3) */
  readonly onConfirmed?: (session: SessionView) => void;
  /** the recovery codes were saved and Finish pressed */
  readonly onFinish: (session: SessionView) => void;
}) {
  const body = h('div', { class: 'setup' });
  let finished = false;

  const step = (n: number, title: string, focus: 'heading' | HTMLElement | null, ...nodes: Node[]) => {
    const heading = h(options.headingLevel, { tabindex: '-1' }, title);
    replace(body, h('p', { class: 'step' }, `Step ${n} of 3`), heading, ...nodes);
    (focus === 'heading' ? heading : focus)?.focus();
  };

  const cancel = () =>
    options.cancel === undefined ? null : h('button', { type: 'button', onclick: options.cancel }, 'Cancel');

  function scan(enrollment: Enrollment) {
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
      1,
      'Scan the QR code',
      'heading',
      h('p', {}, 'Open your authenticator app and scan this QR code.'),
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

  function verify(enrollment: Enrollment) {
    // Shown once the enrollment has expired (or was replaced elsewhere): a new QR code is needed.
    const again = h('button', { type: 'button', hidden: true, onclick: () => begin() }, 'Start again');
    const form = codeForm({
      submitLabel: 'Verify and enable',
      allowRecoveryCode: false,
      onSubmit: async (proof) => {
        try {
          const confirmed = await api.confirmEnrollment('code' in proof ? proof.code : '');
          options.onConfirmed?.(confirmed.session);
          save(confirmed.recoveryCodes, confirmed.session);
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
    const intro = h(
      'p',
      {},
      'Type the six-digit code your authenticator app shows for ',
      options.productName,
      '.',
    );
    // The person comes here to type: the keyboard goes straight to the code field.
    step(2, 'Enter the verification code', null, intro, form.element);
    form.focus();
  }

  function save(codes: readonly string[], session: SessionView) {
    finished = true;
    step(
      3,
      'Save your recovery codes',
      'heading',
      ...recoveryCodesPanel({
        codes,
        productName: options.productName,
        userId: options.userId,
        onFinish: () => options.onFinish(session),
      }),
    );
  }

  function begin() {
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
