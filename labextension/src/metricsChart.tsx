/**
 * The run page's Metrics section: latest values, a choice of keys to plot, and
 * the server-drawn Bokeh chart of those keys by step.
 */
import * as React from 'react';

import { errorMessage, getMetricsChart } from './api';
import { embedChart, type IEmbeddedChart } from './bokeh';
import { ErrorMessage } from './common';
import { formatMetric, metricTitle } from './format';
import type { JsonFloat } from './models';

/** Keys plotted before the user picks. */
export const DEFAULT_PLOTTED = 8;
/** While a run is live, the chart redraws at most this often (a redraw resets zoom). */
const LIVE_REDRAW_MS = 10000;
const DEBOUNCE_MS = 300;

export interface IMetricsSectionProps {
  runId: string;
  metrics: Readonly<Record<string, JsonFloat | undefined>>;
  running: boolean;
}

export function MetricsSection(props: IMetricsSectionProps): JSX.Element {
  const keys = React.useMemo(() => Object.keys(props.metrics).sort(), [props.metrics]);
  // null: the default (the first few keys), which grows as a live run logs more.
  const [chosen, setChosen] = React.useState<ReadonlySet<string> | null>(null);
  const plotted = React.useMemo(
    () =>
      chosen === null ? keys.slice(0, DEFAULT_PLOTTED) : keys.filter(k => chosen.has(k)),
    [chosen, keys]
  );

  if (keys.length === 0) {
    return <div className="wb-Empty">No metrics logged.</div>;
  }

  const toggle = (key: string, on: boolean) => {
    const next = new Set(chosen ?? keys.slice(0, DEFAULT_PLOTTED));
    if (on) {
      next.add(key);
    } else {
      next.delete(key);
    }
    setChosen(next);
  };

  // Redraw when the plotted values change, i.e. when the run logged more.
  const dataVersion = plotted.map(k => `${k}=${String(props.metrics[k])}`).join('\n');

  return (
    <div className="wb-Metrics">
      <table className="wb-KeyValue wb-Metrics-table">
        <thead>
          <tr>
            <th title="Plot this metric">Plot</th>
            <th>Metric</th>
            <th>Latest</th>
          </tr>
        </thead>
        <tbody>
          {keys.map(key => (
            <tr key={key} data-metric={key}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Plot ${key}`}
                  data-testid="wb-metric-toggle"
                  data-metric={key}
                  checked={plotted.includes(key)}
                  onChange={event => toggle(key, event.target.checked)}
                />
              </td>
              <th scope="row" title={key}>
                {key}
              </th>
              <td className="wb-num" title={metricTitle(props.metrics[key])}>
                {formatMetric(props.metrics[key])}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <MetricsChart
        runId={props.runId}
        keys={plotted}
        dataVersion={dataVersion}
        live={props.running}
      />
    </div>
  );
}

function MetricsChart(props: {
  runId: string;
  keys: readonly string[];
  dataVersion: string;
  live: boolean;
}): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const chart = React.useRef<IEmbeddedChart | null>(null);
  const lastDraw = React.useRef<{ keys: string; at: number } | null>(null);
  const [loading, setLoading] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const keysKey = props.keys.join('\n');

  React.useEffect(() => {
    const element = host.current;
    if (!element) {
      return;
    }
    if (props.keys.length === 0) {
      chart.current?.dispose();
      chart.current = null;
      lastDraw.current = null;
      return;
    }
    let cancelled = false;
    const controller = new AbortController();
    // New keys draw at once; more data for the same keys waits while live.
    const previous = lastDraw.current;
    const sameKeys = previous !== null && previous.keys === keysKey;
    const wait =
      sameKeys && props.live
        ? Math.max(DEBOUNCE_MS, previous.at + LIVE_REDRAW_MS - Date.now())
        : DEBOUNCE_MS;
    const timer = window.setTimeout(async () => {
      setLoading(true);
      try {
        const item = await getMetricsChart(props.runId, props.keys, {
          signal: controller.signal
        });
        if (cancelled) {
          return;
        }
        chart.current?.dispose();
        chart.current = null;
        const drawn = await embedChart(item, element);
        if (cancelled) {
          drawn.dispose();
          return;
        }
        chart.current = drawn;
        lastDraw.current = { keys: keysKey, at: Date.now() };
        setError(null);
      } catch (err) {
        if (!cancelled) {
          setError(`Could not draw the chart: ${errorMessage(err)}`);
        }
      } finally {
        if (!cancelled) {
          setLoading(false);
        }
      }
    }, wait);
    return () => {
      cancelled = true;
      controller.abort();
      window.clearTimeout(timer);
    };
    // keysKey stands for props.keys (a new array on every render).
  }, [props.runId, keysKey, props.dataVersion, props.live]);

  React.useEffect(
    () => () => {
      chart.current?.dispose();
      chart.current = null;
    },
    []
  );

  return (
    <div className="wb-Chart">
      <ErrorMessage message={error} />
      {props.keys.length === 0 && (
        <div className="wb-Empty">Tick a metric to plot it.</div>
      )}
      <div
        ref={host}
        className={`wb-Chart-host${loading ? ' wb-mod-stale' : ''}`}
        data-testid="wb-metric-chart"
        data-keys={keysKey.replace(/\n/g, ',')}
        data-loading={loading ? 'true' : 'false'}
      />
    </div>
  );
}
