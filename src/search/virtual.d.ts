declare module 'virtual:formicary/search-index' {
  const serialized: import('./build.ts').SerializedSearchIndex;
  export default serialized;
}
