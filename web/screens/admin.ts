import { REASON_MAX_LENGTH } from '../../src/domain/shared/reason.ts';
import {
  ApiError,
  api,
  type Policy,
  type UserListFilter,
  type UserListItem,
  type UsersSummary,
} from '../api.ts';
import {
  errorWithRetry,
  field,
  formatTime,
  messageLine,
  noticeLine,
  openDialog,
  toggleSwitch,
} from '../components.ts';
import { h, replace } from '../dom.ts';
import { messageFor } from '../messages.ts';
import type { ScreenContext } from './context.ts';

const STATUS_WORDS: Record<UserListItem['status'], string> = {
  enabled: 'On',
  pending: 'Setting up',
  disabled: 'Off',
};

/** The policy's longest grace period: a year, as the service allows. */
const GRACE_MAX_HOURS = 8760;

/** Which of the user's kinds of code are locked: each locks on its own, and an unlock clears both. */
function lockedWords(user: UserListItem): string {
  if (user.locked && user.recoveryCodesLocked) return 'Both';
  if (user.locked) return 'App codes';
  return user.recoveryCodesLocked ? 'Recovery codes' : 'None';
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "72 hours", "no grace": how a grace period reads in a sentence. */
const graceWords = (hours: number) =>
  hours === 0 ? 'no grace period' : `a grace period of ${plural(hours, 'hour')}`;

/** The grace typed in: a whole number of hours from 0 to a year, or why not. */
function parseGrace(text: string): number | string {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return 'Enter a whole number of hours, from 0 to 8760.';
  const hours = Number(trimmed);
  return hours > GRACE_MAX_HOURS ? 'At most 8760 hours (a year).' : hours;
}

/** The admin page: Require 2FA for all users, the coverage, the user list, unlock and the emergency reset. */
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
          'Only administrators can open this page: the user ids listed in UI_ADMINS, with two-factor authentication on.',
        ),
        h('p', {}, h('a', { href: '/' }, 'Back to your account')),
      ],
      focus: heading,
    };
  }

  const notice = noticeLine();
  const policyCard = h('section', { class: 'card', 'aria-labelledby': 'policy-heading' });
  const rows = h('tbody', { role: 'rowgroup' });
  const more = h('div', { class: 'actions' });
  const usersProblem = h('div');
  const coverage = h('div', { id: 'coverage' });
  let filter: UserListFilter | undefined;
  /** the service's clock minus the page's, from the last summary: "past" is the service's word */
  let serviceAheadMs = 0;

  function renderCoverage(summary: UsersSummary) {
    serviceAheadMs = Date.parse(summary.asOf) - Date.now();
    if (!summary.requireTwoFactor) {
      replace(
        coverage,
        h(
          'p',
          { class: 'status' },
          `${plural(summary.enrolledUsers, 'user')} with two-factor authentication on.`,
        ),
      );
      return;
    }
    const showRequired = h(
      'button',
      { type: 'button', class: 'link', onclick: () => void showUsers('required') },
      'Show who is not enrolled',
    );
    replace(
      coverage,
      h(
        'p',
        { class: 'coverage' },
        h(
          'strong',
          {},
          `Required: ${summary.enrolledUsers} of ${plural(summary.seenUsers, 'seen user')} enrolled; ${summary.pastDeadline} past their deadline.`,
        ),
        ' ',
        summary.seenUsers > summary.enrolledUsers ? showRequired : null,
      ),
      h(
        'p',
        { class: 'hint' },
        'A user is seen when they sign in (or start a setup) while 2FA is required; users not seen yet are asked at their next sign-in.',
      ),
    );
  }

  async function loadCoverage(): Promise<UsersSummary | null> {
    try {
      const summary = await api.summary();
      renderCoverage(summary);
      return summary;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      replace(coverage, ...errorWithRetry(messageFor(error), () => void loadCoverage()));
      return null;
    }
  }

  function renderPolicy(policy: Policy) {
    const alert = messageLine('alert');
    const grace = field({
      label: 'Grace period (hours)',
      hint: 'How long a user without two-factor authentication may put setting it up off, from when they are first seen while it is required: 0 (at their next sign-in) to 8760 (a year).',
      input: { inputmode: 'numeric', value: String(policy.gracePeriodHours), class: 'short' },
    });
    const readGrace = (): number | null => {
      const parsed = parseGrace(grace.input.value);
      if (typeof parsed === 'number') return parsed;
      grace.setError(parsed);
      return null;
    };
    const saveGrace = h(
      'button',
      {
        type: 'button',
        onclick: () => {
          const hours = readGrace();
          if (hours !== null) void confirmPolicy(true, hours, policy);
        },
      },
      'Change the grace period',
    );
    const since =
      policy.updatedAt === null
        ? 'Never changed.'
        : policy.requireTwoFactor
          ? `Required since ${formatTime(policy.requiredSince ?? policy.updatedAt)}, with ${graceWords(policy.gracePeriodHours)}; last changed ${formatTime(policy.updatedAt)}${policy.updatedBy ? ` by ${policy.updatedBy}` : ''}.`
          : `Not required since ${formatTime(policy.updatedAt)}${policy.updatedBy ? ` (by ${policy.updatedBy})` : ''}.`;
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
            'When on, users without two-factor authentication must set it up — at their next sign-in, or within the grace period — before anything else, and users who have it cannot turn it off.',
          ),
        ),
        toggleSwitch({
          labelledBy: 'require-label',
          describedBy: 'require-hint require-since',
          checked: policy.requireTwoFactor,
          locked: false,
          onToggle: () => {
            alert.show(null);
            grace.setError(null);
            const hours = policy.requireTwoFactor ? policy.gracePeriodHours : readGrace();
            if (hours !== null) void confirmPolicy(!policy.requireTwoFactor, hours, policy);
          },
        }),
      ),
      h('p', { class: 'status', id: 'require-since' }, since),
      coverage,
      grace.element,
      policy.requireTwoFactor ? h('div', { class: 'actions' }, saveGrace) : null,
      alert.element,
    );

    /**
     * Asks before changing everyone's sign-in, naming whom it reaches (from the coverage the
     * service counts), then changes it.
     */
    async function confirmPolicy(require: boolean, hours: number, was: Policy) {
      const summary = await loadCoverage();
      if (summary === null) return;
      const waiting = summary.seenUsers - summary.enrolledUsers;
      const turningOn = require && !was.requireTwoFactor;
      const title = turningOn
        ? 'Require 2FA for all users?'
        : require
          ? `Change the grace period to ${plural(hours, 'hour')}?`
          : 'Stop requiring 2FA?';
      const confirmLabel = turningOn
        ? 'Require 2FA for all users'
        : require
          ? 'Change the grace period'
          : 'Stop requiring 2FA';
      const sentences = turningOn
        ? [
            hours === 0
              ? 'Every user without two-factor authentication will have to set it up at their next sign-in, before anything else.'
              : `Every user without two-factor authentication will have to set it up within ${plural(hours, 'hour')} of the next time they sign in, and before anything else after that.`,
            `${plural(summary.enrolledUsers, 'user has', 'users have')} it on already and can no longer turn it off. Everyone else is affected, including users who have never used two-factor authentication here: the service sees them only when they next sign in, and asks them then.`,
          ]
        : require
          ? [
              `The new grace applies at once to the ${plural(waiting, 'user')} seen without two-factor authentication, including those who chose "Remind me later"; a shorter one can make the setup due at their next sign-in.`,
              'A user whose two-factor authentication was reset sets it up again at their next sign-in, whatever the grace.',
            ]
          : [
              `The ${plural(waiting, 'user')} seen without two-factor authentication (${summary.pastDeadline} past their deadline) will no longer be asked to set it up, and users who have it may turn it off.`,
            ];
      openDialog(title, (dialog) => {
        const failed = messageLine('alert');
        const confirm = h(
          'button',
          {
            type: 'button',
            class: require ? 'primary' : 'danger-solid',
            onclick: async () => {
              confirm.disabled = true;
              failed.show(null);
              try {
                const changed = await api.setPolicy(require, hours);
                dialog.close();
                renderPolicy(changed);
                policyCard.querySelector<HTMLElement>('[role="switch"]')?.focus();
                void loadCoverage();
                void showUsers(filter);
                notice.show(
                  !changed.requireTwoFactor
                    ? 'Two-factor authentication is no longer required.'
                    : turningOn
                      ? `Two-factor authentication is now required for all users, with ${graceWords(changed.gracePeriodHours)}.`
                      : `The grace period is now ${plural(changed.gracePeriodHours, 'hour')}.`,
                );
              } catch (error) {
                if (!(error instanceof ApiError)) throw error;
                failed.show(messageFor(error));
                confirm.disabled = false;
              }
            },
          },
          confirmLabel,
        );
        return [
          ...sentences.map((sentence) => h('p', {}, sentence)),
          failed.element,
          h(
            'div',
            { class: 'actions' },
            confirm,
            h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
          ),
        ];
      });
    }
  }

  function deadlineWords(user: UserListItem): string {
    if (user.enrollBy === null) return '—';
    const past = Date.parse(user.enrollBy) <= Date.now() + serviceAheadMs;
    return `${formatTime(user.enrollBy)}${past ? ' (past)' : ''}`;
  }

  function row(user: UserListItem): HTMLTableRowElement {
    const idCell = h(
      'th',
      { scope: 'row', role: 'rowheader', 'data-label': 'User id', id: `user-${user.userId}`, tabindex: '-1' },
      user.userId,
    );
    const statusCell = h('td', { role: 'cell', 'data-label': 'Status' }, STATUS_WORDS[user.status]);
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
    const deadlineCell = h('td', { role: 'cell', 'data-label': 'Deadline' }, deadlineWords(user));
    const lockedCell = h('td', { role: 'cell', 'data-label': 'Locked codes' }, lockedWords(user));
    // On phones each cell is labelled by its column; the buttons say what they are themselves.
    const actions = h('div', { class: 'row-actions' });
    const tr = h(
      'tr',
      { role: 'row' },
      idCell,
      statusCell,
      sinceCell,
      codesCell,
      deadlineCell,
      lockedCell,
      h('td', { role: 'cell' }, actions),
    );
    const describedBy = idCell.id;
    // Reset only where there is something to reset: an authenticator, or a setup under way.
    const reset =
      user.status === 'disabled'
        ? null
        : h(
            'button',
            {
              type: 'button',
              class: 'danger',
              'aria-describedby': describedBy,
              onclick: () =>
                openReset(user, { statusCell, cleared: [sinceCell, codesCell, lockedCell], idCell }),
            },
            'Reset 2FA',
          );
    if (user.locked || user.recoveryCodesLocked) {
      const unlock = h(
        'button',
        {
          type: 'button',
          'aria-describedby': describedBy,
          onclick: async () => {
            unlock.disabled = true;
            try {
              await api.unlock(user.userId);
              lockedCell.textContent = 'None';
              // The keyboard goes on to the row's next control, not to the top of the page.
              (reset ?? idCell).focus();
              unlock.remove();
              notice.show(`Unlocked two-factor authentication for ${user.userId}.`);
            } catch (error) {
              if (!(error instanceof ApiError)) throw error;
              unlock.disabled = false;
              replace(usersProblem, h('p', { class: 'message error', role: 'alert' }, messageFor(error)));
            }
          },
        },
        'Unlock',
      );
      actions.append(unlock);
    }
    if (reset !== null) actions.append(reset);
    return tr;
  }

  function openReset(
    user: UserListItem,
    cells: { statusCell: HTMLElement; cleared: readonly HTMLElement[]; idCell: HTMLElement },
  ) {
    const opener = document.activeElement;
    openDialog(`Reset two-factor authentication for ${user.userId}`, (dialog) => {
      const reason = field({
        label: 'Reason',
        hint: 'Kept in the audit history, e.g. "lost phone; identity checked, ticket 4711".',
        multiline: true,
        input: { required: true, maxlength: String(REASON_MAX_LENGTH) },
      });
      const alert = messageLine('alert');
      const submit = h(
        'button',
        { type: 'submit', class: 'danger-solid' },
        'Reset two-factor authentication',
      );
      async function onSubmit(event: Event) {
        event.preventDefault();
        reason.setError(null);
        alert.show(null);
        const text = reason.input.value.trim();
        if (text === '') {
          reason.setError('Say why, for the audit history.');
          return;
        }
        submit.disabled = true;
        try {
          await api.reset(user.userId, text);
          // The answer is the command's own: the list (a read model) may lag a moment behind it.
          for (const cell of cells.cleared) cell.textContent = '—';
          cells.statusCell.textContent = STATUS_WORDS.disabled;
          dialog.close();
          // Nothing is left to reset: the button goes, and the keyboard stays on the row.
          if (opener instanceof HTMLElement) opener.remove();
          cells.idCell.focus();
          notice.show(
            `Two-factor authentication was reset for ${user.userId}: they set it up again at their next sign-in.`,
          );
          void loadCoverage();
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

  const filterSelect = h(
    'select',
    {
      id: 'users-filter',
      onchange: () => void showUsers(filterSelect.value === 'required' ? 'required' : undefined),
    },
    h('option', { value: '' }, 'All users'),
    h('option', { value: 'required' }, 'Required, not enrolled'),
  );

  /** Shows the first page of the list, all users or one filter's. */
  async function showUsers(status: UserListFilter | undefined) {
    filter = status;
    filterSelect.value = status ?? '';
    await loadUsers();
  }

  async function loadUsers(cursor?: string) {
    replace(usersProblem);
    try {
      const page = await api.users({
        ...(cursor === undefined ? {} : { cursor }),
        ...(filter === undefined ? {} : { status: filter }),
      });
      if (cursor === undefined) replace(rows);
      rows.append(...page.users.map(row));
      if (cursor === undefined && page.users.length === 0) {
        rows.append(
          h(
            'tr',
            { role: 'row' },
            h(
              'td',
              { role: 'cell', colspan: '7' },
              filter === 'required'
                ? 'Nobody seen without two-factor authentication is waiting to set it up.'
                : 'No user has set up two-factor authentication yet.',
            ),
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
      replace(usersProblem, ...errorWithRetry(messageFor(error), () => void loadUsers(cursor)));
    }
  }

  function loadPolicy() {
    replace(policyCard, h('p', { role: 'status' }, 'Loading…'));
    api.policy().then(
      (policy) => {
        renderPolicy(policy);
        void loadCoverage();
      },
      (error: unknown) => {
        if (!(error instanceof ApiError)) throw error;
        replace(
          policyCard,
          h('h2', { id: 'policy-heading' }, 'Policy'),
          ...errorWithRetry(messageFor(error), loadPolicy),
        );
      },
    );
  }
  loadPolicy();
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
          h(
            'div',
            { class: 'filters' },
            h('label', { for: 'users-filter' }, 'Show'),
            filterSelect,
            h(
              'button',
              {
                type: 'button',
                onclick: () => {
                  void loadCoverage();
                  void showUsers(filter);
                },
              },
              'Refresh',
            ),
          ),
        ),
        usersProblem,
        h(
          'div',
          { class: 'table-scroll' },
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
                ...[
                  'User id',
                  'Status',
                  'Enabled since',
                  'Recovery codes left',
                  'Deadline',
                  'Locked codes',
                  'Actions',
                ].map((name) => h('th', { scope: 'col', role: 'columnheader' }, name)),
              ),
            ),
            rows,
          ),
        ),
        more,
      ),
    ],
    focus: heading,
  };
}
