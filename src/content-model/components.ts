import type { AttributeValue, OutlineComponent } from './outline.ts';

// The components every lesson may use without importing them. The Astro side maps the same
// names to src/components/mdx/*.astro; the checker uses these rules to catch a wrong prop
// before the build (or a learner) does.

export const calloutKinds = ['note', 'tip', 'warning', 'danger'] as const;

type Rule = (attributes: Map<string, AttributeValue>) => Array<{ field: string; problem: string }>;

function requireText(attributes: Map<string, AttributeValue>, name: string, example: string) {
  const value = attributes.get(name);
  if (typeof value === 'string' && value.trim()) return [];
  return [{ field: name, problem: `is required: a non-empty string, such as ${name}="${example}"` }];
}

function literalStrings(expression: string): string[] | null {
  try {
    const value: unknown = JSON.parse(expression.replace(/'((?:[^'\\]|\\.)*)'/g, (_, inner: string) => JSON.stringify(inner)));
    return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : null;
  } catch {
    return null;
  }
}

const rules: Record<string, Rule> = {
  Callout: (attributes) => {
    const kind = attributes.get('kind');
    if (kind === undefined || (typeof kind === 'string' && (calloutKinds as readonly string[]).includes(kind))) return [];
    return [{ field: 'kind', problem: `must be one of ${calloutKinds.join(', ')}` }];
  },
  Command: (attributes) => requireText(attributes, 'command', 'kubectl get pods'),
  Tabs: (attributes) => {
    const labels = attributes.get('labels');
    if (typeof labels === 'object' && literalStrings(labels.expression)?.length) return [];
    return [{ field: 'labels', problem: 'is required: a list of tab names, such as labels={["YAML", "kubectl"]}' }];
  },
  Tab: (attributes) => requireText(attributes, 'label', 'YAML'),
  Quiz: (attributes) => {
    const problems = requireText(attributes, 'question', 'Which object keeps three replicas running?');
    const options = attributes.get('options');
    const choices = typeof options === 'object' ? literalStrings(options.expression) : null;
    if (!choices || choices.length < 2) {
      problems.push({ field: 'options', problem: 'is required: a list of at least two answers, such as options={["a Pod", "a Deployment"]}' });
    }
    const answer = attributes.get('answer');
    const index = typeof answer === 'object' ? Number(answer.expression.trim()) : Number.NaN;
    if (!Number.isInteger(index) || index < 0 || (choices && index >= choices.length)) {
      const range = choices ? `0 to ${choices.length - 1}` : 'counted from 0';
      problems.push({ field: 'answer', problem: `must be the index of the right option (${range}), written answer={1}` });
    }
    return problems;
  },
  Figure: (attributes) => [...requireText(attributes, 'src', '/diagrams/cluster.svg'), ...requireText(attributes, 'alt', 'what the picture shows')],
};

export const mdxComponentNames: readonly string[] = Object.keys(rules);

/** Problems with one component use; `field` is `<Name attribute>`. */
export function checkComponent(component: OutlineComponent): Array<{ field: string; problem: string }> {
  const rule = rules[component.name];
  if (!rule) {
    // Lower-case names are HTML elements, which MDX passes through.
    if (/^[a-z]/.test(component.name)) return [];
    return [{ field: `<${component.name}>`, problem: `is not a lesson component; use one of ${mdxComponentNames.join(', ')}` }];
  }
  return rule(component.attributes).map(({ field, problem }) => ({ field: `<${component.name} ${field}>`, problem }));
}
