// The header search: an ARIA 1.2 combobox over /api/search. Typing suggests lessons; arrows
// move through them, Enter opens the chosen one (or the results page), Escape closes, and `/`
// anywhere on the page focuses the box. Without JavaScript it is a plain GET form to /search.

interface Suggestion {
  title: string;
  pathTitle: string;
  heading?: string;
  url: string;
  snippet: string;
}

const DEBOUNCE_MS = 120;
const LIMIT = 6;

function isEditable(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

export function attachSearchBox(form: HTMLFormElement): void {
  const input = form.querySelector<HTMLInputElement>('[role="combobox"]');
  const list = form.querySelector<HTMLUListElement>('[role="listbox"]');
  const status = form.querySelector<HTMLElement>('[data-search-status]');
  if (!input || !list || !status) return;

  let options: HTMLLIElement[] = [];
  let active = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | undefined;
  let shownQuery = '';

  const setActive = (index: number) => {
    active = index;
    options.forEach((option, position) => option.setAttribute('aria-selected', String(position === index)));
    const option = options[index];
    if (option) {
      input.setAttribute('aria-activedescendant', option.id);
      option.scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  };
  const open = () => {
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  };
  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    setActive(-1);
  };

  const option = (id: string, url: string, build: (li: HTMLLIElement) => void) => {
    const li = document.createElement('li');
    li.id = id;
    li.setAttribute('role', 'option');
    li.setAttribute('aria-selected', 'false');
    li.dataset.url = url;
    build(li);
    return li;
  };
  const span = (className: string, text: string) => {
    const element = document.createElement('span');
    element.className = className;
    element.textContent = text;
    return element;
  };

  const render = (query: string, results: Suggestion[]) => {
    shownQuery = query;
    const allResults = `/search?q=${encodeURIComponent(query)}`;
    options = results.map((result, index) =>
      option(`site-search-option-${index}`, result.url, (li) => {
        const snippet = span('suggestion__snippet', '');
        // Server-escaped text with <mark> around matched words.
        snippet.innerHTML = result.snippet;
        li.append(
          span('suggestion__title', result.title),
          span('suggestion__where', result.heading ? `${result.pathTitle} › ${result.heading}` : result.pathTitle),
          snippet,
        );
      }),
    );
    options.push(
      option(`site-search-option-${results.length}`, allResults, (li) => {
        li.append(span('suggestion__title', results.length ? `All results for “${query}”` : `No quick matches — search all lessons for “${query}”`));
      }),
    );
    list.replaceChildren(...options);
    status.textContent = results.length ? `${results.length} suggestion${results.length === 1 ? '' : 's'}` : 'No suggestions';
    setActive(-1);
    open();
  };

  const suggest = async () => {
    const query = input.value.trim();
    inFlight?.abort();
    if (!query) {
      close();
      list.replaceChildren();
      options = [];
      shownQuery = '';
      return;
    }
    if (query === shownQuery) {
      open();
      return;
    }
    inFlight = new AbortController();
    try {
      const response = await fetch(`/api/search?q=${encodeURIComponent(query)}&limit=${LIMIT}`, { signal: inFlight.signal, headers: { accept: 'application/json' } });
      if (!response.ok) return;
      const body = (await response.json()) as { results: Suggestion[] };
      if (input.value.trim() === query && document.activeElement === input) render(query, body.results);
    } catch (error) {
      if (!(error instanceof DOMException && error.name === 'AbortError')) throw error;
    }
  };

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, DEBOUNCE_MS);
  });
  input.addEventListener('focus', () => {
    if (input.value.trim() && options.length) open();
  });
  input.addEventListener('keydown', (event) => {
    const expanded = !list.hidden && options.length > 0;
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!expanded) {
          if (options.length) {
            open();
            setActive(0);
          } else void suggest();
          return;
        }
        setActive(active + 1 >= options.length ? 0 : active + 1);
        return;
      case 'ArrowUp':
        event.preventDefault();
        if (!expanded) return;
        setActive(active <= 0 ? options.length - 1 : active - 1);
        return;
      case 'Enter': {
        const chosen = expanded ? options[active] : undefined;
        if (chosen?.dataset.url) {
          event.preventDefault();
          window.location.assign(chosen.dataset.url);
        }
        return;
      }
      case 'Escape':
        if (expanded) {
          event.preventDefault();
          close();
        } else if (input.value) {
          event.preventDefault();
          input.value = '';
          shownQuery = '';
        }
        return;
      default:
    }
  });

  // Keep focus in the input while an option is clicked, then follow it.
  list.addEventListener('mousedown', (event) => event.preventDefault());
  list.addEventListener('click', (event) => {
    const chosen = (event.target as Element).closest<HTMLLIElement>('[role="option"]');
    if (chosen?.dataset.url) window.location.assign(chosen.dataset.url);
  });
  input.addEventListener('blur', close);

  document.addEventListener('keydown', (event) => {
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || isEditable(event.target)) return;
    event.preventDefault();
    input.focus();
    input.select();
  });
}
