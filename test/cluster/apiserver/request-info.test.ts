import { describe, expect, it } from 'vitest';
import { requestInfoFor } from '../../../src/cluster/apiserver/request-info.ts';

const info = (method: string, path: string) => requestInfoFor(method, new URL(path, 'https://127.0.0.1'));

describe('requestInfoFor', () => {
  it('reads a namespaced object with a subresource', () => {
    expect(info('GET', '/apis/apps/v1/namespaces/lab/deployments/web/scale')).toMatchObject({
      isResourceRequest: true,
      verb: 'get',
      apiGroup: 'apps',
      apiVersion: 'v1',
      namespace: 'lab',
      resource: 'deployments',
      name: 'web',
      subresource: 'scale',
    });
  });

  it('tells list from watch and get, and pins a name from a metadata.name field selector', () => {
    expect(info('GET', '/api/v1/namespaces/lab/pods').verb).toBe('list');
    expect(info('GET', '/api/v1/pods?watch=true').verb).toBe('watch');
    expect(info('GET', '/api/v1/pods?watch=false').verb).toBe('list');
    expect(info('GET', '/api/v1/watch/namespaces/lab/pods').verb).toBe('watch');
    expect(info('GET', '/api/v1/namespaces/lab/pods?fieldSelector=metadata.name%3Dweb&watch=1')).toMatchObject({ verb: 'watch', name: 'web' });
  });

  it('treats a namespace as both the resource and the scope', () => {
    expect(info('GET', '/api/v1/namespaces/lab')).toMatchObject({ resource: 'namespaces', name: 'lab', namespace: 'lab', verb: 'get' });
    expect(info('PUT', '/api/v1/namespaces/lab/finalize')).toMatchObject({ resource: 'namespaces', name: 'lab', subresource: 'finalize', verb: 'update' });
    expect(info('GET', '/api/v1/namespaces')).toMatchObject({ resource: 'namespaces', namespace: '', verb: 'list' });
  });

  it('turns DELETE on a collection into deletecollection', () => {
    expect(info('DELETE', '/api/v1/namespaces/lab/configmaps').verb).toBe('deletecollection');
    expect(info('DELETE', '/api/v1/namespaces/lab/configmaps/one').verb).toBe('delete');
  });

  it('leaves discovery and other paths as non-resource requests with the method as verb', () => {
    for (const path of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/version', '/openapi/v3/apis/apps/v1']) {
      expect(info('GET', path)).toMatchObject({ isResourceRequest: false, verb: 'get', path });
    }
  });
});
