import { ApiError, api, type TwoFactorStatus } from '../api.ts';
import {
  codeForm,
  countdownLine,
  errorWithRetry,
  formatTime,
  noticeLine,
  openDialog,
  toggleSwitch,
} from '../components.ts';
import { h, replace } from '../dom.ts';
import { duration, messageFor, timeLeft } from '../messages.ts';
import { recoveryCodesPanel } from '../recoveryCodes.ts';
import { setupFlow } from '../setupFlow.ts';
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
  const notice = noticeLine();
  const card = h('section', { class: 'card', 'aria-labelledby': 'tfa-heading' }, h('p', {}, 'Loading…'));
  const heading = h('h1', { tabindex: '-1' }, 'Account');

  async function refresh(message?: string) {
    try {
      renderCard(await api.status());
      if (message !== undefined) notice.show(message);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(
        card,
        h('h2', { id: 'tfa-heading' }, 'Two-factor authentication'),
        ...errorWithRetry(messageFor(error), () => {
          replace(card, h('p', { role: 'status' }, 'Loading…'));
          void refresh(message);
        }),
      );
      card.querySelector<HTMLElement>('[data-key="retry"]')?.focus();
    }
  }

  /** A lock's line on the card, counted down; the card is read again when it ends. */
  function lockLine(seconds: number | null, sentence: (left: number | null) => string): HTMLElement {
    const line = countdownLine();
    line.element.className = 'message warn';
    line.element.setAttribute('role', 'status');
    line.show(sentence, seconds, { onEnd: () => void refresh() });
    return line.element;
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
    } else if (status.enrollmentRequired) {
      lines.push(
        h(
          'p',
          { id: 'tfa-locked', class: 'message warn' },
          status.canDefer && status.enrollBy !== null && status.enrollInSeconds !== null
            ? `Your administrator requires two-factor authentication for all users: turn it on by ${formatTime(status.enrollBy)} (${timeLeft(status.enrollInSeconds)} left). After that, you will have to set it up before anything else.`
            : 'Your administrator requires two-factor authentication for all users: turn it on to keep your account protected.',
        ),
      );
    }
    // Each kind of code is locked on its own: say which one, and that the other still works.
    // The time left counts down, and the card is read again when it runs out.
    if (status.locked) {
      lines.push(
        lockLine(status.lockedForSeconds, (left) =>
          left === null
            ? 'Codes from your authenticator app are locked after too many failed attempts, until an administrator unlocks them. A recovery code still works.'
            : `Codes from your authenticator app are locked after too many failed attempts: they are refused for ${duration(left)}. A recovery code still works.`,
        ),
      );
    }
    if (status.recoveryCodesLocked) {
      lines.push(
        lockLine(status.recoveryCodesLockedForSeconds, (left) =>
          left === null
            ? 'Recovery codes are locked after too many failed attempts. Regenerate recovery codes to get new ones that work. Codes from your authenticator app still work.'
            : `Recovery codes are locked after too many failed attempts: they are refused for ${duration(left)}. Codes from your authenticator app still work.`,
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
    openDialog('Set up two-factor authentication', (dialog) => {
      const flow = setupFlow({
        productName: context.session.productName,
        userId,
        headingLevel: 'h3',
        cancel: () => dialog.close(),
        // 2FA is on from the confirmation: the card behind the codes says so already.
        onConfirmed: () => void refresh(),
        onFinish: (session) => {
          dialog.close();
          // The session changed with the setup (a second step passed): draw the page for it,
          // with the admin page now open to an administrator.
          context.changeSession(session, 'Two-factor authentication is on.');
        },
      });
      // Until the codes are shown, Escape cancels; after that, only Finish (once saved) closes.
      dialog.addEventListener('cancel', (event) => {
        if (flow.finished) event.preventDefault();
      });
      dialog.addEventListener('close', () => {
        if (!flow.finished) void refresh();
      });
      flow.begin();
      return [flow.element];
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
        submitClass: 'danger-solid',
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
          { class: 'message warn' },
          'Signing in will ask for your password only: your authenticator app and all your recovery codes stop working, and turning it on again means a new QR code and new recovery codes.',
        ),
        h(
          'p',
          {},
          'Confirm with a current code from your authenticator app, or with one of your recovery codes.',
        ),
        form.element,
      ];
    });
  }

  void refresh();
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
      notice.element,
      card,
    ],
    focus: heading,
  };
}
