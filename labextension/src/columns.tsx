/**
 * The runs table's columns: the run attributes, one column per param and
 * metric key, which of those show, and the chooser that toggles them.
 */
import * as React from 'react';

import { StatusDot } from './common';
import {
  formatDuration,
  formatMetric,
  formatRelative,
  formatTime,
  metricTitle,
  runDuration
} from './format';
import type { Run } from './models';

export type Direction = 'ASC' | 'DESC';

/** Params and metrics shown before the user picks columns. */
export const DEFAULT_KEY_COLUMNS = 12;

/**
 * A key as the search language wants it: bare when it is a plain identifier,
 * in backticks otherwise (`metrics.\`val-loss\``).
 */
export function quoteKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `\`${key}\``;
}

export interface IColumn {
  /** Stable id (`params.depth`, `metrics.val-loss`); the header's `data-column`. */
  id: string;
  label: string;
  title: string;
  sortField: string | null;
  /** The direction of a first click on the header. */
  firstDirection: Direction;
  className: string;
  cell: (run: Run, now: number) => React.ReactNode;
  cellTitle?: (run: Run) => string;
}

export const ATTRIBUTE_COLUMNS: IColumn[] = [
  {
    id: 'attributes.status',
    label: '',
    title: 'Status',
    sortField: 'attributes.status',
    firstDirection: 'ASC',
    className: 'wb-col-status',
    cell: run => <StatusDot status={run.info.status} />
  },
  {
    id: 'attributes.run_name',
    label: 'Name',
    title: 'Run name',
    sortField: 'attributes.run_name',
    firstDirection: 'ASC',
    className: 'wb-col-name',
    cell: run => run.info.name,
    cellTitle: run => `${run.info.name}\n${run.info.run_id}\nby ${run.info.user}`
  },
  {
    id: 'attributes.start_time',
    label: 'Started',
    title: 'Start time',
    sortField: 'attributes.start_time',
    firstDirection: 'DESC',
    className: 'wb-col-time',
    cell: (run, now) => formatRelative(run.info.start_time, now),
    cellTitle: run => formatTime(run.info.start_time)
  },
  {
    // The search language has no duration attribute to order by.
    id: 'duration',
    label: 'Duration',
    title: 'Duration (to now while running)',
    sortField: null,
    firstDirection: 'DESC',
    className: 'wb-col-duration',
    cell: (run, now) => formatDuration(runDuration(run.info, now))
  }
];

export function paramColumn(key: string): IColumn {
  const field = `params.${quoteKey(key)}`;
  return {
    id: `params.${key}`,
    label: key,
    title: `params.${key}`,
    sortField: field,
    firstDirection: 'ASC',
    className: 'wb-col-param',
    cell: run => run.data.params?.[key] ?? '',
    cellTitle: run => run.data.params?.[key] ?? ''
  };
}

export function metricColumn(key: string): IColumn {
  const field = `metrics.${quoteKey(key)}`;
  return {
    id: `metrics.${key}`,
    label: key,
    title: `metrics.${key}`,
    sortField: field,
    firstDirection: 'DESC',
    className: 'wb-col-metric',
    cell: run => formatMetric(run.data.metrics?.[key]),
    cellTitle: run => metricTitle(run.data.metrics?.[key])
  };
}

/** Which key columns show: the user's choice, else the first few. */
export function visibleKeys(
  group: 'params' | 'metrics',
  keys: readonly string[],
  choice: Readonly<Record<string, boolean>>
): string[] {
  return keys.filter(
    (key, index) => choice[`${group}.${key}`] ?? index < DEFAULT_KEY_COLUMNS
  );
}

export function ColumnChooser(props: {
  paramKeys: readonly string[];
  metricKeys: readonly string[];
  choice: Readonly<Record<string, boolean>>;
  onChange: (choice: Record<string, boolean>) => void;
  onClose: () => void;
}): JSX.Element {
  const [search, setSearch] = React.useState('');
  const needle = search.trim().toLowerCase();
  const shownParams = new Set(visibleKeys('params', props.paramKeys, props.choice));
  const shownMetrics = new Set(visibleKeys('metrics', props.metricKeys, props.choice));

  const group = (
    name: 'params' | 'metrics',
    keys: readonly string[],
    shown: Set<string>
  ) => {
    const matching = keys.filter(k => !needle || k.toLowerCase().includes(needle));
    return (
      <fieldset className="wb-ColumnChooser-group">
        <legend>{name === 'params' ? 'Params' : 'Metrics'}</legend>
        {matching.length === 0 && <div className="wb-Empty">none</div>}
        {matching.map(key => (
          <label key={key} className="wb-ColumnChooser-item" title={`${name}.${key}`}>
            <input
              type="checkbox"
              checked={shown.has(key)}
              data-column={`${name}.${key}`}
              onChange={event =>
                props.onChange({
                  ...props.choice,
                  [`${name}.${key}`]: event.target.checked
                })
              }
            />
            {key}
          </label>
        ))}
      </fieldset>
    );
  };

  return (
    <div
      className="wb-ColumnChooser-popup"
      data-testid="wb-columns"
      onKeyDown={event => {
        if (event.key === 'Escape') {
          props.onClose();
        }
      }}
    >
      <div className="wb-ColumnChooser-bar">
        <input
          className="jp-mod-styled"
          type="search"
          placeholder="Find a column"
          aria-label="Find a column"
          value={search}
          onChange={event => setSearch(event.target.value)}
        />
        <button
          className="jp-Button jp-mod-minimal wb-Button"
          onClick={() => props.onChange({})}
          title={`Show the first ${DEFAULT_KEY_COLUMNS} params and metrics`}
        >
          Reset
        </button>
        <button className="jp-Button jp-mod-minimal wb-Button" onClick={props.onClose}>
          Close
        </button>
      </div>
      <div className="wb-ColumnChooser-lists">
        {group('params', props.paramKeys, shownParams)}
        {group('metrics', props.metricKeys, shownMetrics)}
      </div>
    </div>
  );
}
