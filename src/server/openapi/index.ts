// The portal's JSON API as an OpenAPI 3.1 document (GET /api/openapi.json), made from the zod
// schemas the routes use.

export { openApiDocument } from './document.ts';
export type { ApiOperation, DocumentInfo, HttpMethod, OperationAccess, OperationResponse } from './document.ts';
export { PORTAL_OPERATIONS } from './operations.ts';
