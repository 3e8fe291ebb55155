import { REASON_MAX_LENGTH } from '../../src/domain/shared/reason.ts';
import { ApiError, api, type Policy, type UserListItem } from '../api.ts';
import { field, formatTime, messageLine, openDialog, toggleSwitch } from '../components.ts';
import { h, replace } from '../dom.ts';
import { messageFor } from '../messages.ts';
import type { ScreenContext } from './context.ts';

const STATUS_WORDS: Record<UserListItem['status'], string> = {
  enabled: 'On',
  pending: 'Setting up',
  disabled: 'Off',
};

/** Which of the user's factors is locked: each locks on its own, and an unlock clears both. */
function lockedWords(user: UserListItem): string {
  if (user.locked && user.recoveryCodesLocked) return 'App and recovery codes';
  if (user.locked) return 'Authenticator app';
  return user.recoveryCodesLocked ? 'Recovery codes' : 'No';
}

/** The admin page: Require 2FA for all users, the user list, unlock and the emergency reset. */
export function adminScreen(context: ScreenContext): { nodes: Node[]; focus: HTMLElement } {
  document.title = `Administration — ${context.session.productName}`;
  const heading = h('h1', { tabindex: '-1' }, 'Administration');
  if (!context.session.admin) {
    return {
      nodes: [
        heading,
        h(
          'p',
          { class: 'message warn' },
          context.session.mustEnroll
            ? 'Set up two-factor authentication first: administrators pass the second step like everyone else, and this page opens once it is on.'
            : 'Only administrators can open this page: the user ids listed in UI_ADMINS, with two-factor authentication on.',
        ),
        h(
          'p',
          {},
          h(
            'a',
            { href: '/' },
            context.session.mustEnroll ? 'Set up two-factor authentication' : 'Back to your account',
          ),
        ),
      ],
      focus: heading,
    };
  }

  const notice = messageLine('status');
  const policyCard = h('section', { class: 'card', 'aria-labelledby': 'policy-heading' });
  const rows = h('tbody', { role: 'rowgroup' });
  const more = h('div', { class: 'actions' });
  const usersAlert = messageLine('alert');

  function renderPolicy(policy: Policy) {
    const alert = messageLine('alert');
    replace(
      policyCard,
      h(
        'div',
        { class: 'card-head' },
        h(
          'div',
          {},
          h('h2', { id: 'policy-heading' }, 'Policy'),
          h('p', { id: 'require-label', class: 'label' }, 'Require 2FA for all users'),
          h(
            'p',
            { class: 'hint', id: 'require-hint' },
            'When on, users who have two-factor authentication cannot turn it off, and the others are asked to turn it on.',
          ),
        ),
        toggleSwitch({
          labelledBy: 'require-label',
          describedBy: 'require-hint require-since',
          checked: policy.requireTwoFactor,
          locked: false,
          onToggle: async () => {
            alert.show(null);
            try {
              const changed = await api.setPolicy(!policy.requireTwoFactor);
              renderPolicy(changed);
              policyCard.querySelector<HTMLElement>('[role="switch"]')?.focus();
              notice.show(
                changed.requireTwoFactor
                  ? 'Two-factor authentication is now required for all users.'
                  : 'Two-factor authentication is no longer required.',
              );
            } catch (error) {
              if (!(error instanceof ApiError)) throw error;
              alert.show(messageFor(error));
            }
          },
        }),
      ),
      h(
        'p',
        { class: 'status', id: 'require-since' },
        policy.updatedAt === null
          ? 'Never changed.'
          : `${policy.requireTwoFactor ? 'Required' : 'Not required'} since ${formatTime(policy.updatedAt)}${policy.updatedBy ? ` (by ${policy.updatedBy})` : ''}.`,
      ),
      alert.element,
    );
  }

  function row(user: UserListItem): HTMLTableRowElement {
    const idCell = h(
      'th',
      { scope: 'row', role: 'rowheader', 'data-label': 'User id', id: `user-${user.userId}` },
      user.userId,
    );
    const statusCell = h('td', { role: 'cell', 'data-label': 'Status' }, STATUS_WORDS[user.status]);
    const lockedCell = h('td', { role: 'cell', 'data-label': 'Locked' }, lockedWords(user));
    const actions = h('td', { role: 'cell', 'data-label': 'Actions', class: 'row-actions' });
    const sinceCell = h(
      'td',
      { role: 'cell', 'data-label': 'Enabled since' },
      user.enabledAt === null ? '—' : formatTime(user.enabledAt),
    );
    const codesCell = h(
      'td',
      { role: 'cell', 'data-label': 'Recovery codes left' },
      user.status === 'enabled' ? String(user.recoveryCodesRemaining) : '—',
    );
    const tr = h('tr', { role: 'row' }, idCell, statusCell, sinceCell, codesCell, lockedCell, actions);
    const describedBy = idCell.id;
    if (user.locked || user.recoveryCodesLocked) {
      actions.append(
        h(
          'button',
          {
            type: 'button',
            'aria-describedby': describedBy,
            onclick: async (event: Event) => {
              const button = event.currentTarget as HTMLButtonElement;
              button.disabled = true;
              try {
                await api.unlock(user.userId);
                lockedCell.textContent = 'No';
                button.remove();
                notice.show(`Unlocked two-factor authentication for ${user.userId}.`);
              } catch (error) {
                if (!(error instanceof ApiError)) throw error;
                button.disabled = false;
                usersAlert.show(messageFor(error));
              }
            },
          },
          'Unlock',
        ),
      );
    }
    actions.append(
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          'aria-describedby': describedBy,
          onclick: () => openReset(user, statusCell, [sinceCell, codesCell]),
        },
        'Reset two-factor authentication',
      ),
    );
    return tr;
  }

  function openReset(user: UserListItem, statusCell: HTMLElement, afterReset: readonly HTMLElement[]) {
    openDialog(`Reset two-factor authentication for ${user.userId}`, (dialog) => {
      const reason = field({
        label: 'Reason',
        hint: 'Kept in the audit history, e.g. "lost phone; identity checked, ticket 4711".',
        multiline: true,
        input: { required: true, maxlength: String(REASON_MAX_LENGTH) },
      });
      const alert = messageLine('alert');
      const submit = h('button', { type: 'submit', class: 'danger' }, 'Reset two-factor authentication');
      async function onSubmit(event: Event) {
        event.preventDefault();
        reason.setError(null);
        alert.show(null);
        const text = reason.input.value.trim();
        if (text === '') {
          reason.setError('Say why, for the audit history.');
          reason.input.focus();
          return;
        }
        submit.disabled = true;
        try {
          await api.reset(user.userId, text);
          // The answer is the command's own: the list (a read model) may lag a moment behind it.
          for (const cell of afterReset) cell.textContent = '—';
          statusCell.textContent = STATUS_WORDS.disabled;
          dialog.close();
          notice.show(
            `Two-factor authentication was reset for ${user.userId}: they set it up again at their next sign-in.`,
          );
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          alert.show(messageFor(error));
          submit.disabled = false;
        }
      }
      return [
        h(
          'p',
          {},
          'Their authenticator app and all their recovery codes stop working at once. Use this only after checking who is asking.',
        ),
        h(
          'form',
          { novalidate: true, onsubmit: onSubmit },
          reason.element,
          alert.element,
          h(
            'div',
            { class: 'actions' },
            submit,
            h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
          ),
        ),
      ];
    });
  }

  async function loadUsers(cursor?: string) {
    usersAlert.show(null);
    try {
      const page = await api.users(cursor);
      if (cursor === undefined) replace(rows);
      rows.append(...page.users.map(row));
      if (cursor === undefined && page.users.length === 0) {
        rows.append(
          h(
            'tr',
            { role: 'row' },
            h('td', { role: 'cell', colspan: '6' }, 'No user has set up two-factor authentication yet.'),
          ),
        );
      }
      const next = page.nextCursor;
      replace(
        more,
        next === null
          ? null
          : h('button', { type: 'button', onclick: () => void loadUsers(next) }, 'Show more'),
      );
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      usersAlert.show(messageFor(error));
    }
  }

  api.policy().then(renderPolicy, (error: unknown) => {
    if (!(error instanceof ApiError)) throw error;
    replace(policyCard, h('p', { class: 'message error', role: 'alert' }, messageFor(error)));
  });
  void loadUsers();

  return {
    nodes: [
      heading,
      notice.element,
      policyCard,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'users-heading' },
        h(
          'div',
          { class: 'card-head' },
          h('h2', { id: 'users-heading' }, 'Users'),
          h('button', { type: 'button', onclick: () => void loadUsers() }, 'Refresh'),
        ),
        usersAlert.element,
        h(
          'table',
          // Explicit roles: the narrow layout restyles the table, which must not cost its semantics.
          { class: 'users', role: 'table', 'aria-labelledby': 'users-heading' },
          h(
            'thead',
            { role: 'rowgroup' },
            h(
              'tr',
              { role: 'row' },
              ...['User id', 'Status', 'Enabled since', 'Recovery codes left', 'Locked', 'Actions'].map(
                (name) => h('th', { scope: 'col', role: 'columnheader' }, name),
              ),
            ),
          ),
          rows,
        ),
        more,
      ),
    ],
    focus: heading,
  };
}
