import { ApiError, api, type Enrollment, type SessionView, type TwoFactorStatus } from '../api.ts';
import { codeForm, formatTime, messageLine, openDialog, toggleSwitch } from '../components.ts';
import { h, replace } from '../dom.ts';
import { duration, messageFor } from '../messages.ts';
import { recoveryCodesPanel } from '../recoveryCodes.ts';
import type { ScreenContext } from './context.ts';

/** At or below this many recovery codes, the page suggests regenerating them. */
const LOW_RECOVERY_CODES = 2;

function statusLine(status: TwoFactorStatus): string {
  if (status.status === 'enabled') {
    const since = status.enabledAt === null ? 'On' : `On since ${formatTime(status.enabledAt)}`;
    const left = `${status.recoveryCodesRemaining} recovery ${status.recoveryCodesRemaining === 1 ? 'code' : 'codes'} left`;
    return `${since} · ${left}`;
  }
  return status.status === 'pending' ? 'Off — setup was started but not finished' : 'Off';
}

/** Settings → Account, with the Two-factor authentication card. */
export function accountScreen(context: ScreenContext): { nodes: Node[]; focus: HTMLElement } {
  const userId = context.session.userId ?? '';
  document.title = `Account — ${context.session.productName}`;
  const notice = messageLine('status');
  const card = h('section', { class: 'card', 'aria-labelledby': 'tfa-heading' }, h('p', {}, 'Loading…'));
  const heading = h('h1', { tabindex: '-1' }, 'Account');

  async function refresh(message?: string) {
    try {
      renderCard(await api.status());
      if (message !== undefined) notice.show(message);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(card, h('p', { class: 'message error', role: 'alert' }, messageFor(error)));
    }
  }

  function renderCard(status: TwoFactorStatus) {
    const enabled = status.status === 'enabled';
    const locked = enabled && status.required;
    const lines: Node[] = [h('p', { id: 'tfa-status', class: 'status' }, statusLine(status))];
    if (locked) {
      lines.push(
        h(
          'p',
          { id: 'tfa-locked', class: 'why' },
          'Your administrator requires two-factor authentication for all users, so it cannot be turned off.',
        ),
      );
    } else if (status.required) {
      lines.push(
        h(
          'p',
          { id: 'tfa-locked', class: 'message warn', role: 'status' },
          'Your administrator requires two-factor authentication for all users: turn it on to keep your account protected.',
        ),
      );
    }
    // Each kind of code is locked on its own: say which one, and that the other still works.
    if (status.locked) {
      lines.push(
        h(
          'p',
          { class: 'message warn', role: 'status' },
          status.lockedForSeconds === null
            ? 'Codes from your authenticator app are locked after too many failed attempts, until an administrator unlocks them. A recovery code still works.'
            : `Codes from your authenticator app are locked after too many failed attempts: they are refused for ${duration(status.lockedForSeconds)}. A recovery code still works.`,
        ),
      );
    }
    if (status.recoveryCodesLocked) {
      lines.push(
        h(
          'p',
          { class: 'message warn', role: 'status' },
          status.recoveryCodesLockedUntil === null
            ? 'Recovery codes are locked after too many failed attempts. Regenerate recovery codes to get new ones that work. Codes from your authenticator app still work.'
            : `Recovery codes are locked after too many failed attempts, until ${formatTime(status.recoveryCodesLockedUntil)}. Codes from your authenticator app still work.`,
        ),
      );
    }
    if (enabled && status.recoveryCodesRemaining <= LOW_RECOVERY_CODES) {
      lines.push(
        h(
          'p',
          { class: 'message warn', role: 'status' },
          status.recoveryCodesRemaining === 0
            ? 'You have no recovery codes left. Regenerate recovery codes so you can still sign in if you lose your phone.'
            : `Only ${status.recoveryCodesRemaining} recovery ${status.recoveryCodesRemaining === 1 ? 'code is' : 'codes are'} left. Regenerate recovery codes so you can still sign in if you lose your phone.`,
        ),
      );
    }
    // Redrawing must not lose the keyboard's place (e.g. on the switch, after a dialog closes).
    const focused = document.activeElement instanceof HTMLElement && card.contains(document.activeElement);
    const focusKey = focused ? (document.activeElement as HTMLElement).dataset.key : undefined;
    replace(
      card,
      h(
        'div',
        { class: 'card-head' },
        h(
          'div',
          {},
          h('h2', { id: 'tfa-heading' }, 'Two-factor authentication'),
          h(
            'p',
            { class: 'hint' },
            'A second step when you sign in: a six-digit code from an authenticator app such as Google Authenticator, Authy, Microsoft Authenticator or 1Password, with recovery codes as a backup.',
          ),
        ),
        toggleSwitch({
          labelledBy: 'tfa-heading',
          describedBy: locked ? 'tfa-status tfa-locked' : 'tfa-status',
          checked: enabled,
          locked,
          onToggle: () => (enabled ? openDisable() : openSetup()),
        }),
      ),
      ...lines,
      enabled
        ? h(
            'div',
            { class: 'actions' },
            h(
              'button',
              { type: 'button', 'data-key': 'regenerate', onclick: openRegenerate },
              'Regenerate recovery codes',
            ),
          )
        : null,
    );
    if (focusKey !== undefined) card.querySelector<HTMLElement>(`[data-key="${focusKey}"]`)?.focus();
  }

  function openSetup() {
    let signedInAfterSetup: SessionView | null = null;
    openDialog('Set up two-factor authentication', (dialog) => {
      const body = h('div');
      let finished = false;
      // Until the codes are shown, Escape cancels; after that, only Finish (once saved) closes.
      dialog.addEventListener('cancel', (event) => {
        if (finished) event.preventDefault();
      });
      dialog.addEventListener('close', () => {
        if (!finished) void refresh();
      });

      const step = (n: number, title: string, ...nodes: Node[]) => {
        replace(
          body,
          h('p', { class: 'step' }, `Step ${n} of 3`),
          h('h3', { tabindex: '-1' }, title),
          ...nodes,
        );
        body.querySelector<HTMLElement>('h3')?.focus();
      };

      const cancel = () => h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel');

      function scan(enrollment: Enrollment) {
        const secretId = 'manual-secret';
        const manual = h(
          'div',
          { id: secretId, class: 'manual', hidden: true },
          h(
            'p',
            {},
            'Enter this code in your authenticator app (spaces do not matter), as a time-based key:',
          ),
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
              signedInAfterSetup = confirmed.session;
              save(confirmed.recoveryCodes);
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
        step(
          2,
          'Enter the verification code',
          h(
            'p',
            {},
            'Type the six-digit code your authenticator app shows for ',
            context.session.productName,
            '.',
          ),
          form.element,
        );
      }

      function save(codes: readonly string[]) {
        finished = true;
        step(
          3,
          'Save your recovery codes',
          ...recoveryCodesPanel({
            codes,
            productName: context.session.productName,
            userId,
            onFinish: () => {
              dialog.close();
              // The session changed with the setup (a second step passed): draw the page for it,
              // with the admin page now open to an administrator.
              if (signedInAfterSetup !== null) {
                context.changeSession(signedInAfterSetup, 'Two-factor authentication is on.');
              } else void refresh('Two-factor authentication is on.');
            },
          }),
        );
      }

      function begin() {
        replace(body, h('p', { role: 'status' }, 'Preparing your QR code…'));
        api.startEnrollment().then(scan, (error: unknown) => {
          if (!(error instanceof ApiError)) throw error;
          replace(
            body,
            h('p', { class: 'message error', role: 'alert' }, messageFor(error)),
            h('div', { class: 'actions' }, cancel()),
          );
        });
      }

      begin();
      return [body];
    });
  }

  function openRegenerate() {
    openDialog('Regenerate recovery codes', (dialog) => {
      const body = h('div');
      let shown = false;
      dialog.addEventListener('cancel', (event) => {
        if (shown) event.preventDefault();
      });
      // Failed attempts may have locked the factor meanwhile: the card says so once closed.
      dialog.addEventListener('close', () => {
        if (!shown) void refresh();
      });
      const form = codeForm({
        submitLabel: 'Verify',
        allowRecoveryCode: false,
        onSubmit: async (proof) => {
          const answer = await api.regenerate('code' in proof ? proof.code : '');
          shown = true;
          replace(
            body,
            h('h3', { tabindex: '-1' }, 'Your new recovery codes'),
            ...recoveryCodesPanel({
              codes: answer.recoveryCodes,
              productName: context.session.productName,
              userId,
              onFinish: () => {
                dialog.close();
                void refresh('New recovery codes saved. The previous ones no longer work.');
              },
            }),
          );
          body.querySelector<HTMLElement>('h3')?.focus();
        },
        extraButtons: [h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel')],
      });
      replace(
        body,
        h(
          'p',
          {},
          'Enter a current code from your authenticator app. Your previous recovery codes stop working at once.',
        ),
        form.element,
      );
      return [body];
    });
  }

  function openDisable() {
    openDialog('Turn off two-factor authentication', (dialog) => {
      let done = false;
      dialog.addEventListener('close', () => {
        if (!done) void refresh();
      });
      const form = codeForm({
        submitLabel: 'Disable',
        allowRecoveryCode: true,
        onSubmit: async (proof) => {
          const disabled = await api.disable(proof);
          done = true;
          dialog.close();
          if (disabled.session.mustEnroll) {
            context.changeSession(disabled.session, 'Two-factor authentication is off.');
          } else void refresh('Two-factor authentication is off.');
        },
        extraButtons: [h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel')],
      });
      return [
        h(
          'p',
          {},
          'Confirm with a current code from your authenticator app, or with one of your recovery codes.',
        ),
        form.element,
      ];
    });
  }

  const mustEnroll = context.session.mustEnroll
    ? h(
        'p',
        { class: 'message warn', role: 'status' },
        'As an administrator, you set up two-factor authentication before anything else: the admin page opens once it is on.',
      )
    : null;
  void refresh().then(() => {
    // Led straight into the setup; cancelling it leaves the switch here to start again.
    if (context.session.mustEnroll && document.querySelector('dialog[open]') === null) openSetup();
  });
  if (context.message !== null) notice.show(context.message);
  return {
    nodes: [
      h(
        'nav',
        { 'aria-label': 'Breadcrumb', class: 'crumbs' },
        h('ol', {}, h('li', {}, 'Settings'), h('li', { 'aria-current': 'page' }, 'Account')),
      ),
      heading,
      h('p', {}, 'Signed in as ', h('strong', {}, userId), '.'),
      ...(mustEnroll === null ? [] : [mustEnroll]),
      notice.element,
      card,
    ],
    focus: heading,
  };
}
