// Behaviour of <Command>: copy to the clipboard and, while a lab terminal is present, run.

export const RUN_COMMAND_EVENT = 'formicary:run-command';
export const TERMINAL_READY_EVENT = 'formicary:terminal-ready';
export const TERMINAL_CLOSED_EVENT = 'formicary:terminal-closed';

async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard access needs a secure context and permission; fall back to a selection copy.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    const copied = document.execCommand('copy');
    area.remove();
    return copied;
  }
}

export function attachCommands(root: Document): void {
  const figures = [...root.querySelectorAll<HTMLElement>('[data-command]')];
  if (figures.length === 0) return;

  const showRunButtons = (shown: boolean) => {
    for (const button of root.querySelectorAll<HTMLButtonElement>('[data-command-run]')) button.hidden = !shown;
  };
  showRunButtons(root.querySelector('[data-lab-terminal]') !== null);
  root.addEventListener(TERMINAL_READY_EVENT, () => showRunButtons(true));
  root.addEventListener(TERMINAL_CLOSED_EVENT, () => showRunButtons(false));

  for (const figure of figures) {
    const command = figure.dataset.command ?? '';
    const copyButton = figure.querySelector<HTMLButtonElement>('[data-command-copy]');
    const copyLabel = figure.querySelector<HTMLElement>('[data-command-copy-label]');
    let reset: ReturnType<typeof setTimeout> | undefined;
    copyButton?.addEventListener('click', async () => {
      const copied = await copy(command);
      if (!copyLabel) return;
      copyLabel.textContent = copied ? 'Copied' : 'Copy failed';
      copyButton.setAttribute('aria-label', copied ? 'Command copied' : 'Copy failed; select the command and copy it');
      clearTimeout(reset);
      reset = setTimeout(() => {
        copyLabel.textContent = 'Copy';
        copyButton.setAttribute('aria-label', 'Copy command');
      }, 2000);
    });
    figure.querySelector<HTMLButtonElement>('[data-command-run]')?.addEventListener('click', () => {
      figure.dispatchEvent(new CustomEvent(RUN_COMMAND_EVENT, { bubbles: true, detail: { command } }));
    });
  }
}
