// Adds the session's CSRF token (<meta name="csrf-token">, see src/components/CsrfToken.astro) to
// every same-origin form post (`_csrf` field) and fetch() that changes something (`x-csrf-token`).
// A file rather than an inline script: the Content-Security-Policy runs no inline script Astro did not hash.
(() => {
  const token = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content');
  if (!token) return;
  const unchanging = /^(GET|HEAD|OPTIONS)$/i;
  const ownOrigin = (address) => new URL(address, location.href).origin === location.origin;
  const send = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const address = input instanceof Request ? input.url : String(input);
    if (unchanging.test(method) || !ownOrigin(address)) return send(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has('x-csrf-token')) headers.set('x-csrf-token', token);
    return send(input, { ...init, headers });
  };
  document.addEventListener(
    'submit',
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || form.method !== 'post' || !ownOrigin(form.action)) return;
      if (form.querySelector('input[name="_csrf"]')) return;
      const field = document.createElement('input');
      field.type = 'hidden';
      field.name = '_csrf';
      field.value = token;
      form.append(field);
    },
    true,
  );
})();
