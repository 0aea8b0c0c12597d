// Security headers on every answer of the portal. Pages get their Content-Security-Policy from
// Astro (astro.config.mjs: `security.csp`), which adds a hash of every script it renders to
// PAGE_CSP_DIRECTIVES, so no inline script runs unless the build put it there. Everything else
// (JSON, redirects, static files) gets a policy that allows nothing, or, for a prerendered page,
// one that keeps it out of frames while its own <meta> policy governs scripts.

import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What the pages load: their own scripts, styles and images (diagrams, data: icons), the terminal's
 * WebSocket and the API (same origin). Styles may be inline: xterm.js writes `<style>` elements
 * and Shiki colours code with `style` attributes; neither can run script.
 */
export const PAGE_CSP_DIRECTIVES = [
  "default-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
] as const;

/** For `security.csp.styleDirective.resources`: with 'unsafe-inline' Astro emits no style hashes (they would cancel it). */
export const PAGE_STYLE_SOURCES = ["'self'", "'unsafe-inline'"] as const;

/** Answers that are not pages: nothing may load, nobody may frame them. */
const NOTHING_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** A prerendered page (404.html): its <meta> policy holds the script hashes; this adds what a <meta> cannot say. */
export const PRERENDERED_PAGE_CSP = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'";

const HSTS_SECONDS = 180 * 24 * 60 * 60;

/** Whether the browser reached us over HTTPS, directly or through a TLS-terminating proxy. */
function overHttps(req: IncomingMessage): boolean {
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return proto === 'https' || ('encrypted' in req.socket && req.socket.encrypted === true);
}

/** Set before any handler runs; a page's own Content-Security-Policy (from Astro) replaces the default one. */
export function setSecurityHeaders(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('content-security-policy', NOTHING_CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'strict-origin-when-cross-origin');
  res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  // Only over HTTPS: sent over plain HTTP it would be ignored, and on localhost it would pin a developer's other ports.
  if (overHttps(req)) res.setHeader('strict-transport-security', `max-age=${HSTS_SECONDS}; includeSubDomains`);
}
