// The image catalog as the runtime sees it: references normalised, typos and unknown tags refused
// with containerd's words, images it does not know run as generic containers.
import { describe, expect, it } from 'vitest';
import { parseImageReference, resolveImage } from '../../../src/cluster/kubelet/index.ts';

describe('image references', () => {
  it('normalises as the runtime does', () => {
    expect(parseImageReference('nginx')).toMatchObject({ repository: 'docker.io/library/nginx', tag: 'latest', normalized: 'docker.io/library/nginx:latest' });
    expect(parseImageReference('bitnami/redis:7.2')).toMatchObject({ repository: 'docker.io/bitnami/redis', normalized: 'docker.io/bitnami/redis:7.2' });
    expect(parseImageReference('registry.k8s.io/e2e-test-images/agnhost:2.40')).toMatchObject({ domain: 'registry.k8s.io', path: 'e2e-test-images/agnhost', tag: '2.40' });
    expect(parseImageReference('localhost:5000/app')).toMatchObject({ domain: 'localhost:5000', repository: 'localhost:5000/app' });
  });

  it('refuses names the runtime cannot parse (InvalidImageName)', () => {
    expect(resolveImage('Nginx:1.27')).toEqual({
      outcome: 'invalid',
      message: 'Failed to apply default image tag "Nginx:1.27": couldn\'t parse image name "Nginx:1.27": invalid reference format: repository name (library/Nginx) must be lowercase',
    });
    expect(resolveImage('nginx::1').outcome).toBe('invalid');
  });
});

describe('pulling from the catalog', () => {
  it('knows the tags of well-known images', () => {
    for (const image of ['nginx', 'nginx:1.27', 'nginx:1.25-alpine', 'busybox:1.36', 'redis:7.2', 'postgres:16', 'gcr.io/google-samples/hello-app:2.0', 'registry.k8s.io/e2e-test-images/agnhost:2.40', 'formicary/demo-web:1.1', 'formicary/workbench']) {
      expect(resolveImage(image).outcome, image).toBe('available');
    }
  });

  it("knows the tutorials' and exercise books' images by their real tags, and refuses the tags they do not have", () => {
    const available = [
      'gcr.io/google-samples/kubernetes-bootcamp:v1',
      'docker.io/jocatalin/kubernetes-bootcamp:v2',
      'registry.k8s.io/e2e-test-images/agnhost:2.39',
      'nginx:1.14.2',
      'nginx:1.16.1',
      'nginx:1.7.9',
      'registry.k8s.io/hpa-example',
      'busybox:1.28',
      'busybox:1.36',
      'redis:5.0.4',
      'mysql:5.6',
      'perl:5.34.0',
      'python:3.12-slim',
      'registry.k8s.io/serve_hostname',
      'registry.k8s.io/nginx-slim:0.21',
      'registry.k8s.io/goproxy:0.1',
      'us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5',
      'kodekloud/webapp-color:v2',
      'registry.k8s.io/e2e-test-images/jessie-dnsutils:1.3',
    ];
    for (const image of available) {
      const result = resolveImage(image);
      expect(result.outcome === 'available' && result.image.catalog?.repository, image).toBeTruthy();
    }
    for (const missing of ['gcr.io/google-samples/kubernetes-bootcamp:v10', 'gcr.io/google-samples/kubernetes-bootcamp:latest', 'nginx:1.161', 'registry.k8s.io/hpa-example:v2', 'perl:4']) {
      expect(resolveImage(missing).outcome, missing).toBe('unavailable');
    }
    expect(resolveImage('gcr.io/google-samples/kubernetes-bootcamp:v10')).toEqual({
      outcome: 'unavailable',
      message:
        'rpc error: code = NotFound desc = failed to pull and unpack image "gcr.io/google-samples/kubernetes-bootcamp:v10": failed to resolve reference "gcr.io/google-samples/kubernetes-bootcamp:v10": gcr.io/google-samples/kubernetes-bootcamp:v10: not found',
    });
  });

  it('refuses a tag the repository does not have, as containerd reports it', () => {
    const result = resolveImage('nginx:0.99');
    expect(result).toEqual({
      outcome: 'unavailable',
      message: 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:0.99": failed to resolve reference "docker.io/library/nginx:0.99": docker.io/library/nginx:0.99: not found',
    });
  });

  it('refuses near misses of well-known names: the registry has no such repository', () => {
    for (const typo of ['ngnix', 'ngnix:1.27', 'busybx', 'nginxx:latest', 'registry.k8s.io/e2e-test-images/agnhots:2.40']) {
      const result = resolveImage(typo);
      expect(result.outcome, typo).toBe('unavailable');
      if (result.outcome === 'unavailable') expect(result.message).toContain('pull access denied, repository does not exist or may require authorization');
    }
    const host = resolveImage('registy.k8s.io/pause:3.10');
    expect(host.outcome === 'unavailable' && host.message).toContain('dial tcp: lookup registy.k8s.io on 10.96.0.10:53: no such host');
  });

  it('runs images it does not know as generic containers, including names near catalog ones in other namespaces', () => {
    for (const image of ['myteam/api:1.4', 'postgis/postgis:16', 'bitnami/redis:7.2', 'ghcr.io/acme/shop:2']) {
      const result = resolveImage(image);
      expect(result.outcome, image).toBe('available');
      if (result.outcome === 'available') expect(result.image.catalog).toBeUndefined();
    }
  });

  it('refuses what the catalog marks unavailable (a private repository) unless the pull carries credentials', () => {
    const result = resolveImage('formicary/private-app:1.0');
    expect(result.outcome === 'unavailable' && result.message).toContain('pull access denied');
    expect(resolveImage('formicary/private-app:1.0', { credentials: true }).outcome).toBe('available');
    expect(resolveImage('gcr.io/google_containers/busybox:1.24', { credentials: true }).outcome).toBe('unavailable');
  });
});
