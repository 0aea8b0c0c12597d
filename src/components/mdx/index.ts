// The components every lesson can use without importing them; pages pass this map to
// <Content components={…} />. Names match src/content-model/components.ts, which checks
// their props in `formicary content check`.
import Callout from './Callout.astro';
import Command from './Command.astro';
import Figure from './Figure.astro';
import Quiz from './Quiz.astro';
import Tab from './Tab.astro';
import Tabs from './Tabs.astro';

export const mdxComponents = { Callout, Command, Tabs, Tab, Quiz, Figure };
