// What crosses the wire between the browser and the portal, as zod schemas and their types: the
// pages, the browser's scripts and the server all import these, and never each other. A schema
// here validates what comes in (bodies, queries, socket messages), types what goes out, and
// describes both in /api/openapi.json.

// First: zod's settings must be in place before any schema below is built.
import './jitless.ts';

export * from './labs.ts';
export * from './learning.ts';
export * from './reports.ts';
export * from './roles.ts';
export * from './terminal.ts';
export * from './workshops.ts';
