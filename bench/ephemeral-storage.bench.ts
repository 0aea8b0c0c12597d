// What a pod's own file system costs (the kubelet's hard ceiling on its disk): making and mounting
// a 1 GiB image when the pod's first real process starts, unmounting it when the pod goes, the
// host disk an unwritten image holds, and one eviction-manager measurement of 2000 small files.
// Figures only where the machine can loop-mount (root, loop devices, mkfs.ext4).
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostDisk, mountImage, unmountImage } from '../src/cluster/kubelet/ephemeral-storage/index.ts';
import { diskUsage } from '../src/cluster/kubelet/ephemeral-storage/usage.ts';
import { percentile, round, time } from './stats.ts';

const IMAGES = 10;
const FILES = 2000;

export default async function bench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-storage-'));
  try {
    const images = join(dir, 'images');
    mkdirSync(images);
    const disk = new HostDisk({ root: dir, imageDirs: [images] });
    if (!(await disk.usable())) return {};
    const setup: number[] = [];
    const teardown: number[] = [];
    for (let i = 0; i < IMAGES; i++) {
      const mountPoint = join(dir, `pod-${i}`);
      mkdirSync(mountPoint);
      setup.push(await time(() => mountImage(join(images, `${i}.img`), mountPoint, 1024 * 1024 * 1024, disk)));
    }
    const held = statSync(join(images, '0.img')).blocks * 512;
    const tree = join(dir, 'pod-0', 'tmp');
    for (let i = 0; i < FILES; i++) {
      mkdirSync(join(tree, `d${i % 50}`), { recursive: true });
      writeFileSync(join(tree, `d${i % 50}`, `f${i}`), 'x'.repeat(100));
    }
    const walk = await time(() => diskUsage(tree));
    for (let i = 0; i < IMAGES; i++) teardown.push(await time(() => unmountImage(join(dir, `pod-${i}`))));
    return {
      pod_filesystem_setup_ms_p50: percentile(setup, 50),
      pod_filesystem_unmount_ms_p50: percentile(teardown, 50),
      pod_filesystem_host_kib_unwritten: round(held / 1024, 0),
      pod_storage_measure_2000_files_ms: round(walk, 1),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
