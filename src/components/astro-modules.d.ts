// Lets plain `tsc` type-check .ts files that import components (Astro's editor tooling does
// this itself; the type checker in `npm test` does not have it).
declare module '*.astro' {
  const component: import('astro/runtime/server/index.js').AstroComponentFactory;
  export default component;
}
