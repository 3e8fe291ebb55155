import { isUserId } from '../../src/domain/twoFactor/userId.ts';
import { ApiError, api } from '../api.ts';
import { codeForm, field, messageLine } from '../components.ts';
import { h } from '../dom.ts';
import { messageFor } from '../messages.ts';
import type { ScreenContext } from './context.ts';

/** The demo first step: a user id stands in for the product's own password or social login. */
export function signInScreen(context: ScreenContext): { nodes: Node[]; focus: HTMLElement } {
  document.title = `Sign in — ${context.session.productName}`;
  const userId = field({
    label: 'User id',
    hint: 'Any user id, e.g. ada or ada@example.com. Administrators (UI_ADMINS, admin by default) set up two-factor authentication first.',
    input: { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true },
  });
  const alert = messageLine('alert');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  async function onSubmit(event: Event) {
    event.preventDefault();
    userId.setError(null);
    alert.show(null);
    const value = userId.input.value.trim();
    if (!isUserId(value)) {
      userId.setError('A user id is 1–128 letters, digits or . _ : @ - (no spaces).');
      return;
    }
    submit.disabled = true;
    try {
      context.changeSession(await api.signIn(value));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      alert.show(messageFor(error));
      submit.disabled = false;
    }
  }
  return {
    nodes: [
      h(
        'div',
        { class: 'narrow' },
        h('h1', { tabindex: '-1' }, 'Sign in'),
        h(
          'p',
          { class: 'note' },
          h('strong', {}, 'Demo sign-in. '),
          'The first step — your password or social login — belongs to the product, not to this two-factor service, so here a user id is enough. The second step that follows is real.',
        ),
        h(
          'form',
          { class: 'card', novalidate: true, onsubmit: onSubmit },
          userId.element,
          alert.element,
          h('div', { class: 'actions' }, submit),
        ),
      ),
    ],
    focus: userId.input,
  };
}

/**
 * Behind a sign-in proxy the first step is already taken: the proxy says who the user is, and
 * the page signs in at once, leaving only the second step (if any) to the user. After a
 * sign-out here (the proxy's own session goes on) it waits to be asked.
 */
export function proxySignInScreen(context: ScreenContext): { nodes: Node[]; focus: HTMLElement } {
  document.title = `Signing in — ${context.session.productName}`;
  const waiting = context.message !== null;
  const heading = h('h1', { tabindex: '-1' }, waiting ? 'Sign in' : 'Signing in…');
  const alert = messageLine('alert');
  const retry = h(
    'button',
    { type: 'button', class: 'primary', hidden: !waiting, onclick: () => attempt() },
    waiting ? 'Sign in again' : 'Try again',
  );
  async function attempt() {
    retry.hidden = true;
    alert.show(null);
    try {
      context.changeSession(await api.signIn());
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      heading.textContent = 'Sign in';
      alert.show(messageFor(error));
      retry.hidden = false;
    }
  }
  if (!waiting) void attempt();
  return {
    nodes: [h('div', { class: 'narrow' }, heading, alert.element, h('div', { class: 'actions' }, retry))],
    focus: heading,
  };
}

/**
 * The second step, as a sign-in card: nobody is signed in until a code is verified here, so
 * the page offers no "Sign out", only to cancel this sign-in.
 */
export function secondStepScreen(context: ScreenContext): { nodes: Node[]; focus: HTMLElement } {
  document.title = `Two-step verification — ${context.session.productName}`;
  const form = codeForm({
    submitLabel: 'Verify',
    allowRecoveryCode: true,
    onSubmit: async (proof) => {
      const verified = await api.verify(proof);
      // The account card says how many recovery codes are left (and warns when few are).
      context.changeSession(
        verified.session,
        verified.method === 'recovery-code'
          ? 'Signed in with a recovery code: it no longer works.'
          : undefined,
      );
    },
  });
  const alert = messageLine('alert');
  async function cancel() {
    alert.show(null);
    try {
      context.changeSession(await api.signOut(), 'Sign-in cancelled.');
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      alert.show(messageFor(error));
    }
  }
  return {
    nodes: [
      h(
        'div',
        { class: 'narrow' },
        h('h1', { tabindex: '-1' }, 'Two-step verification'),
        h(
          'p',
          {},
          'Enter the six-digit code from your authenticator app for ',
          h('strong', {}, context.session.userId ?? ''),
          '.',
        ),
        h('div', { class: 'card' }, form.element),
        alert.element,
        h('p', {}, h('button', { type: 'button', class: 'link', onclick: cancel }, 'Cancel sign-in')),
      ),
    ],
    focus: form.element.querySelector('input') ?? form.element,
  };
}
