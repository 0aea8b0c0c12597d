import { describe, expect, it } from 'vitest';
import { MdxSyntaxError, outlineMdx } from '../../src/content-model/index.ts';

const lesson = `---
title: Pods
---

A Pod wraps containers.

## What is in a \`Pod\`

Containers share a **network** namespace. See [Services](/paths/k/services#ports).

<Callout kind="tip" title="Sidecars">
  A sidecar runs beside the main container.
</Callout>

## What is in a Pod

<Quiz question="How many IPs does a Pod get?" options={["one", "one per container"]} answer={0} />

\`\`\`bash
kubectl get pods
\`\`\`

<Figure src="/diagrams/pod.svg" alt="A Pod with two containers" />
`;

describe('outlineMdx', () => {
  const outline = outlineMdx(lesson);

  it('gives headings the ids Astro renders, de-duplicated in document order', () => {
    expect(outline.headings).toEqual([
      { depth: 2, text: 'What is in a Pod', slug: 'what-is-in-a-pod', line: 7 },
      { depth: 2, text: 'What is in a Pod', slug: 'what-is-in-a-pod-1', line: 15 },
    ]);
  });

  it('splits readable text per heading, including component text and code', () => {
    expect(outline.sections.map((section) => [section.heading?.slug ?? null, section.text])).toEqual([
      [null, 'A Pod wraps containers.'],
      ['what-is-in-a-pod', 'Containers share a network namespace. See Services. Sidecars A sidecar runs beside the main container.'],
      ['what-is-in-a-pod-1', 'How many IPs does a Pod get? one one per container kubectl get pods A Pod with two containers'],
    ]);
  });

  it('collects addresses with their lines', () => {
    expect(outline.references).toEqual([
      { url: '/paths/k/services#ports', line: 9, source: 'link' },
      { url: '/diagrams/pod.svg', line: 23, source: '<Figure src>' },
    ]);
  });

  it('reports MDX that does not parse with its line', () => {
    expect(() => outlineMdx('Text\n\n<Callout>\nnever closed\n')).toThrowError(MdxSyntaxError);
    try {
      outlineMdx('Text\n\n<Callout>\nnever closed\n');
    } catch (error) {
      expect((error as MdxSyntaxError).line).toBe(3);
    }
  });
});
