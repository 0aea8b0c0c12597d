// Files an image carries beside its program (the bootcamp's server.js), for images whose real
// processes run on the host's tools: written once into the kubelet's images folder, one file a
// content, root's and read-only, so a container and its execs find them where the image has them.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/** An image's files (its behaviour's `files`) as read-only binds: the host copy and where the image has it. */
export function imageFiles(imagesDir: string, files: Record<string, string> | undefined): Array<{ source: string; target: string }> {
  if (!files) return [];
  const dir = join(imagesDir, 'files');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o711);
  return Object.entries(files).map(([target, content]) => {
    const source = join(dir, createHash('sha256').update(content).digest('hex'));
    if (!existsSync(source)) {
      // Whole or not at all: a container starting meanwhile never binds half a file.
      const partial = `${source}.${process.pid}.partial`;
      writeFileSync(partial, content, { mode: 0o644 });
      chmodSync(partial, 0o644);
      renameSync(partial, source);
    }
    return { source, target: posix.join('/', target) };
  });
}
