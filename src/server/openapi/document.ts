// An OpenAPI 3.1 document from operations described with zod schemas: the same schemas the routes
// validate requests with and answer in the shape of. OpenAPI 3.1 schemas are JSON Schema 2020-12,
// which is what zod writes, so a schema goes in as zod renders it.

import { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** Who may call an operation: the access rule of its path (src/server/auth/access.ts). */
export type OperationAccess = 'public' | 'learner' | 'instructor' | 'admin';

export interface OperationResponse {
  description: string;
  /** The JSON body; absent for answers without one. */
  schema?: z.ZodType;
  /** Also answers text/csv (with ?format=csv). */
  csv?: boolean;
  /** A server-sent event stream (text/event-stream) instead of JSON; `schema` names each event's data. */
  stream?: boolean;
}

export interface ApiOperation {
  method: HttpMethod;
  /** As OpenAPI writes it: /api/reports/certificates/{id}/revoke. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  access: OperationAccess;
  pathParameters?: z.ZodObject;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The body may also be a form (application/x-www-form-urlencoded), as HTML forms send it. */
  form?: boolean;
  responses: Record<number, OperationResponse>;
}

export interface DocumentInfo {
  title: string;
  version: string;
  description: string;
}

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

function parameters(schema: z.ZodType, where: 'query' | 'path'): JsonSchema[] {
  const described = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(described.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (described.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const errorBody = z.object({
  error: z.string().describe('what was wrong, naming the field or value, and what would be right'),
  field: z.string().optional().describe('a refused body: the first wrong field, as a path (labs.0)'),
  issues: z.array(z.object({ field: z.string(), message: z.string() })).optional().describe('a refused body: every wrong field'),
});

function operationObject(operation: ApiOperation): JsonSchema {
  const changes = operation.method !== 'get';
  const responses: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(operation.responses)) {
    const content: Record<string, JsonSchema> = {};
    if (response.schema) content[response.stream ? 'text/event-stream' : 'application/json'] = { schema: jsonSchema(response.schema, 'output') };
    if (response.csv) content['text/csv'] = { schema: { type: 'string', description: 'RFC 4180: a header row, CRLF line ends' } };
    responses[status] = { description: response.description, ...(Object.keys(content).length > 0 ? { content } : {}) };
  }
  const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  if (operation.query || operation.body || operation.pathParameters) responses['400'] ??= { description: 'The request is not valid', ...error };
  if (operation.body) responses['413'] ??= { description: 'The body is larger than the endpoint takes (16 KiB unless it says otherwise)', ...error };
  if (operation.access !== 'public') {
    responses['401'] ??= { description: 'Not signed in', ...error };
    if (operation.access !== 'learner') responses['403'] ??= { description: `Signed in without the ${operation.access} role`, ...error };
  }
  if (changes && operation.access !== 'public') responses['403'] ??= { description: 'Refused as a possible cross-site request (no or a wrong CSRF token)', ...error };

  const body = operation.body ? jsonSchema(operation.body, 'input') : null;
  return {
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    tags: [operation.tag],
    operationId: `${operation.method}${operation.path.replace(/\{([^}]+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_, next: string | undefined) => (next ?? '').toUpperCase())}`,
    'x-formicary-access': operation.access,
    security: operation.access === 'public' ? [] : [changes ? { session: [], csrf: [] } : { session: [] }],
    parameters: [...(operation.pathParameters ? parameters(operation.pathParameters, 'path') : []), ...(operation.query ? parameters(operation.query, 'query') : [])],
    ...(body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: body }, ...(operation.form ? { 'application/x-www-form-urlencoded': { schema: body } } : {}) },
          },
        }
      : {}),
    responses,
  };
}

export function openApiDocument(info: DocumentInfo, operations: readonly ApiOperation[]): Record<string, unknown> {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const operation of operations) {
    const item = (paths[operation.path] ??= {});
    if (item[operation.method]) throw new Error(`${operation.method.toUpperCase()} ${operation.path} is described twice`);
    item[operation.method] = operationObject(operation);
  }
  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [...new Set(operations.map((operation) => operation.tag))].map((name) => ({ name })),
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: { Error: jsonSchema(errorBody, 'output') },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'formicary_session', description: 'The session cookie set at sign-in (POST /api/session, or /auth/login with AUTH=oidc)' },
        csrf: {
          type: 'apiKey',
          in: 'header',
          name: 'x-csrf-token',
          description: 'The session’s CSRF token (csrfToken of POST /api/session, or <meta name="csrf-token">); forms send it as the _csrf field',
        },
      },
    },
  };
}
