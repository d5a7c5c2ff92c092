/**
 * The runs of one experiment as a server-side paged, sorted and filtered table.
 *
 * Only one page (50 runs) is ever fetched, so an experiment of 100,000 runs
 * costs the browser no more than one of 50.
 */
import * as React from 'react';

import {
  errorMessage,
  errorStatus,
  getExperiment,
  isAbort,
  searchRuns
} from './api';
import {
  ATTRIBUTE_COLUMNS,
  ColumnChooser,
  type Direction,
  type IColumn,
  metricColumn,
  paramColumn,
  visibleKeys
} from './columns';
import { ErrorMessage, LoadingBar, VisibilityAwareWidget } from './common';
import { usePolling, useNow } from './hooks';
import { workbenchIcon } from './icons';
import type { Experiment, RunInfo, RunsPage, RunsQuery } from './models';
import { PageCheckbox, RowCheckbox, SelectionBar, useRunSelection } from './runSelection';

/** Rows per page. */
export const PAGE_SIZE = 50;
/** Paging and sorting clicks within this window make one request. */
const DEBOUNCE_MS = 150;

interface ITableQuery {
  filter: string;
  /** An `order_by` field: `attributes.start_time`, `metrics.auc`, `params.depth`. */
  sortField: string;
  direction: Direction;
  offset: number;
}

const INITIAL_QUERY: ITableQuery = {
  filter: '',
  sortField: 'attributes.start_time',
  direction: 'DESC',
  offset: 0
};

function toRunsQuery(experimentId: number, query: ITableQuery): RunsQuery {
  return {
    experiment_ids: [experimentId],
    filter: query.filter,
    order_by: [`${query.sortField} ${query.direction}`],
    max_results: PAGE_SIZE,
    offset: query.offset,
    include_total: true
  };
}

export interface IRunsTableProps {
  experimentId: number;
  onOpenRun: (info: RunInfo) => void;
  /** Opens the Compare view of these runs, in this order. */
  onCompare: (runIds: string[]) => void;
  /** Called with the experiment as fetched (its name, its active run count). */
  onExperiment: (experiment: Experiment) => void;
  visible: boolean;
}

export function RunsTable(props: IRunsTableProps): JSX.Element {
  const { experimentId } = props;
  const [experiment, setExperiment] = React.useState<Experiment | null>(null);
  const [query, setQuery] = React.useState<ITableQuery>(INITIAL_QUERY);
  const [requested, setRequested] = React.useState<ITableQuery>(INITIAL_QUERY);
  const [page, setPage] = React.useState<RunsPage | null>(null);
  const [loading, setLoading] = React.useState(true);
  const [error, setError] = React.useState<string | null>(null);
  const [filterError, setFilterError] = React.useState<string | null>(null);
  const [filterDraft, setFilterDraft] = React.useState('');
  const [columnChoice, setColumnChoice] = React.useState<Record<string, boolean>>({});
  const [chooserOpen, setChooserOpen] = React.useState(false);
  const selection = useRunSelection();

  // The query being fetched (for clicks that build on it before it lands),
  // the in-flight request and the debounce timer.
  const committed = React.useRef<ITableQuery>(INITIAL_QUERY);
  const pending = React.useRef<ITableQuery | null>(null);
  const controller = React.useRef<AbortController | null>(null);
  const debounce = React.useRef<number | undefined>(undefined);
  const mounted = React.useRef(true);
  React.useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      window.clearTimeout(debounce.current);
      controller.current?.abort();
    };
  }, []);

  /** Fetches `q`; on success it becomes the table's query. */
  const run = React.useCallback(
    async (q: ITableQuery, opts: { silent: boolean }): Promise<void> => {
      controller.current?.abort();
      const ctrl = new AbortController();
      controller.current = ctrl;
      try {
        const result = await searchRuns(toRunsQuery(experimentId, q), {
          signal: ctrl.signal
        });
        if (ctrl.signal.aborted || !mounted.current) {
          return;
        }
        setPage(result);
        committed.current = q;
        setQuery(q);
        setError(null);
        if (!opts.silent) {
          setFilterError(null);
          setRequested(q);
        }
      } catch (err) {
        if (isAbort(err, ctrl.signal) || !mounted.current) {
          return;
        }
        if (!opts.silent && errorStatus(err) === 400) {
          setFilterError(errorMessage(err));
        } else {
          setError(errorMessage(err));
        }
        if (!opts.silent) {
          // Back to what the rows show, so paging and polling keep working.
          setRequested(current => (current === q ? committed.current : current));
        }
      } finally {
        if (pending.current === q) {
          pending.current = null;
        }
        if (controller.current === ctrl) {
          controller.current = null;
          // Keep the indicator while a newer request waits out its debounce.
          if (mounted.current && !opts.silent && pending.current === null) {
            setLoading(false);
          }
        }
      }
    },
    [experimentId]
  );

  /** Asks for a new query, built on the one in flight; one request per burst of clicks. */
  const request = React.useCallback(
    (update: (q: ITableQuery) => ITableQuery, delay = DEBOUNCE_MS) => {
      const next = update(pending.current ?? requested);
      pending.current = next;
      setRequested(next);
      setLoading(true);
      window.clearTimeout(debounce.current);
      debounce.current = window.setTimeout(() => void run(next, { silent: false }), delay);
    },
    [requested, run]
  );

  // First page.
  React.useEffect(() => {
    pending.current = INITIAL_QUERY;
    void run(INITIAL_QUERY, { silent: false });
    getExperiment(experimentId)
      .then(e => {
        if (mounted.current) {
          setExperiment(e);
          props.onExperiment(e);
        }
      })
      .catch(() => undefined);
    // Once per experiment: the widget's callbacks are not dependencies.
  }, [experimentId, run]);

  const runs = page?.runs ?? [];
  const anyRunning = runs.some(r => r.info.status === 'RUNNING');
  const live = anyRunning || (experiment?.active_run_count ?? 0) > 0;

  usePolling(
    async () => {
      if (pending.current !== null || controller.current !== null) {
        return; // The user's own request is on its way.
      }
      const [, fresh] = await Promise.all([
        run(committed.current, { silent: true }),
        getExperiment(experimentId).catch(() => null)
      ]);
      if (fresh && mounted.current) {
        setExperiment(fresh);
        props.onExperiment(fresh);
      }
    },
    props.visible && live
  );

  const now = useNow(anyRunning ? 1000 : 30000);

  const paramKeys = page?.param_keys ?? [];
  const metricKeys = page?.metric_keys ?? [];
  const shownParams = visibleKeys('params', paramKeys, columnChoice);
  const shownMetrics = visibleKeys('metrics', metricKeys, columnChoice);
  const paramCols = shownParams.map(paramColumn);
  const metricCols = shownMetrics.map(metricColumn);
  const columns = [...ATTRIBUTE_COLUMNS, ...paramCols, ...metricCols];

  const sortBy = (column: IColumn) => {
    const field = column.sortField;
    if (field === null) {
      return;
    }
    request(q => ({
      ...q,
      sortField: field,
      direction:
        q.sortField === field
          ? q.direction === 'DESC'
            ? 'ASC'
            : 'DESC'
          : column.firstDirection,
      offset: 0
    }));
  };

  const total = page?.total ?? null;
  const offset = page?.offset ?? query.offset;
  const hasPrev = requested.offset > 0;
  const hasNext =
    total !== null
      ? requested.offset + PAGE_SIZE < total
      : runs.length === PAGE_SIZE;

  const pageInfos = runs.map(r => r.info);
  const pageSelected = pageInfos.filter(info => selection.has(info.run_id)).length;
  const allPageSelected = runs.length > 0 && pageSelected === runs.length;

  const first = runs.length > 0 ? offset + 1 : 0;
  const last = offset + runs.length;
  const pagerText =
    page === null
      ? 'Loading…'
      : `rows ${first}–${last}${total !== null ? ` of ${total}` : ''}`;

  return (
    <div className="wb-RunsTable">
      <div className="wb-RunsTable-toolbar">
        <div className="wb-Filter">
          <input
            className="jp-mod-styled wb-Filter-input"
            type="search"
            spellCheck={false}
            placeholder="Filter: metrics.auc > 0.9 and params.depth = '4'   (Enter to search)"
            title={
              'MLflow search syntax: metrics.<k>, params.<k>, tags.<k>, attributes.<a>; ' +
              "= != > >= < <=, like, ilike, in (...), is null; and / or. Params and tags take quoted values."
            }
            aria-label="Filter runs"
            aria-invalid={filterError !== null}
            data-testid="wb-filter"
            value={filterDraft}
            onChange={event => setFilterDraft(event.target.value)}
            onKeyDown={event => {
              if (event.key === 'Enter') {
                event.preventDefault();
                const filter = filterDraft.trim();
                request(q => ({ ...q, filter, offset: 0 }), 0);
              } else if (event.key === 'Escape') {
                setFilterDraft(query.filter);
                setFilterError(null);
              }
            }}
          />
          {filterError !== null && (
            <div className="wb-Filter-error" role="alert" data-testid="wb-filter-error">
              {filterError}
            </div>
          )}
        </div>
        <div className="wb-RunsTable-controls">
          <SelectionBar selection={selection} onCompare={props.onCompare} />
          <div className="wb-ColumnChooser">
            <button
              className="jp-Button jp-mod-styled wb-Button"
              aria-expanded={chooserOpen}
              data-testid="wb-columns-toggle"
              onClick={() => setChooserOpen(open => !open)}
            >
              Columns ▾
            </button>
            {chooserOpen && (
              <ColumnChooser
                paramKeys={paramKeys}
                metricKeys={metricKeys}
                choice={columnChoice}
                onChange={setColumnChoice}
                onClose={() => setChooserOpen(false)}
              />
            )}
          </div>
          <span className="wb-Pager">
            <button
              className="jp-Button jp-mod-styled wb-Button"
              disabled={!hasPrev}
              data-testid="wb-prev"
              onClick={() =>
                request(q => ({ ...q, offset: Math.max(0, q.offset - PAGE_SIZE) }))
              }
            >
              ‹ Prev
            </button>
            <span
              className="wb-Pager-text"
              data-testid="wb-pager"
              data-offset={offset}
              data-count={runs.length}
              data-total={total ?? ''}
            >
              {pagerText}
            </span>
            <button
              className="jp-Button jp-mod-styled wb-Button"
              disabled={!hasNext}
              data-testid="wb-next"
              onClick={() => request(q => ({ ...q, offset: q.offset + PAGE_SIZE }))}
            >
              Next ›
            </button>
          </span>
          <span className="wb-Loading" aria-live="polite">
            {loading ? 'Loading…' : live ? 'Live' : ''}
          </span>
        </div>
      </div>
      <LoadingBar loading={loading} />
      <ErrorMessage message={error} />
      <div className="wb-RunsTable-scroll">
        <table
          className={`wb-Table${loading ? ' wb-mod-stale' : ''}`}
          data-testid="wb-runs-table"
          data-loading={loading ? 'true' : 'false'}
          aria-busy={loading}
        >
          <thead>
            <tr className="wb-Table-groups">
              <th colSpan={ATTRIBUTE_COLUMNS.length + 1} />
              {paramCols.length > 0 && (
                <th colSpan={paramCols.length} className="wb-group-params">
                  Params
                </th>
              )}
              {metricCols.length > 0 && (
                <th colSpan={metricCols.length} className="wb-group-metrics">
                  Metrics
                </th>
              )}
            </tr>
            <tr>
              <th className="wb-col-select">
                <PageCheckbox
                  checked={allPageSelected}
                  indeterminate={pageSelected > 0 && !allPageSelected}
                  disabled={runs.length === 0}
                  onChange={on => selection.set(pageInfos, on)}
                />
              </th>
              {columns.map(column => {
                const sorted =
                  column.sortField !== null && column.sortField === requested.sortField;
                return (
                  <th
                    key={column.id}
                    className={`${column.className}${
                      column.sortField ? ' wb-mod-sortable' : ''
                    }${sorted ? ' wb-mod-sorted' : ''}`}
                    title={
                      column.sortField ? `${column.title} (click to sort)` : column.title
                    }
                    data-column={column.id}
                    aria-sort={
                      sorted
                        ? requested.direction === 'ASC'
                          ? 'ascending'
                          : 'descending'
                        : undefined
                    }
                    onClick={() => sortBy(column)}
                  >
                    <span className="wb-Table-label">{column.label}</span>
                    {sorted && (
                      <span className="wb-Table-sort">
                        {requested.direction === 'ASC' ? '▲' : '▼'}
                      </span>
                    )}
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {runs.map(run => (
              <tr
                key={run.info.run_id}
                className={`wb-RunRow${
                  selection.has(run.info.run_id) ? ' wb-mod-selected' : ''
                }`}
                data-testid="wb-run-row"
                data-run-id={run.info.run_id}
                data-status={run.info.status}
                tabIndex={0}
                onClick={() => props.onOpenRun(run.info)}
                onKeyDown={event => {
                  if (event.key === 'Enter') {
                    props.onOpenRun(run.info);
                  }
                }}
              >
                <RowCheckbox
                  info={run.info}
                  checked={selection.has(run.info.run_id)}
                  onChange={(on, shift) => selection.toggle(run.info, on, shift ? pageInfos : null)}
                />
                {columns.map(column => (
                  <td
                    key={column.id}
                    className={column.className}
                    title={column.cellTitle?.(run)}
                  >
                    {column.cell(run, now)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {page !== null && runs.length === 0 && (
          <div className="wb-Empty">
            {query.filter ? 'No runs match this filter.' : 'No runs in this experiment yet.'}
          </div>
        )}
      </div>
    </div>
  );
}

/** The runs table as a main-area widget, "Runs: <experiment>". */
export class RunsTableWidget extends VisibilityAwareWidget {
  private _name: string;

  constructor(
    readonly experimentId: number,
    name: string,
    private readonly onOpenRun: (info: RunInfo) => void,
    private readonly onCompare: (runIds: string[]) => void
  ) {
    super();
    this._name = name;
    this.id = `workbench-runs-${experimentId}`;
    this.addClass('wb-RunsTableWidget');
    this.title.icon = workbenchIcon;
    this.title.closable = true;
    this.setName(name);
  }

  /** The experiment's name, as last fetched. */
  get experimentName(): string {
    return this._name;
  }

  private setName(name: string): void {
    this._name = name;
    this.title.label = `Runs: ${name}`;
    this.title.caption = `Runs of experiment ${name} (id ${this.experimentId})`;
  }

  protected render(): JSX.Element {
    return (
      <RunsTable
        experimentId={this.experimentId}
        onOpenRun={this.onOpenRun}
        onCompare={this.onCompare}
        onExperiment={e => this.setName(e.name)}
        visible={this.isVisible}
      />
    );
  }
}
