import { ApiError, api, type SessionView, whenSessionEnds } from './api.ts';
import { byId, h, replace } from './dom.ts';
import { messageFor } from './messages.ts';
import { accountScreen } from './screens/account.ts';
import { adminScreen } from './screens/admin.ts';
import type { ScreenContext } from './screens/context.ts';
import { proxySignInScreen, secondStepScreen, signInScreen } from './screens/signIn.ts';

const main = byId('main');

function renderHeader(session: SessionView): void {
  byId('brand').textContent = session.productName;
  const here = location.pathname;
  const link = (href: string, text: string) =>
    h('a', { href, 'aria-current': here === href ? 'page' : undefined }, text);
  replace(
    byId('nav'),
    session.stage === 'signed-in' ? link('/', 'Account') : null,
    session.stage === 'signed-in' && session.admin ? link('/admin', 'Admin') : null,
  );
  replace(
    byId('who'),
    session.userId !== null ? h('span', { class: 'user' }, session.userId) : null,
    session.stage === 'anonymous' ? null : h('button', { type: 'button', onclick: signOut }, 'Sign out'),
  );
}

async function signOut(): Promise<void> {
  try {
    show(await api.signOut(), 'You have signed out.');
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    void start(messageFor(error));
  }
}

/** Draws the screen for the session's stage and the address (`/` or `/admin`). */
function show(session: SessionView, message: string | null = null, moveFocus = true): void {
  renderHeader(session);
  const context: ScreenContext = {
    session,
    message,
    changeSession: (next, text) => show(next, text ?? null),
  };
  const screen =
    session.stage === 'anonymous'
      ? session.firstStep === 'trusted-header'
        ? proxySignInScreen(context)
        : signInScreen(context)
      : session.stage === 'second-step'
        ? secondStepScreen(context)
        : location.pathname === '/admin'
          ? adminScreen(context)
          : accountScreen(context);
  const shown =
    message !== null && session.stage !== 'signed-in'
      ? h('p', { class: 'message ok', role: 'status' }, message)
      : null;
  replace(main, shown, ...screen.nodes);
  if (moveFocus) screen.focus.focus();
}

async function start(message: string | null = null): Promise<void> {
  try {
    const session = await api.session();
    // On arrival, the cursor goes to the field to type in; a signed-in page is read from the top.
    show(session, message, message !== null || session.stage !== 'signed-in');
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    replace(
      main,
      h('h1', {}, 'Two-factor authentication'),
      h('p', { class: 'message error', role: 'alert' }, messageFor(error)),
    );
  }
}

whenSessionEnds(() => void start('Your session has ended. Sign in again.'));
void start();
