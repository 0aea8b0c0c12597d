// The dashboard's grid: one row a learner, one column a lab step, a count of completions per step
// underneath. Drawn from the dashboard contract as server-sent events arrive; what a row's buttons
// do is the dashboard's (passed in as `actions`).

import type { GridColumn, LearnerRow } from '../../contracts/index.ts';

const LABELS: Record<string, string> = { 'not-started': 'not started', working: 'working', failed: 'check failed', passed: 'passed' };

export interface RowActions {
  viewTerminal(row: LearnerRow, lab: string): void;
  reset(row: LearnerRow, lab: string): void;
  extend(row: LearnerRow): void;
}

const minutesSince = (at: string) => Math.max(0, Math.floor((Date.now() - Date.parse(at)) / 60_000));

export class DashboardGrid {
  readonly #table: HTMLTableElement;
  readonly #empty: HTMLElement;
  readonly #labs: string[];
  readonly #actions: RowActions;
  #columns: GridColumn[] = [];
  readonly #rows = new Map<string, LearnerRow>();
  /** An ended workshop: its rows' buttons (but View terminal) are drawn disabled. */
  ended = false;

  constructor(table: HTMLTableElement, empty: HTMLElement, labs: string[], actions: RowActions) {
    this.#table = table;
    this.#empty = empty;
    this.#labs = labs;
    this.#actions = actions;
  }

  /** How many learners have a row (everyone who joined). */
  get size(): number {
    return this.#rows.size;
  }

  /** Everything again: the columns, every row, the counts. */
  replace(columns: GridColumn[], rows: LearnerRow[], completions: number[]): void {
    this.#columns = columns;
    this.#rows.clear();
    this.#table.tBodies[0]!.replaceChildren();
    this.#renderHead();
    this.#renderCounts(completions);
    for (const row of rows) this.update(row);
    this.#empty.hidden = this.#rows.size > 0;
  }

  /** One learner's row, new or changed, and the counts it changed. */
  update(row: LearnerRow, completions?: number[]): void {
    this.#rows.set(row.learnerId, row);
    const made = this.#rowElement(row);
    const existing = this.#table.tBodies[0]!.querySelector(`tr[data-learner-id="${CSS.escape(row.learnerId)}"]`);
    if (existing) existing.replaceWith(made);
    else this.#table.tBodies[0]!.append(made);
    if (completions) this.#renderCounts(completions);
    this.#empty.hidden = this.#rows.size > 0;
  }

  #rowElement(row: LearnerRow): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.dataset.learner = row.name;
    tr.dataset.learnerId = row.learnerId;
    if (row.stuck) tr.classList.add('grid__row--stuck');
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = row.name;
    if (row.stuck) {
      const badge = document.createElement('span');
      badge.className = 'grid__stuck';
      badge.dataset.stuck = row.stuck;
      badge.textContent = row.stuck === 'failing' ? ' stuck: failing checks' : ' stuck: no progress';
      name.append(badge);
    }
    tr.append(name);
    row.cells.forEach((cell, index) => {
      const td = document.createElement('td');
      const column = this.#columns[index];
      td.className = `grid__cell grid__cell--${cell}`;
      td.dataset.cell = column ? `${column.lab}/${column.step}` : String(index);
      td.dataset.status = cell;
      td.textContent = LABELS[cell] ?? cell;
      tr.append(td);
    });
    const current = document.createElement('td');
    current.className = 'grid__current';
    current.textContent = row.current ? `${row.current.step} · ${minutesSince(row.current.since)} min` : '—';
    tr.append(current);
    const actions = document.createElement('td');
    const lab = row.current?.lab ?? this.#labs[0] ?? '';
    const button = (label: string, act: () => void, acts: boolean) => {
      const made = document.createElement('button');
      made.type = 'button';
      made.className = 'button button--small';
      made.textContent = label;
      made.setAttribute('aria-label', `${label} of ${row.name}`);
      if (acts) {
        made.dataset.acts = 'true';
        made.disabled = this.ended;
        if (this.ended) made.title = 'The workshop has ended.';
      }
      made.addEventListener('click', act);
      actions.append(made);
    };
    button('View terminal', () => this.#actions.viewTerminal(row, lab), false);
    button('Reset lab', () => this.#actions.reset(row, lab), true);
    button('+15 min', () => this.#actions.extend(row), true);
    tr.append(actions);
    return tr;
  }

  #renderHead(): void {
    const head = document.createElement('tr');
    const cell = (text: string) => {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = text;
      head.append(th);
    };
    cell('Learner');
    for (const column of this.#columns) cell(`${column.labTitle}: ${column.title}`);
    cell('Current step · time');
    cell('Actions');
    this.#table.tHead!.replaceChildren(head);
  }

  #renderCounts(completions: number[]): void {
    const foot = document.createElement('tr');
    const label = document.createElement('th');
    label.scope = 'row';
    label.textContent = 'Completed';
    foot.append(label);
    completions.forEach((count, index) => {
      const td = document.createElement('td');
      const column = this.#columns[index];
      td.dataset.completions = column ? `${column.lab}/${column.step}` : String(index);
      td.textContent = String(count);
      foot.append(td);
    });
    this.#table.tFoot!.replaceChildren(foot);
  }
}
