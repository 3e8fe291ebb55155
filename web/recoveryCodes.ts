import { messageLine } from './components.ts';
import { h } from './dom.ts';

/**
 * The ten recovery codes, shown once: Download (a .txt file), Copy all, the box
 * "I have saved my recovery codes", and Finish, which stays disabled until the box is ticked.
 */
export function recoveryCodesPanel(options: {
  readonly codes: readonly string[];
  readonly productName: string;
  readonly userId: string;
  readonly onFinish: () => void;
}): HTMLElement[] {
  const text = [
    `${options.productName} recovery codes for ${options.userId}`,
    'Each code works once. Keep them somewhere safe, such as a password manager.',
    '',
    ...options.codes,
    '',
  ].join('\n');
  const status = messageLine('status');
  const finish = h(
    'button',
    { type: 'button', class: 'primary', disabled: true, onclick: options.onFinish },
    'Finish',
  );
  const saved = h('input', {
    type: 'checkbox',
    id: 'saved-codes',
    onchange: () => {
      finish.disabled = !saved.checked;
    },
  });

  function download() {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const link = h('a', { href: url, download: `${options.productName.toLowerCase()}-recovery-codes.txt` });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    status.show('Downloaded as a text file.');
  }

  async function copyAll() {
    try {
      await navigator.clipboard.writeText(options.codes.join('\n'));
      status.show('Copied all ten codes to the clipboard.');
    } catch {
      status.show('This browser did not allow copying: select the codes above and copy them.');
    }
  }

  return [
    h(
      'p',
      {},
      'Each code works once, if you lose access to your authenticator app. They are shown only now: store them somewhere safe — a password manager is a good fit.',
    ),
    h(
      'ol',
      { class: 'codes', 'aria-label': 'Recovery codes' },
      ...options.codes.map((code) => h('li', {}, h('code', {}, code))),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', onclick: download }, 'Download'),
      h('button', { type: 'button', onclick: copyAll }, 'Copy all'),
    ),
    status.element,
    h('p', { class: 'check' }, saved, h('label', { for: 'saved-codes' }, 'I have saved my recovery codes')),
    h('div', { class: 'actions' }, finish),
  ];
}
