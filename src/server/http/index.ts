// The HTTP pieces main.ts assembles: routes beside Astro (upgrades, event streams), address
// patterns, the built site's static files, security headers and request limits.

export { PortalRoutes } from './routes.ts';
export type { RequestHandler, RouteContext, ShutdownHook, UpgradeHandler } from './routes.ts';
export { RouteTable } from './patterns.ts';
export type { RouteMatch } from './patterns.ts';
export { openEventStream } from './events.ts';
export type { EventStream } from './events.ts';
export { indexStaticFiles } from './static.ts';
export { pageRoutePatterns } from './pages.ts';
export type { StaticFiles } from './static.ts';
export { bodyRefusal, DEFAULT_BODY_LIMIT_BYTES, isRequestBodyError, issuesOf, readBody, RequestBodyError } from './body.ts';
export type { BodyIssue, BodySource, ReadBodyOptions } from './body.ts';
export { setSecurityHeaders } from './headers.ts';
export { admitBody, BodyLimits, DEFAULT_HTTP_LIMITS, sizeText } from './limits.ts';
export type { HttpLimits } from './limits.ts';
