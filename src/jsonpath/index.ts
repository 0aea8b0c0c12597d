// JSONPath, the one evaluator: lab checks (src/labs) and CRD printer columns (src/cluster) read
// objects with it the way kubectl and kube-apiserver do.

export { evaluateJsonPath, JsonPathError, parseJsonPath, renderJsonPathValues } from './jsonpath.ts';
export type { JsonPath, Literal, Segment } from './jsonpath.ts';
