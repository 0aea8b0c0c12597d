import type { APIRoute } from 'astro';
import { openApiDocument, PORTAL_OPERATIONS } from '../../server/openapi/index.ts';

let document: string | null = null;

/** GET /api/openapi.json: the portal's JSON API, OpenAPI 3.1, made from the routes' zod schemas. */
export const GET: APIRoute = () => {
  document ??= JSON.stringify(
    openApiDocument(
      {
        title: 'Formicary portal API',
        version: '0.1.0',
        description:
          'The JSON API of the Formicary portal. Sign in first (POST /api/session with AUTH=dev, /auth/login with AUTH=oidc); requests that change something send the session’s CSRF token as the x-csrf-token header. Reports are for the admin role.',
      },
      PORTAL_OPERATIONS,
    ),
  );
  return new Response(document, { headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' } });
};
