import { ApiError, api, type SessionView } from '../api.ts';
import { formatTime, messageLine } from '../components.ts';
import { h, replace } from '../dom.ts';
import { messageFor, timeLeft } from '../messages.ts';
import { setupFlow } from '../setupFlow.ts';
import type { ScreenContext } from './context.ts';

/**
 * The setup is done: on to what was asked for, or to the Account page where that was a page
 * this user may not open (the admin page, for anyone but an administrator).
 */
function finished(context: ScreenContext, next: SessionView): void {
  if (!next.admin && location.pathname !== '/') history.replaceState(null, '', '/');
  context.changeSession(next, 'Two-factor authentication is on.');
}

const WHY = {
  administrator:
    'As an administrator, you set up two-factor authentication before anything else: the admin page opens once it is on.',
  policy:
    'Your administrator requires two-factor authentication for all users, and it is due now: set it up to continue. You need an authenticator app such as Google Authenticator, Authy, Microsoft Authenticator or 1Password.',
} as const;

/**
 * The setup, when it is due before anything else (an administrator without 2FA, or "require
 * 2FA" past the user's deadline): whatever address was asked for, this is the page, and the
 * service refuses everything else to the session until 2FA is on. Signing out is the only
 * other way (in the header).
 */
export function requiredSetupScreen(context: ScreenContext): { nodes: Node[]; focus: HTMLElement } {
  const { session } = context;
  document.title = `Set up two-factor authentication — ${session.productName}`;
  const heading = h('h1', { tabindex: '-1' }, 'Set up two-factor authentication');
  const flow = setupFlow({
    productName: session.productName,
    userId: session.userId ?? '',
    headingLevel: 'h2',
    onFinish: (next) => finished(context, next),
  });
  flow.begin();
  return {
    nodes: [
      h(
        'div',
        { class: 'narrow' },
        heading,
        h('p', { class: 'message warn' }, WHY[session.mustEnrollBecause ?? 'policy']),
        h('div', { class: 'card' }, flow.element),
      ),
    ],
    focus: heading,
  };
}

/**
 * "Require 2FA" during the user's grace period, once a session: set it up now, or be reminded
 * at the next sign-in. The time left is the service's, counted from its own clock.
 */
export function setupOfferScreen(context: ScreenContext): { nodes: Node[]; focus: HTMLElement } {
  const { session } = context;
  const offer = session.setupOffer;
  document.title = `Set up two-factor authentication — ${session.productName}`;
  const heading = h('h1', { tabindex: '-1' }, 'Set up two-factor authentication');
  const body = h('div', { class: 'card' });
  const alert = messageLine('alert');
  const left = offer === null ? '' : timeLeft(offer.secondsLeft);

  function ask() {
    const now = h('button', { type: 'button', class: 'primary', onclick: setUpNow }, 'Set up now');
    const later = h('button', { type: 'button', onclick: remindLater }, `Remind me later (${left} left)`);
    replace(
      body,
      h(
        'p',
        {},
        'Your administrator requires two-factor authentication for all users: a six-digit code from an authenticator app at each sign-in, with recovery codes as a backup.',
      ),
      offer === null
        ? null
        : h(
            'p',
            {},
            'Set it up by ',
            h('strong', {}, formatTime(offer.enrollBy)),
            ` (${left} left). After that, you will have to set it up before anything else.`,
          ),
      alert.element,
      h('div', { class: 'actions' }, now, later),
    );
    return now;
  }

  function setUpNow() {
    const flow = setupFlow({
      productName: session.productName,
      userId: session.userId ?? '',
      headingLevel: 'h2',
      cancel: () => ask().focus(),
      onFinish: (next) => finished(context, next),
    });
    replace(body, flow.element);
    flow.begin();
  }

  async function remindLater(event: Event) {
    const button = event.currentTarget as HTMLButtonElement;
    button.disabled = true;
    alert.show(null);
    try {
      // The answer may say the setup is due after all (the deadline came meanwhile).
      context.changeSession(await api.remindLater());
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      alert.show(messageFor(error));
      button.disabled = false;
    }
  }

  ask();
  return { nodes: [h('div', { class: 'narrow' }, heading, body)], focus: heading };
}
