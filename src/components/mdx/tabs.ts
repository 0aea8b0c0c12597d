// <Tabs>: WAI-ARIA tabs with automatic activation. Ids are given here, in the browser, because
// one page may hold several tab groups with the same labels.

let groups = 0;

export function attachTabs(container: HTMLElement): void {
  const list = container.querySelector<HTMLElement>(':scope > [role="tablist"]');
  const tabs = [...(list?.querySelectorAll<HTMLButtonElement>('[role="tab"]') ?? [])];
  const panels = [...container.querySelectorAll<HTMLElement>(':scope > [data-tab-panel]')];
  if (!list || tabs.length === 0 || tabs.length !== panels.length) return;

  const group = `tabs-${++groups}`;
  tabs.forEach((tab, index) => {
    const panel = panels[index]!;
    tab.id = `${group}-tab-${index}`;
    panel.id = `${group}-panel-${index}`;
    tab.setAttribute('aria-controls', panel.id);
    panel.setAttribute('role', 'tabpanel');
    panel.setAttribute('aria-labelledby', tab.id);
    panel.tabIndex = 0;
  });

  const select = (index: number, focus: boolean) => {
    tabs.forEach((tab, position) => {
      const selected = position === index;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      panels[position]!.hidden = !selected;
    });
    if (focus) tabs[index]!.focus();
  };

  tabs.forEach((tab, index) => {
    tab.addEventListener('click', () => select(index, false));
    tab.addEventListener('keydown', (event) => {
      const last = tabs.length - 1;
      const target = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[event.key];
      if (target === undefined) return;
      event.preventDefault();
      select(target, true);
    });
  });

  list.hidden = false;
  container.dataset.tabsReady = '';
  select(0, false);
}
