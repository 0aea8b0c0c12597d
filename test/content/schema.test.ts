import { describe, expect, it } from 'vitest';
import { lessonFrontmatter, pathFrontmatter } from '../../src/content-model/index.ts';

function messages(result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) {
  return (result.error?.issues ?? []).map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`);
}

describe('path frontmatter', () => {
  const valid = {
    title: 'Kubernetes foundations',
    summary: 'From clusters to namespaces.',
    level: 'beginner',
    duration: 180,
    audience: 'Developers new to Kubernetes',
    outcomes: ['Explain what a cluster is'],
  };

  it('accepts a complete path and defaults prerequisites to none', () => {
    expect(pathFrontmatter.parse(valid)).toEqual({ ...valid, prerequisites: [] });
  });

  it('names each wrong field and what would be right', () => {
    const result = pathFrontmatter.safeParse({ ...valid, level: 'expert', duration: 1.5, outcomes: [], title: undefined });
    expect(messages(result)).toEqual([
      'title: is required',
      'level: must be one of beginner, intermediate, advanced',
      'duration: must be a whole number of minutes',
      'outcomes: must list at least one outcome',
    ]);
  });

  it('rejects prerequisites that are not path ids', () => {
    expect(messages(pathFrontmatter.safeParse({ ...valid, prerequisites: ['Container Basics'] }))).toEqual([
      'prerequisites.0: must be lower-case words joined by hyphens, such as "kubernetes-foundations"',
    ]);
  });

  it('rejects unknown fields, so a misspelt field is not silently ignored', () => {
    expect(pathFrontmatter.safeParse({ ...valid, outcome: ['x'] }).success).toBe(false);
  });
});

describe('lesson frontmatter', () => {
  const valid = { title: 'Pods', summary: 'The smallest unit.', duration: 20, objectives: ['Create a Pod'] };

  it('accepts a lesson with and without a lab', () => {
    expect(lessonFrontmatter.parse(valid)).toEqual(valid);
    expect(lessonFrontmatter.parse({ ...valid, lab: 'first-pod' })).toEqual({ ...valid, lab: 'first-pod' });
  });

  it('requires at least one non-empty objective and a positive duration', () => {
    expect(messages(lessonFrontmatter.safeParse({ ...valid, objectives: [' '], duration: 0 }))).toEqual([
      'duration: must be more than 0 minutes',
      'objectives.0: must not be empty',
    ]);
    expect(messages(lessonFrontmatter.safeParse({ ...valid, objectives: 'Create a Pod' }))).toEqual([
      'objectives: must be a list of objectives',
    ]);
  });
});
