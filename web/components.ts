import { ApiError, type Proof } from './api.ts';
import { h, replace, uid } from './dom.ts';
import { attemptsLeftSentence, messageFor } from './messages.ts';

/**
 * A switch (role="switch"): its state is aria-checked, and its name is the label followed by
 * the state it shows ("Two-factor authentication Off"), so what a person sees is what a voice
 * control or a screen reader user can say.
 */
export function toggleSwitch(options: {
  readonly labelledBy: string;
  readonly describedBy?: string;
  readonly checked: boolean;
  readonly locked: boolean;
  readonly onToggle: () => void;
}): HTMLButtonElement {
  const textId = `${options.labelledBy}-state`;
  return h(
    'button',
    {
      type: 'button',
      class: 'switch',
      role: 'switch',
      'data-key': options.labelledBy,
      'aria-checked': String(options.checked),
      'aria-labelledby': `${options.labelledBy} ${textId}`,
      'aria-describedby': options.describedBy,
      // Still focusable when locked, so the reason (its description) can be found.
      'aria-disabled': options.locked ? 'true' : undefined,
      onclick: () => {
        if (!options.locked) options.onToggle();
      },
    },
    h('span', { class: 'switch-track', 'aria-hidden': 'true' }, h('span', { class: 'switch-thumb' })),
    h('span', { class: 'switch-text', id: textId }, options.checked ? 'On' : 'Off'),
  );
}

/**
 * A labelled text field with its own error line, wired with aria-describedby/aria-invalid.
 * The error line is a live region (role=alert): an error is announced when it appears, even
 * when the keyboard is still in the field.
 */
export function field(options: {
  readonly label: string;
  readonly input: Record<string, string | boolean>;
  readonly multiline?: boolean;
  readonly hint?: string;
}) {
  const id = uid('field');
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [options.hint ? hintId : null, errorId].filter(Boolean).join(' ');
  const props = { id, name: id, 'aria-describedby': describedBy, ...options.input };
  const input = options.multiline
    ? h('textarea', { rows: 3, ...props })
    : h('input', { type: 'text', ...props });
  const error = h('p', { class: 'field-error', id: errorId, role: 'alert' });
  // Once the person types again, an old complaint no longer applies.
  input.addEventListener('input', () => {
    replace(error, '');
    input.removeAttribute('aria-invalid');
  });
  const element = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, options.label),
    options.hint ? h('p', { class: 'hint', id: hintId }, options.hint) : null,
    input,
    error,
  );
  return {
    element,
    input,
    /** shows (or with null, clears) the field's error; an error takes the keyboard to the field */
    setError(message: string | null) {
      replace(error, message ?? '');
      if (message === null) {
        input.removeAttribute('aria-invalid');
        return;
      }
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      input.select();
    },
  };
}

/** A message line that screen readers announce: role=alert for errors, role=status otherwise. */
export function messageLine(kind: 'alert' | 'status') {
  const element = h('p', { class: kind === 'alert' ? 'message error' : 'message ok', role: kind });
  return {
    element,
    show(text: string | null) {
      replace(element, text ?? '');
    },
  };
}

/**
 * A success message ("Two-factor authentication is on.") that lasts until the person's next
 * action: the next button, link or switch pressed, or form sent. A page keeps one, so news
 * never piles up under old news.
 */
export function noticeLine() {
  const line = messageLine('status');
  let disarm: (() => void) | null = null;
  const clear = () => {
    disarm?.();
    line.show(null);
  };
  return {
    element: line.element,
    show(text: string | null) {
      clear();
      line.show(text);
      if (text === null) return;
      // Armed after this turn: the click that led here must not clear what it produced.
      const onAction = (event: Event) => {
        const target = event.target instanceof Element ? event.target : null;
        if (event.type === 'submit' || target?.closest('button, a[href], [role="switch"]')) clear();
      };
      const timer = setTimeout(() => {
        document.addEventListener('click', onAction, true);
        document.addEventListener('submit', onAction, true);
      }, 0);
      disarm = () => {
        clearTimeout(timer);
        document.removeEventListener('click', onAction, true);
        document.removeEventListener('submit', onAction, true);
        disarm = null;
      };
    },
  };
}

/**
 * A message that counts a lock down, second by second: announced once when it appears
 * (role=alert), then read as a timer (role=timer, which screen readers do not speak at every
 * change), so the time it shows stays true; `onEnd` once it has run out. `after` is shown
 * behind the changing sentence (e.g. a button for the other kind of code).
 */
export function countdownLine() {
  const text = h('span');
  const element = h('p', { class: 'message error', role: 'alert' });
  let timer: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  const clear = () => {
    stop();
    replace(element);
    element.setAttribute('role', 'alert');
  };
  return {
    element,
    clear,
    get running() {
      return timer !== undefined;
    },
    /** `sentence(seconds left)`, counted down from `seconds` (null: no end to count to) */
    show(
      sentence: (secondsLeft: number | null) => string,
      seconds: number | null,
      options: { readonly after?: readonly (Node | string)[]; readonly onEnd?: () => void } = {},
    ) {
      clear();
      replace(text, sentence(seconds));
      replace(element, text, ...(options.after ?? []));
      if (seconds === null) return;
      const endsAtMs = Date.now() + seconds * 1000;
      timer = setInterval(() => {
        if (!element.isConnected) return stop();
        element.setAttribute('role', 'timer');
        const left = Math.ceil((endsAtMs - Date.now()) / 1000);
        if (left > 0) return replace(text, sentence(left));
        clear();
        options.onEnd?.();
      }, 1000);
    },
  };
}

/** An error that says to try again, with the button that does (and any others beside it). */
export function errorWithRetry(
  message: string,
  retry: () => void,
  ...others: (HTMLElement | null)[]
): Node[] {
  const button = h('button', { type: 'button', 'data-key': 'retry', onclick: retry }, 'Try again');
  return [
    h('p', { class: 'message error', role: 'alert' }, message),
    h('div', { class: 'actions' }, button, ...others),
  ];
}

const SIX_DIGITS = /^\d{6}$/;

type Kind = 'app' | 'recovery-codes';

/**
 * The code prompt used everywhere a code proves the person: "Six-digit code", and when
 * recovery codes are accepted, a button "Use a recovery code instead" that swaps in a
 * "Recovery code" field. Submitting is disabled while a request is in flight, so a double
 * click cannot send one code twice, and while the kind of code shown is locked: the lock is
 * counted down, and the submit button comes back when it ends. From the third wrong code in a
 * row, the field's error says how many tries are left before a lock.
 */
export function codeForm(options: {
  readonly submitLabel: string;
  readonly allowRecoveryCode: boolean;
  readonly onSubmit: (proof: Proof) => Promise<void>;
  readonly extraButtons?: readonly HTMLElement[];
  /** the submit button's look: a destructive action is red */
  readonly submitClass?: 'primary' | 'danger-solid';
  /** fields asked for with the code, above it (e.g. a name) */
  readonly prefix?: readonly Node[];
  /** checks those fields before the code: false stops the submission (they show their own error) */
  readonly beforeSubmit?: () => boolean;
  /** a sentence of the form's own for a refusal that is not about the code, else messageFor's */
  readonly explain?: (error: ApiError) => string | null;
}) {
  let recovery = false;
  let inFlight = false;
  /** per kind of code: locked until the countdown ends (true), or until an administrator (also true) */
  const locked: Record<Kind, boolean> = { app: false, 'recovery-codes': false };
  const alert = messageLine('alert');
  const lock = countdownLine();
  const status = messageLine('status');
  const fields = h('div');
  const submit = h(
    'button',
    { type: 'submit', class: options.submitClass ?? 'primary' },
    options.submitLabel,
  );
  const swap = h('button', { type: 'button', class: 'link' });
  const kind = (): Kind => (recovery ? 'recovery-codes' : 'app');
  const refreshSubmit = () => {
    submit.disabled = inFlight || locked[kind()];
  };
  let current = renderFields();

  function renderFields() {
    const made = recovery
      ? field({
          label: 'Recovery code',
          hint: 'One of the codes you saved when you turned on two-factor authentication, e.g. abcde-fghij.',
          input: { autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true },
        })
      : field({
          label: 'Six-digit code',
          input: {
            inputmode: 'numeric',
            autocomplete: 'one-time-code',
            pattern: '[0-9]*',
            maxlength: '7',
            required: true,
          },
        });
    replace(fields, made.element);
    replace(swap, recovery ? 'Use your authenticator app instead' : 'Use a recovery code instead');
    return made;
  }

  function switchKind() {
    recovery = !recovery;
    alert.show(null);
    status.show(null);
    current = renderFields();
    refreshSubmit();
    current.input.focus();
  }

  /** A real button inside the lock's sentence, for the other kind of code where it is accepted. */
  const otherKind = (label: string): (Node | string)[] =>
    options.allowRecoveryCode
      ? [', or ', h('button', { type: 'button', class: 'link', onclick: switchKind }, label), '.']
      : ['.'];

  /** Counts the lock of `locking` down (null seconds: until an administrator unlocks). */
  function showLock(locking: Kind, seconds: number | null) {
    locked[locking] = true;
    refreshSubmit();
    const about = locking === 'recovery-codes' ? 'recovery-code' : 'code';
    const sentence = (left: number | null) =>
      messageFor(new ApiError('locked', left === null ? 423 : 429, '', left), about);
    if (seconds === null) {
      lock.show(sentence, null, {
        after: options.allowRecoveryCode
          ? [' ', h('button', { type: 'button', class: 'link', onclick: switchKind }, otherLabel(locking))]
          : [],
      });
      return;
    }
    // The sentence without its ending: the way out is a button of its own.
    const opening = (left: number | null) => sentence(left).replace(/(, or [^,]*)?\.$/, '');
    lock.show(opening, seconds, {
      after: otherKind(otherLabel(locking).replace(/^Use/, 'use')),
      onEnd: () => {
        locked[locking] = false;
        refreshSubmit();
        status.show(
          locking === 'app'
            ? 'You can try a code from your authenticator app again now.'
            : 'You can try a recovery code again now.',
        );
      },
    });
  }

  const otherLabel = (locking: Kind) =>
    locking === 'app' ? 'Use a recovery code' : 'Use the code from your authenticator app';

  async function onSubmit(event: Event) {
    event.preventDefault();
    if (submit.disabled) return;
    alert.show(null);
    status.show(null);
    current.setError(null);
    if (options.beforeSubmit !== undefined && !options.beforeSubmit()) return;
    const value = current.input.value.trim();
    let proof: Proof;
    if (recovery) {
      if (value === '') return current.setError('Enter one of your recovery codes.');
      proof = { recoveryCode: value };
    } else {
      const digits = value.replace(/\s/g, '');
      if (!SIX_DIGITS.test(digits))
        return current.setError('Enter the six digits your authenticator app shows.');
      proof = { code: digits };
    }
    inFlight = true;
    refreshSubmit();
    try {
      await options.onSubmit(proof);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const tried = kind();
      const about = recovery ? 'recovery-code' : options.allowRecoveryCode ? 'code-or-recovery-code' : 'code';
      if (error.code === 'locked') {
        lock.clear();
        showLock(tried, error.status === 423 ? null : (error.retryAfterSeconds ?? 60));
        current.input.focus();
      } else if (error.code === 'invalid-code' || error.code === 'code-already-used') {
        const attempt = error.failedAttempt;
        const tries = attempt === null ? null : attemptsLeftSentence(attempt);
        current.setError(tries === null ? messageFor(error, about) : `${messageFor(error, about)} ${tries}`);
        // This wrong code locked its kind: the lock is counted down like any other.
        if (attempt !== null && attempt.attemptsLeft === 0) {
          showLock(attempt.factor, attempt.lockIsPermanent ? null : attempt.lockedForSeconds);
        }
      } else {
        alert.show(options.explain?.(error) ?? messageFor(error, about));
        current.input.focus();
      }
    } finally {
      inFlight = false;
      refreshSubmit();
    }
  }

  const form = h(
    'form',
    { class: 'code-form', novalidate: true, onsubmit: onSubmit },
    ...(options.prefix ?? []),
    fields,
    alert.element,
    lock.element,
    status.element,
    h('div', { class: 'actions' }, submit, ...(options.extraButtons ?? [])),
    options.allowRecoveryCode ? h('p', {}, swap) : null,
  );
  swap.addEventListener('click', switchKind);
  return { element: form, focus: () => current.input.focus() };
}

/**
 * A modal <dialog>: the browser keeps focus inside and closes it on Escape (unless
 * `onCancel` says no); focus returns to what opened it. Removed from the page when closed.
 */
export function openDialog(title: string, build: (dialog: HTMLDialogElement) => Node[]) {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = uid('dialog-title');
  const dialog = h('dialog', { 'aria-labelledby': titleId, class: 'dialog' });
  const heading = h('h2', { id: titleId }, title);
  document.body.appendChild(dialog);
  dialog.append(heading, ...build(dialog));
  dialog.addEventListener('close', () => {
    dialog.remove();
    opener?.focus();
  });
  dialog.showModal();
  return dialog;
}

/** "15 Jan 2026, 09:00" in the reader's language and time zone. */
export const formatTime = (iso: string): string =>
  new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
