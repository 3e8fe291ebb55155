import { ApiError, api, type SessionView, whenSessionEnds } from './api.ts';
import { byId, h, replace } from './dom.ts';
import { messageFor } from './messages.ts';
import { accountScreen } from './screens/account.ts';
import { adminScreen } from './screens/admin.ts';
import type { ScreenContext } from './screens/context.ts';
import { requiredSetupScreen, setupOfferScreen } from './screens/requiredSetup.ts';
import { proxySignInScreen, secondStepScreen, signInScreen } from './screens/signIn.ts';

const main = byId('main');

/** A signed-in session that must (or is asked to) set 2FA up first: it sees only that. */
const setupFirst = (session: SessionView) =>
  session.stage === 'signed-in' && (session.mustEnroll || session.setupOffer !== null);

function renderHeader(session: SessionView): void {
  byId('brand').textContent = session.productName;
  const here = location.pathname;
  const link = (href: string, text: string) =>
    h('a', { href, 'aria-current': here === href ? 'page' : undefined }, text);
  const pages = session.stage === 'signed-in' && !setupFirst(session);
  replace(
    byId('nav'),
    pages ? link('/', 'Account') : null,
    pages && session.admin ? link('/admin', 'Admin') : null,
  );
  // Before the second step, nobody is signed in yet: the sign-in card itself offers to cancel.
  const signedIn = session.stage === 'signed-in';
  replace(
    byId('who'),
    signedIn && session.userId !== null ? h('span', { class: 'user' }, session.userId) : null,
    signedIn ? h('button', { type: 'button', onclick: signOut }, 'Sign out') : null,
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
        : session.mustEnroll
          ? requiredSetupScreen(context)
          : session.setupOffer !== null
            ? setupOfferScreen(context)
            : location.pathname === '/admin'
              ? adminScreen(context)
              : accountScreen(context);
  const shown =
    message !== null && session.stage !== 'signed-in'
      ? h('p', { class: 'message ok', role: 'status' }, message)
      : null;
  // The admin page's table gets the width of a wide window; every other page reads as a column.
  document.body.classList.toggle(
    'wide',
    session.stage === 'signed-in' && session.admin && location.pathname === '/admin' && !setupFirst(session),
  );
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
