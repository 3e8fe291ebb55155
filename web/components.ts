import { ApiError, type Proof } from './api.ts';
import { h, replace, uid } from './dom.ts';
import { messageFor } from './messages.ts';

/** A switch (role="switch"): its name comes from `labelledBy`, its state from aria-checked. */
export function toggleSwitch(options: {
  readonly labelledBy: string;
  readonly describedBy?: string;
  readonly checked: boolean;
  readonly locked: boolean;
  readonly onToggle: () => void;
}): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'switch',
      role: 'switch',
      'data-key': options.labelledBy,
      'aria-checked': String(options.checked),
      'aria-labelledby': options.labelledBy,
      'aria-describedby': options.describedBy,
      // Still focusable when locked, so the reason (its description) can be found.
      'aria-disabled': options.locked ? 'true' : undefined,
      onclick: () => {
        if (!options.locked) options.onToggle();
      },
    },
    h('span', { class: 'switch-track', 'aria-hidden': 'true' }, h('span', { class: 'switch-thumb' })),
    h('span', { class: 'switch-text', 'aria-hidden': 'true' }, options.checked ? 'On' : 'Off'),
  );
}

/** A labelled text field with its own error line, wired with aria-describedby/aria-invalid. */
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
  const error = h('p', { class: 'field-error', id: errorId });
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
    /** shows (or with null, clears) the field's error */
    setError(message: string | null) {
      replace(error, message ?? '');
      if (message === null) input.removeAttribute('aria-invalid');
      else input.setAttribute('aria-invalid', 'true');
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

const SIX_DIGITS = /^\d{6}$/;

/**
 * The code prompt used everywhere a code proves the person: "Six-digit code", and when
 * recovery codes are accepted, a button "Use a recovery code instead" that swaps in a
 * "Recovery code" field. Submitting is disabled while a request is in flight, so a double
 * click cannot send one code twice.
 */
export function codeForm(options: {
  readonly submitLabel: string;
  readonly allowRecoveryCode: boolean;
  readonly onSubmit: (proof: Proof) => Promise<void>;
  readonly extraButtons?: readonly HTMLElement[];
}) {
  let recovery = false;
  const alert = messageLine('alert');
  const fields = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, options.submitLabel);
  const swap = h('button', { type: 'button', class: 'link' });
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

  async function onSubmit(event: Event) {
    event.preventDefault();
    if (submit.disabled) return;
    alert.show(null);
    current.setError(null);
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
    submit.disabled = true;
    try {
      await options.onSubmit(proof);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const message = messageFor(
        error,
        recovery ? 'recovery-code' : options.allowRecoveryCode ? 'code-or-recovery-code' : 'code',
      );
      if (error.code === 'invalid-code' || error.code === 'code-already-used') current.setError(message);
      else alert.show(message);
      current.input.select();
      current.input.focus();
    } finally {
      submit.disabled = false;
    }
  }

  const form = h(
    'form',
    { class: 'code-form', novalidate: true, onsubmit: onSubmit },
    fields,
    alert.element,
    h('div', { class: 'actions' }, submit, ...(options.extraButtons ?? [])),
    options.allowRecoveryCode ? h('p', {}, swap) : null,
  );
  swap.addEventListener('click', () => {
    recovery = !recovery;
    alert.show(null);
    current = renderFields();
    current.input.focus();
  });
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
