/// <reference types="astro/client" />

declare namespace App {
  interface Locals {
    services: import('./server/services.ts').PortalServices;
    learner: import('./server/services.ts').Learner | null;
    /** The session's CSRF token (null when signed out); BaseLayout puts it in <meta name="csrf-token">. */
    csrfToken?: string | null;
    /** Set by the portal's gate when it refused the request; read by /auth/refused. */
    refusal?: import('./server/auth/index.ts').Refusal | null;
  }
}
