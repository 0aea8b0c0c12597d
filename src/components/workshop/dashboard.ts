// Behaviour of <WorkshopDashboard>: follows the workshop live (server-sent events from
// /api/workshops/:id/events) into the grid, and carries out the instructor's actions — message,
// extend, end, and per learner reset, extend and view terminal.

import type { Dashboard, LearnerRow } from '../../contracts/index.ts';
import { DashboardGrid } from './grid.ts';
import { LearnerTerminalView } from './learner-terminal.ts';

const when = (iso: string) => `${new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(iso))} UTC`;

export function attachDashboard(root: HTMLElement): void {
  const id = root.dataset.workshop ?? '';
  const labs = JSON.parse(root.dataset.labs ?? '[]') as string[];
  const q = <T extends HTMLElement = HTMLElement>(selector: string) => root.querySelector<T>(selector)!;
  const status = q('[data-action-status]');
  const seats = q('[data-seats-taken]');

  async function act(address: string, body: unknown, done: string): Promise<boolean> {
    const response = await fetch(address, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await response.json().catch(() => ({}))) as { error?: string };
    status.textContent = response.ok ? done : (answer.error ?? `That did not work (${response.status}).`);
    return response.ok;
  }

  const viewer = new LearnerTerminalView({ panel: q('[data-terminal-panel]'), host: q('[data-terminal-view]'), learner: q('[data-terminal-learner]'), status: q('[data-terminal-view-status]') });
  const grid = new DashboardGrid(q<HTMLTableElement>('[data-grid]'), q('[data-grid-empty]'), labs, {
    viewTerminal: (row: LearnerRow, lab: string) => void viewer.show(id, { id: row.learnerId, name: row.name }, lab),
    reset: (row, lab) => void act(`/api/workshops/${id}/learners/${row.learnerId}/reset`, { lab }, `${row.name}’s lab was reset.`),
    extend: (row) => void act(`/api/workshops/${id}/extend`, { minutes: 15, learnerId: row.learnerId }, `${row.name} has 15 more minutes.`),
  });

  /** After the end nothing can be acted on: every control says so instead of failing. */
  function showEnded(over: boolean): void {
    grid.ended = over;
    q('[data-ended-note]').hidden = !over;
    for (const control of root.querySelectorAll<HTMLButtonElement | HTMLInputElement>('[data-workshop-actions] button, [data-workshop-actions] input, [data-grid] button[data-acts]')) {
      control.disabled = over;
      if (over) control.title = 'The workshop has ended.';
    }
  }

  const events = new EventSource(`/api/workshops/${id}/events`);
  events.addEventListener('dashboard', (event) => {
    // Types only: zod in the page would compile parsers with new Function, which the CSP refuses.
    const dashboard = JSON.parse((event as MessageEvent<string>).data) as Dashboard;
    grid.ended = dashboard.workshop.endedAt !== null;
    grid.replace(dashboard.columns, dashboard.rows, dashboard.completions);
    seats.textContent = String(dashboard.workshop.taken);
    const endsAt = q<HTMLTimeElement>('[data-ends-at]');
    endsAt.dateTime = dashboard.workshop.endsAt;
    endsAt.textContent = when(dashboard.workshop.endsAt);
    showEnded(dashboard.workshop.endedAt !== null);
    root.dataset.live = 'true';
  });
  events.addEventListener('row', (event) => {
    const { row, completions } = JSON.parse((event as MessageEvent<string>).data) as { row: LearnerRow; completions: number[] };
    grid.update(row, completions);
    // Every learner who joined has a row: a new row is a seat taken.
    seats.textContent = String(grid.size);
  });

  q<HTMLFormElement>('[data-post-message]').addEventListener('submit', (event) => {
    event.preventDefault();
    const message = q<HTMLInputElement>('#message-text').value;
    void act(`/api/workshops/${id}/message`, { message }, 'Every learner sees the message now.');
  });
  q<HTMLFormElement>('[data-extend-all]').addEventListener('submit', (event) => {
    event.preventDefault();
    const minutes = Number(q<HTMLInputElement>('#extend-minutes').value);
    void act(`/api/workshops/${id}/extend`, { minutes }, `Everyone has ${minutes} more minutes.`);
  });
  q<HTMLButtonElement>('[data-end-workshop]').addEventListener('click', () => {
    if (!confirm('End the workshop? Every learner’s lab is ended and its sandbox removed.')) return;
    void act(`/api/workshops/${id}/end`, {}, 'The workshop has ended.').then((ok) => ok && showEnded(true));
  });
  q<HTMLButtonElement>('[data-terminal-close]').addEventListener('click', () => viewer.stop());
}
