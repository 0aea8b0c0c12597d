/// <reference types="astro/client" />

declare namespace App {
  interface Locals {
    services: import('./server/services.ts').PortalServices;
    learner: import('./server/services.ts').Learner | null;
  }
}
