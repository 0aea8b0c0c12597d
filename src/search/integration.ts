import type { AstroIntegration, ViteUserConfig } from 'astro';
import { join } from 'node:path';
import { readContentTree } from '../content-model/index.ts';
import { buildSearchIndex } from './build.ts';
import { searchDocuments } from './documents.ts';

// Builds the search index while Astro builds the site and hands it to the server bundle as a
// module (`virtual:formicary/search-index`), so a running portal loads it once, with the code,
// and never reads content files. In `astro dev` the module is rebuilt when content changes.

export const SEARCH_INDEX_MODULE = 'virtual:formicary/search-index';
const RESOLVED_ID = `\0${SEARCH_INDEX_MODULE}`;

type VitePlugin = NonNullable<ViteUserConfig['plugins']>[number];

export async function searchIndexModuleSource(root: string): Promise<string> {
  const index = buildSearchIndex(searchDocuments(await readContentTree(root)));
  // A JSON string parsed at load is far cheaper for the engine than the same data as a literal.
  return `export default JSON.parse(${JSON.stringify(JSON.stringify(index))});\n`;
}

function searchIndexPlugin(root: string): VitePlugin {
  const contentDir = join(root, 'content');
  return {
    name: 'formicary:search-index',
    resolveId(id: string) {
      return id === SEARCH_INDEX_MODULE ? RESOLVED_ID : undefined;
    },
    async load(id: string) {
      return id === RESOLVED_ID ? await searchIndexModuleSource(root) : undefined;
    },
    configureServer(server) {
      server.watcher.add(contentDir);
      const invalidate = (file: string) => {
        if (!file.startsWith(contentDir)) return;
        for (const environment of Object.values(server.environments)) {
          const module = environment.moduleGraph.getModuleById(RESOLVED_ID);
          if (module) environment.moduleGraph.invalidateModule(module);
        }
      };
      server.watcher.on('change', invalidate);
      server.watcher.on('add', invalidate);
      server.watcher.on('unlink', invalidate);
    },
  };
}

export function searchIndexIntegration(options: { root: string }): AstroIntegration {
  return {
    name: 'formicary:search',
    hooks: {
      'astro:config:setup': ({ updateConfig }) => {
        updateConfig({ vite: { plugins: [searchIndexPlugin(options.root)] } });
      },
    },
  };
}
