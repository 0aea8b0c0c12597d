// The recording test server (../protobuf/kube-recorder.ts) serving our generated /openapi/v3,
// plus plausible answers to the writes kubectl apply makes.
import { createOpenApi, emptyOpenApiV2Document, openApiV2ContentType, type OpenApi } from '../../../../src/cluster/apiserver/openapi/index.ts';
import type { ResourceDefinition } from '../../../../src/cluster/registry/index.ts';
import { sendJson, startKubeRecorder, type KubeRecorder } from '../protobuf/kube-recorder.ts';

export interface OpenApiServer extends KubeRecorder {
  openApi: OpenApi;
}

export async function startOpenApiServer(resources: ResourceDefinition[]): Promise<OpenApiServer> {
  const openApi = createOpenApi(() => resources);
  const recorder = await startKubeRecorder({
    resources,
    respond(request, res) {
      const url = new URL(request.url, 'https://127.0.0.1');
      if (url.pathname === '/openapi/v3') {
        sendJson(res, 200, openApi.index());
        return true;
      }
      if (url.pathname === '/openapi/v2') {
        const body = emptyOpenApiV2Document();
        res.writeHead(200, { 'Content-Type': openApiV2ContentType, 'Content-Length': body.length });
        res.end(body);
        return true;
      }
      if (url.pathname.startsWith('/openapi/v3/')) {
        const document = openApi.document(url.pathname.slice('/openapi/v3/'.length));
        if (document === undefined) return false;
        res.writeHead(200, { 'Content-Type': 'application/json', ETag: `"${document.etag}"`, 'Cache-Control': 'public, immutable' });
        res.end(document.body);
        return true;
      }
      if (request.method === 'GET' && /\/namespaces\/[^/]+\/[^/]+\/[^/]+$/.test(url.pathname)) {
        const name = url.pathname.split('/').pop() ?? '';
        sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `"${name}" not found`, reason: 'NotFound', details: { name }, code: 404 });
        return true;
      }
      if (request.method === 'POST' || (request.method === 'PATCH' && request.contentType === 'application/apply-patch+yaml')) {
        const object = JSON.parse(request.body.toString('utf8')) as { metadata?: Record<string, unknown> };
        sendJson(res, 201, { ...object, metadata: { ...object.metadata, uid: 'u-1', resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z' } });
        return true;
      }
      return false;
    },
  });
  return { ...recorder, openApi };
}
