import { MAX_AUTHENTICATORS } from '../../src/domain/twoFactor/authenticatorNames.ts';
import { ApiError, type Authenticator, api, type TwoFactorStatus } from '../api.ts';
import { AUTHENTICATOR_NAME_MAX_LENGTH, authenticatorNameError, refusesName } from '../authenticatorName.ts';
import {
  codeForm,
  countdownLine,
  errorWithRetry,
  field,
  formatTime,
  messageLine,
  noticeLine,
  openDialog,
  toggleSwitch,
} from '../components.ts';
import { h, replace } from '../dom.ts';
import {
  AUTHENTICATORS_FULL,
  authenticatorDates,
  duration,
  messageFor,
  ONLY_AUTHENTICATOR_REQUIRED,
  timeLeft,
} from '../messages.ts';
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

  /**
   * Reads the card again and draws it; `focus` names (by data-key) where the keyboard goes
   * after an action whose button is gone or redrawn.
   */
  async function refresh(message?: string, focus?: string) {
    try {
      const status = await api.status();
      // Only confirmed apps are listed, and only while 2FA is on.
      renderCard(status, status.status === 'enabled' ? await api.authenticators() : []);
      if (focus !== undefined) card.querySelector<HTMLElement>(`[data-key="${focus}"]`)?.focus();
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

  function renderCard(status: TwoFactorStatus, authenticators: readonly Authenticator[]) {
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
      enabled ? authenticatorList(status, authenticators) : null,
    );
    if (focusKey !== undefined) card.querySelector<HTMLElement>(`[data-key="${focusKey}"]`)?.focus();
  }

  /**
   * The authenticator apps: each with its name, when it was added and last used, Rename and
   * Remove; then "Add another authenticator", unavailable (with the reason) at the most.
   */
  function authenticatorList(status: TwoFactorStatus, authenticators: readonly Authenticator[]): HTMLElement {
    const full = authenticators.length >= MAX_AUTHENTICATORS;
    // The only app cannot go while 2FA is required: it would turn 2FA off.
    const keepOnly = status.required && authenticators.length === 1;
    const names = authenticators.map((a) => a.name);
    const item = (authenticator: Authenticator) => {
      const nameId = `authenticator-${authenticator.id}`;
      const others = names.filter((name) => name !== authenticator.name);
      return h(
        'li',
        { class: 'authenticator' },
        h(
          'div',
          {},
          h('p', { class: 'authenticator-name', id: nameId }, authenticator.name),
          h('p', { class: 'hint' }, authenticatorDates(authenticator, formatTime)),
        ),
        h(
          'div',
          { class: 'row-actions' },
          h(
            'button',
            {
              type: 'button',
              'data-key': `rename-${authenticator.id}`,
              'aria-describedby': nameId,
              onclick: () => openRename(authenticator, others),
            },
            'Rename',
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              'data-key': `remove-${authenticator.id}`,
              'aria-describedby': keepOnly ? `${nameId} authenticators-keep-only` : nameId,
              // Still focusable when unavailable, so the reason (its description) can be found.
              'aria-disabled': keepOnly ? 'true' : undefined,
              onclick: () => {
                if (!keepOnly) openRemove(authenticator, authenticators.length === 1);
              },
            },
            'Remove',
          ),
        ),
      );
    };
    return h(
      'div',
      { class: 'authenticators' },
      h(
        'h3',
        { id: 'authenticators-heading', tabindex: '-1', 'data-key': 'authenticators-heading' },
        'Authenticator apps',
      ),
      h(
        'p',
        { class: 'hint' },
        'A code from any of these apps works when you sign in. Add another one, such as a second phone, so that losing one does not lock you out.',
      ),
      h(
        'ul',
        { class: 'authenticator-list', 'aria-labelledby': 'authenticators-heading' },
        ...authenticators.map(item),
      ),
      keepOnly ? h('p', { id: 'authenticators-keep-only', class: 'why' }, ONLY_AUTHENTICATOR_REQUIRED) : null,
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            'data-key': 'add-authenticator',
            'aria-disabled': full ? 'true' : undefined,
            'aria-describedby': full ? 'authenticators-full' : undefined,
            onclick: () => {
              if (!full) openAdd(names);
            },
          },
          'Add another authenticator',
        ),
      ),
      full ? h('p', { id: 'authenticators-full', class: 'why' }, AUTHENTICATORS_FULL) : null,
    );
  }

  function openAdd(otherNames: readonly string[]) {
    openDialog('Add an authenticator app', (dialog) => {
      let added = false;
      const flow = setupFlow({
        productName: context.session.productName,
        userId,
        headingLevel: 'h3',
        cancel: () => dialog.close(),
        addition: {
          otherNames,
          onAdded: (authenticator) => {
            added = true;
            dialog.close();
            // The keyboard is back on "Add another authenticator" (unavailable now, if that was
            // the fifth: its reason is its description).
            void refresh(
              `“${authenticator.name}” was added. A code from it now works when you sign in.`,
              'add-authenticator',
            );
          },
        },
      });
      // Failed attempts may have locked a kind of code meanwhile: the card says so once closed.
      dialog.addEventListener('close', () => {
        if (!added) void refresh();
      });
      flow.begin();
      return [flow.element];
    });
  }

  function openRename(authenticator: Authenticator, otherNames: readonly string[]) {
    let dialog: HTMLDialogElement | null = null;
    const name = field({
      label: 'Name',
      hint: `What tells this app from your others, e.g. Backup phone (at most ${AUTHENTICATOR_NAME_MAX_LENGTH} characters).`,
      input: { autocomplete: 'off', required: true, value: authenticator.name },
    });
    const alert = messageLine('alert');
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
    async function onSubmit(event: Event) {
      event.preventDefault();
      if (save.disabled) return;
      alert.show(null);
      const problem = authenticatorNameError(name.input.value, otherNames);
      if (problem !== null) return name.setError(problem);
      const typed = name.input.value.trim();
      if (typed === authenticator.name) return dialog?.close();
      save.disabled = true;
      try {
        const renamed = await api.renameAuthenticator(authenticator.id, typed);
        dialog?.close();
        // The keyboard is back on this app's Rename button, redrawn with its new name.
        void refresh(
          `“${authenticator.name}” is now called “${renamed.name}”.`,
          `rename-${authenticator.id}`,
        );
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (refusesName(error)) {
          name.setError(messageFor(error));
        } else {
          alert.show(messageFor(error));
          name.input.focus();
        }
      } finally {
        save.disabled = false;
      }
    }
    dialog = openDialog(`Rename “${authenticator.name}”`, (opened) => [
      h(
        'form',
        { novalidate: true, onsubmit: onSubmit },
        name.element,
        alert.element,
        h(
          'div',
          { class: 'actions' },
          save,
          h('button', { type: 'button', onclick: () => opened.close() }, 'Cancel'),
        ),
      ),
    ]);
    name.input.focus();
    name.input.select();
  }

  function openRemove(authenticator: Authenticator, last: boolean) {
    openDialog(`Remove “${authenticator.name}”?`, (dialog) => {
      let done = false;
      dialog.addEventListener('close', () => {
        if (!done) void refresh();
      });
      const form = codeForm({
        submitLabel: 'Remove',
        submitClass: 'danger-solid',
        allowRecoveryCode: true,
        explain: (error) => (error.code === 'two-factor-required' ? ONLY_AUTHENTICATOR_REQUIRED : null),
        onSubmit: async (proof) => {
          const removed = await api.removeAuthenticator(authenticator.id, proof);
          done = true;
          dialog.close();
          if (removed.status === 'disabled') {
            const message = `“${authenticator.name}” was removed. Two-factor authentication is off.`;
            if (removed.session.mustEnroll) context.changeSession(removed.session, message);
            // The keyboard goes to the switch, which now says Off.
            else void refresh(message, 'tfa-heading');
            return;
          }
          // Its row is gone: the keyboard goes to the list's heading.
          void refresh(
            `“${authenticator.name}” was removed. Codes from it no longer work.`,
            'authenticators-heading',
          );
        },
        extraButtons: [h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel')],
      });
      return [
        last
          ? h(
              'p',
              { class: 'message warn' },
              'This is your only authenticator app: removing it turns two-factor authentication off. Signing in will ask for your password only, and all your recovery codes stop working.',
            )
          : h(
              'p',
              { class: 'message warn' },
              `Codes from “${authenticator.name}” stop working at once. Your other authenticator apps and your recovery codes still work.`,
            ),
        h(
          'p',
          {},
          'Confirm with a current code from one of your authenticator apps, or with one of your recovery codes.',
        ),
        form.element,
      ];
    });
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
