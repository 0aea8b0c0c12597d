// The built site's files (dist/client): hashed assets under /_astro/ and prerendered pages. The
// folder does not change while the portal runs, so it is indexed once at start and a request costs
// one map lookup, not a file-system walk.

import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { PRERENDERED_PAGE_CSP } from './headers.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
};

interface StaticFile {
  file: string;
  size: number;
  etag: string;
  contentType: string;
  cacheControl: string;
}

export interface StaticFiles {
  /**
   * Answers GET/HEAD for a file it has; returns false (and writes nothing) otherwise. With a
   * status other than 200 (a prerendered 404 page) the file is sent fresh, without caching.
   */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string, status?: number): boolean;
  readonly size: number;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

export async function indexStaticFiles(root: string): Promise<StaticFiles> {
  const files = new Map<string, StaticFile>();
  const exists = await stat(root).then((s) => s.isDirectory(), () => false);
  if (exists) {
    for await (const file of walk(root)) {
      const info = await stat(file);
      const address = `/${path.relative(root, file).split(path.sep).join('/')}`;
      const entry: StaticFile = {
        file,
        size: info.size,
        etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`,
        contentType: CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        // Astro puts a content hash in every name under /_astro/: those never change.
        cacheControl: address.startsWith('/_astro/') ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate',
      };
      files.set(address, entry);
      if (address.endsWith('/index.html')) {
        const folder = address.slice(0, -'index.html'.length);
        files.set(folder, entry);
        if (folder !== '/') files.set(folder.slice(0, -1), entry);
      }
    }
  }

  return {
    size: files.size,
    serve(req, res, pathname, status = 200) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      let decoded: string;
      try {
        decoded = decodeURIComponent(pathname);
      } catch {
        return false;
      }
      const entry = files.get(decoded);
      if (!entry) return false;
      res.setHeader('content-type', entry.contentType);
      res.setHeader('x-content-type-options', 'nosniff');
      if (entry.contentType.startsWith('text/html')) res.setHeader('content-security-policy', PRERENDERED_PAGE_CSP);
      if (status === 200) {
        res.setHeader('cache-control', entry.cacheControl);
        res.setHeader('etag', entry.etag);
        if (req.headers['if-none-match'] === entry.etag) {
          res.writeHead(304).end();
          return true;
        }
      } else {
        res.setHeader('cache-control', 'no-store');
      }
      res.setHeader('content-length', entry.size);
      if (req.method === 'HEAD') {
        res.writeHead(status).end();
        return true;
      }
      res.writeHead(status);
      createReadStream(entry.file)
        .on('error', () => res.destroy())
        .pipe(res);
      return true;
    },
  };
}
