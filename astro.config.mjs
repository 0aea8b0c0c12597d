// @ts-check
import mdx from '@astrojs/mdx';
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';
import { fileURLToPath } from 'node:url';
import { searchIndexIntegration } from './src/search/index.ts';
import { siteContentRoot } from './src/server/config.ts';
import { PAGE_CSP_DIRECTIVES, PAGE_STYLE_SOURCES } from './src/server/http/headers.ts';

// Where content/, labs/ and public/ diagrams are read from at build time. Tests build the site
// over a fixture project by setting FORMICARY_CONTENT_ROOT, which only the config module reads
// (src/content.config.ts asks it too).
const contentRoot = siteContentRoot(fileURLToPath(new URL('.', import.meta.url)));

export default defineConfig({
  output: 'server',
  // src/server/main.ts owns the HTTP server and mounts Astro's handler as middleware.
  // bodySizeLimit: a last line behind the portal's own limits (src/server/http/limits.ts).
  adapter: node({ mode: 'middleware', bodySizeLimit: 1024 * 1024 }),
  integrations: [mdx(), searchIndexIntegration({ root: contentRoot })],
  server: { port: 4321 },
  trailingSlash: 'ignore',
  // The portal's gate (src/server/auth) checks the origin of every state-changing request, aware
  // of TLS proxies, and a CSRF token; Astro's own check would refuse every form behind a proxy
  // (it compares Origin with the address the proxy forwarded to).
  // Pages answer with a Content-Security-Policy header holding a hash of each script Astro
  // renders (no 'unsafe-inline' for scripts); src/server/http/headers.ts says what else they load.
  security: {
    checkOrigin: false,
    csp: { directives: [...PAGE_CSP_DIRECTIVES], styleDirective: { resources: [...PAGE_STYLE_SOURCES] } },
  },
  build: { inlineStylesheets: 'always' },
  vite: {
    build: {
      rollupOptions: {
        onwarn(warning, warn) {
          // Astro marks every MDX module with a "use astro:head-inject" directive that the
          // bundler reports, once per lesson, as possibly lost; Astro handles it itself.
          if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && String(warning.message).includes('astro:head-inject')) return;
          warn(warning);
        },
      },
    },
  },
  markdown: {
    shikiConfig: {
      themes: { light: 'github-light', dark: 'github-dark' },
      // Each token carries both colours as light-dark(); the page's color-scheme picks one,
      // so the theme toggle needs no second stylesheet.
      defaultColor: 'light-dark()',
      wrap: false,
    },
  },
});
