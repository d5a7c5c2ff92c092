/**
 * Picking runs in the runs table for the Compare view: a box per row
 * (shift-click ticks a range), the header's box for the page, a count, Clear
 * and "Compare (n)". The selection is kept by run id, so it survives paging,
 * sorting and filtering until it is cleared.
 */
import * as React from 'react';

import type { RunInfo } from './models';

/** The most runs one Compare view takes. */
export const MAX_COMPARE = 1000;

/** The runs ticked in one runs table. */
export interface IRunSelection {
  /** Run ids in the order they were ticked. */
  readonly ids: readonly string[];
  readonly size: number;
  has(runId: string): boolean;
  /** Ticks or unticks these runs (the header box: the page). */
  set(infos: readonly RunInfo[], on: boolean): void;
  /**
   * Ticks or unticks one run; with the page's rows in `range`, also every row
   * between it and the last one ticked (shift-click).
   */
  toggle(info: RunInfo, on: boolean, range: readonly RunInfo[] | null): void;
  clear(): void;
}

/** Selected runs: id -> name, in the order they were picked. */
type Selected = ReadonlyMap<string, string>;

const NONE: Selected = new Map();

/** The state behind a runs table's boxes. */
export function useRunSelection(): IRunSelection {
  const [selected, setSelected] = React.useState<Selected>(NONE);
  // The run last ticked or unticked, where a shift-click range starts.
  const anchor = React.useRef<string | null>(null);

  return React.useMemo(() => {
    const set = (infos: readonly RunInfo[], on: boolean) => {
      setSelected(current => {
        const next = new Map(current);
        for (const info of infos) {
          if (!on) {
            next.delete(info.run_id);
          } else if (!next.has(info.run_id)) {
            next.set(info.run_id, info.name);
          }
        }
        return next;
      });
    };
    return {
      ids: [...selected.keys()],
      size: selected.size,
      has: (runId: string) => selected.has(runId),
      set,
      toggle: (info: RunInfo, on: boolean, range: readonly RunInfo[] | null) => {
        const ids = (range ?? []).map(r => r.run_id);
        const from = anchor.current === null ? -1 : ids.indexOf(anchor.current);
        const to = ids.indexOf(info.run_id);
        if (range !== null && from >= 0 && to >= 0) {
          set(range.slice(Math.min(from, to), Math.max(from, to) + 1), on);
        } else {
          set([info], on);
        }
        anchor.current = info.run_id;
      },
      clear: () => {
        setSelected(NONE);
        anchor.current = null;
      }
    };
  }, [selected]);
}

/** The count, Clear, and "Compare (n)" (enabled for 1 to MAX_COMPARE runs). */
export function SelectionBar(props: {
  selection: IRunSelection;
  onCompare: (runIds: string[]) => void;
}): JSX.Element {
  const { selection } = props;
  const count = selection.size;
  const canCompare = count >= 1 && count <= MAX_COMPARE;
  const title =
    count === 0
      ? 'Tick runs to compare them'
      : count > MAX_COMPARE
        ? `Compare takes at most ${MAX_COMPARE.toLocaleString()} runs; ${count.toLocaleString()} are selected`
        : `Compare the ${count.toLocaleString()} selected run${count === 1 ? '' : 's'}`;
  return (
    <span className="wb-Selection">
      <span className="wb-Selection-count" data-testid="wb-selection-count" data-count={count}>
        {count === 0 ? 'No runs selected' : `${count.toLocaleString()} selected`}
      </span>
      {count > 0 && (
        <button
          className="jp-Button jp-mod-minimal jp-mod-styled wb-Button"
          data-testid="wb-selection-clear"
          title="Untick every selected run"
          onClick={selection.clear}
        >
          Clear
        </button>
      )}
      <button
        className="jp-Button jp-mod-styled jp-mod-accept wb-Button"
        disabled={!canCompare}
        title={title}
        data-testid="wb-compare-button"
        data-count={count}
        onClick={() => props.onCompare([...selection.ids])}
      >
        Compare ({count.toLocaleString()})
      </button>
    </span>
  );
}

/** The header's "select this page" box: ticked, unticked or in between. */
export function PageCheckbox(props: {
  checked: boolean;
  indeterminate: boolean;
  disabled: boolean;
  onChange: (on: boolean) => void;
}): JSX.Element {
  const box = React.useRef<HTMLInputElement>(null);
  React.useEffect(() => {
    if (box.current) {
      box.current.indeterminate = props.indeterminate;
    }
  }, [props.indeterminate]);
  return (
    <input
      ref={box}
      type="checkbox"
      aria-label="Select every run on this page"
      title="Select every run on this page"
      data-testid="wb-select-page"
      checked={props.checked}
      disabled={props.disabled}
      onChange={event => props.onChange(event.target.checked)}
    />
  );
}

/** A row's box, in its own cell; ticking it does not open the run. */
export function RowCheckbox(props: {
  info: RunInfo;
  checked: boolean;
  onChange: (on: boolean, shift: boolean) => void;
}): JSX.Element {
  return (
    <td
      className="wb-col-select"
      // The row opens its run on click and Enter; the box must not.
      onClick={event => event.stopPropagation()}
      onKeyDown={event => event.stopPropagation()}
    >
      <input
        type="checkbox"
        aria-label={`Select run ${props.info.name}`}
        data-testid="wb-run-select"
        data-run-id={props.info.run_id}
        checked={props.checked}
        onChange={event => {
          const native = event.nativeEvent;
          props.onChange(event.target.checked, native instanceof MouseEvent && native.shiftKey);
        }}
      />
    </td>
  );
}
