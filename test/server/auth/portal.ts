// The portal for sign-in tests, in this process on 127.0.0.1: a temporary DATA_DIR with SQLite,
// a lab cluster it never needs (LAB_CLUSTER=kubernetes, a kubeconfig naming an address nobody
// serves), its logs kept for reading. Its root is that temporary folder unless `options.root`
// says otherwise, so it serves no pages unless given a site handler or a copy of the built site.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../../src/server/config.ts';
import { startPortal, type Portal, type PortalOptions } from '../../../src/server/main.ts';
import { captureLogs, type CapturedLogs } from '../../support/logs.ts';

export interface TestPortal {
  portal: Portal;
  logs: CapturedLogs;
  stop(): Promise<void>;
}

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: lab-host, cluster: {server: "https://lab-host.example.com:6443"}}]
users: [{name: admin, user: {token: t}}]
contexts: [{name: lab-host, context: {cluster: lab-host, user: admin}}]
current-context: lab-host
`;

/** `env` adds to or overrides the variables (AUTH, OIDC_*, PORT, …). */
export async function startTestPortal(env: Record<string, string> = {}, options: PortalOptions = {}): Promise<TestPortal> {
  const dir = await mkdtemp(path.join(tmpdir(), 'formicary-auth-'));
  await writeFile(path.join(dir, 'kubeconfig'), KUBECONFIG);
  const logs = captureLogs('debug');
  const config = {
    ...parseConfig({ DATA_DIR: 'data', PORT: '0', LAB_CLUSTER: 'kubernetes', KUBECONFIG: 'kubeconfig', ...env }, dir),
    sessionSecret: 'a-session-secret-for-tests-0123456789',
  };
  try {
    const portal = await startPortal(config, { root: dir, log: logs.log, shutdownGraceMs: 1_000, ...options });
    return {
      portal,
      logs,
      async stop() {
        await portal.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
