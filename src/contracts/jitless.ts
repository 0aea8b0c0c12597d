// Pages run under a Content-Security-Policy without 'unsafe-eval' (src/server/http/headers.ts).
// zod compiles a fast path for object schemas when they are built, after probing `Function('')`,
// which the browser refuses and reports as a violation. In the browser zod runs without it (the
// setting must come before any schema is built); the server keeps it.
import { z } from 'zod';

if (typeof window !== 'undefined') z.config({ jitless: true });
