// Behaviour of the header's menu button on narrow screens: it shows and hides the main links,
// and Escape or a click elsewhere closes them again (focus returns to the button on Escape).

export function attachSiteMenu(root: Document): void {
  const button = root.querySelector<HTMLButtonElement>('[data-site-menu]');
  const nav = root.querySelector<HTMLElement>('[data-site-nav]');
  if (!button || !nav) return;
  const setOpen = (open: boolean) => {
    button.setAttribute('aria-expanded', String(open));
    if (open) nav.setAttribute('data-open', '');
    else nav.removeAttribute('data-open');
  };
  button.addEventListener('click', () => setOpen(button.getAttribute('aria-expanded') !== 'true'));
  root.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || button.getAttribute('aria-expanded') !== 'true') return;
    setOpen(false);
    button.focus();
  });
  root.addEventListener('click', (event) => {
    const target = event.target as Node | null;
    if (target && !nav.contains(target) && !button.contains(target)) setOpen(false);
  });
}
