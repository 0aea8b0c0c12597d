// Marks the table-of-contents entry of the section being read (aria-current), so the reader
// sees where they are in a long lesson.

export function trackTableOfContents(root: Document): void {
  const links = [...root.querySelectorAll<HTMLAnchorElement>('.toc a[href^="#"]')];
  const targets = [...new Set(links.map((link) => decodeURIComponent(link.hash.slice(1))))]
    .map((id) => root.getElementById(id))
    .filter((element): element is HTMLElement => element !== null);
  if (targets.length === 0 || !('IntersectionObserver' in window)) return;

  const visible = new Set<Element>();
  const mark = () => {
    const current = targets.find((target) => visible.has(target));
    if (!current) return;
    for (const link of links) {
      if (decodeURIComponent(link.hash.slice(1)) === current.id) link.setAttribute('aria-current', 'true');
      else link.removeAttribute('aria-current');
    }
  };
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) visible.add(entry.target);
        else visible.delete(entry.target);
      }
      mark();
    },
    { rootMargin: '-80px 0px -65% 0px' },
  );
  for (const target of targets) observer.observe(target);
}
