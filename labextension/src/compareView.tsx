/**
 * The Compare view in the main area: runs side by side (curves, parallel
 * coordinates, scatter, diff table, best runs, groups) as the Bokeh document
 * `POST /compare` builds; saved as a report with a title and markdown notes,
 * shared as a read-only link, exported as a standalone HTML file.
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { showErrorMessage } from '@jupyterlab/apputils';
import * as React from 'react';

import {
  compareRuns,
  createReport,
  createShare,
  errorMessage,
  exportReportHtml,
  getReport,
  isAbort,
  updateReport
} from './api';
import { ALL_BUNDLES, embedChart, type IEmbeddedChart, isJsonItem } from './bokeh';
import { ErrorMessage, VisibilityAwareWidget } from './common';
import { formatExpiry } from './format';
import { workbenchIcon } from './icons';
import type { CompareView, Report, ShareLink } from './models';
import {
  askReportDetails,
  askShareExpiry,
  confirmSaveFirst,
  saveBlob,
  showShareUrl,
  type IReportDetails
} from './reportDialogs';
import { ReportHeader } from './reportHeader';

/** What a Compare widget shows: runs picked in a table, or a saved report. */
export type CompareSource =
  | { readonly kind: 'runs'; readonly runIds: readonly string[] }
  | { readonly kind: 'report'; readonly reportId: string };

export interface ICompareViewProps {
  source: CompareSource;
  /** Renders the notes' Markdown (JupyterLab's sanitizing renderer); null: shown as text. */
  rendermime: IRenderMimeRegistry | null;
  /** The view became, or is, this report (saved, opened, edited). */
  onReport: (report: Report) => void;
  /** Reports or share links changed (the sidebar lists them). */
  onChanged: () => void;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString()} ${word}${n === 1 ? '' : 's'}`;
}

function defaultTitle(runCount: number): string {
  return `Comparison of ${plural(runCount, 'run')}`;
}

type Phase =
  | { step: 'report' }
  | { step: 'comparing'; runCount: number }
  | { step: 'ready' }
  | { step: 'failed'; message: string };

export function CompareViewPanel(props: ICompareViewProps): JSX.Element {
  const [report, setReport] = React.useState<Report | null>(null);
  const [view, setView] = React.useState<CompareView | null>(null);
  const [phase, setPhase] = React.useState<Phase>(
    props.source.kind === 'report'
      ? { step: 'report' }
      : { step: 'comparing', runCount: props.source.runIds.length }
  );
  const [busy, setBusy] = React.useState<string | null>(null);
  const [actionError, setActionError] = React.useState<string | null>(null);
  const [editing, setEditing] = React.useState(false);
  // Bumped by Refresh: draw the runs again with what they logged since.
  const [generation, setGeneration] = React.useState(0);

  const { onReport, onChanged } = props;
  const sourceKey =
    props.source.kind === 'report'
      ? `report:${props.source.reportId}`
      : `runs:${props.source.runIds.join(',')}`;

  const runIds: readonly string[] =
    report?.run_ids ?? (props.source.kind === 'runs' ? props.source.runIds : []);

  React.useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const source = props.source;
    const load = async () => {
      let ids: readonly string[];
      if (source.kind === 'report') {
        setPhase({ step: 'report' });
        const fetched = await getReport(source.reportId, { signal });
        if (signal.aborted) {
          return;
        }
        setReport(fetched);
        onReport(fetched);
        ids = fetched.run_ids;
      } else {
        ids = source.runIds;
      }
      setPhase({ step: 'comparing', runCount: ids.length });
      const result = await compareRuns({ run_ids: [...ids] }, { signal });
      if (signal.aborted) {
        return;
      }
      setView(result);
      setPhase({ step: 'ready' });
    };
    load().catch(err => {
      if (!isAbort(err, signal)) {
        setPhase({ step: 'failed', message: errorMessage(err) });
      }
    });
    return () => controller.abort();
    // sourceKey stands for props.source (the widget never changes it).
  }, [sourceKey, generation]);

  /** Saves the view as a report (asking for title and notes); null when cancelled. */
  const save = async (): Promise<Report | null> => {
    const details = await askReportDetails({
      title: defaultTitle(runIds.length),
      notes: ''
    });
    const [first, ...rest] = runIds;
    if (details === null || first === undefined) {
      return null;
    }
    setBusy('Saving…');
    try {
      const saved = await createReport({
        title: details.title,
        notes: details.notes,
        run_ids: [first, ...rest]
      });
      setReport(saved);
      onReport(saved);
      onChanged();
      return saved;
    } catch (err) {
      await showErrorMessage('Could not save the report', errorMessage(err));
      return null;
    } finally {
      setBusy(null);
    }
  };

  /** The saved report, saving the view first when the user agrees. */
  const savedReport = async (why: 'share' | 'export'): Promise<Report | null> => {
    if (report !== null) {
      return report;
    }
    if (!(await confirmSaveFirst(why))) {
      return null;
    }
    return save();
  };

  const share = async () => {
    const target = await savedReport('share');
    if (target === null) {
      return;
    }
    const expiresIn = await askShareExpiry(target.title);
    if (expiresIn === null) {
      return;
    }
    setBusy('Creating a share link…');
    let link: ShareLink;
    try {
      link = await createShare({ report_id: target.id, expires_in: expiresIn });
    } catch (err) {
      await showErrorMessage('Could not create a share link', errorMessage(err));
      return;
    } finally {
      setBusy(null);
    }
    onChanged();
    await showShareUrl(link, formatExpiry(link.expires_at));
  };

  const exportHtml = async () => {
    const target = await savedReport('export');
    if (target === null) {
      return;
    }
    setBusy('Exporting…');
    try {
      const file = await exportReportHtml(target.id);
      saveBlob(file.blob, file.filename);
    } catch (err) {
      await showErrorMessage('Could not export the report', errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const saveEdits = async (details: IReportDetails) => {
    if (report === null) {
      return;
    }
    setActionError(null);
    setBusy('Saving…');
    try {
      const updated = await updateReport(report.id, {
        title: details.title,
        notes: details.notes
      });
      setReport(updated);
      onReport(updated);
      onChanged();
      setEditing(false);
    } catch (err) {
      setActionError(`Could not save: ${errorMessage(err)}`);
    } finally {
      setBusy(null);
    }
  };

  const run = (action: () => Promise<unknown>) => () => {
    setActionError(null);
    action().catch(err => setActionError(errorMessage(err)));
  };

  return (
    <div
      className="wb-Compare"
      data-testid="wb-compare-view"
      data-state={phase.step}
      data-report-id={report?.id ?? ''}
      data-run-count={runIds.length}
    >
      <div className="wb-Compare-toolbar">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept wb-Button"
          data-testid="wb-compare-save"
          disabled={report !== null || runIds.length === 0 || busy !== null}
          title={
            report !== null
              ? `Saved as the report “${report.title}”; edit its title and notes below`
              : 'Save these runs as a report with a title and notes'
          }
          onClick={run(save)}
        >
          {report !== null ? 'Saved' : 'Save as report…'}
        </button>
        <button
          className="jp-Button jp-mod-styled wb-Button"
          data-testid="wb-compare-share"
          disabled={runIds.length === 0 || busy !== null}
          title="A read-only link that opens without a login"
          onClick={run(share)}
        >
          Share…
        </button>
        <button
          className="jp-Button jp-mod-styled wb-Button"
          data-testid="wb-compare-export"
          disabled={runIds.length === 0 || busy !== null}
          title="Download the report as one HTML file that opens offline"
          onClick={run(exportHtml)}
        >
          Export HTML
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mod-minimal wb-Button"
          data-testid="wb-compare-refresh"
          disabled={phase.step === 'comparing' || phase.step === 'report'}
          title="Draw the runs again with what they logged since"
          onClick={() => setGeneration(g => g + 1)}
        >
          Refresh
        </button>
        <span className="wb-Compare-status" aria-live="polite">
          {busy ?? summary(view, runIds.length)}
        </span>
      </div>
      <ErrorMessage message={actionError} />
      {report !== null && (
        <ReportHeader
          report={report}
          rendermime={props.rendermime}
          editing={editing}
          saving={busy !== null}
          onEdit={() => setEditing(true)}
          onCancel={() => setEditing(false)}
          onSave={details => void saveEdits(details)}
        />
      )}
      {phase.step === 'report' && <Spinner text="Opening the report…" />}
      {phase.step === 'comparing' && (
        <Spinner text={`Comparing ${plural(phase.runCount, 'run')}…`} />
      )}
      {phase.step === 'failed' && (
        <div className="wb-Compare-failed" data-testid="wb-compare-error">
          <ErrorMessage message={phase.message} />
          <button
            className="jp-Button jp-mod-styled wb-Button"
            onClick={() => setGeneration(g => g + 1)}
          >
            Try again
          </button>
        </div>
      )}
      {view !== null && <CompareChart view={view} />}
    </div>
  );
}

function summary(view: CompareView | null, runCount: number): string {
  if (view === null) {
    return '';
  }
  const parts = [plural(view.run_count || runCount, 'run')];
  if (view.metrics.length > 0) {
    parts.push(`curves of ${plural(view.metrics.length, 'metric')}`);
  }
  if (view.downsampled) {
    parts.push('long curves thinned on the server');
  }
  return parts.join(' · ');
}

function Spinner(props: { text: string }): JSX.Element {
  return (
    <div className="wb-Spinner" role="status" data-testid="wb-compare-loading">
      <span className="wb-Spinner-wheel" aria-hidden="true" />
      <span>{props.text}</span>
    </div>
  );
}

/** The Bokeh document, with every plugin bundle the compare views use. */
function CompareChart(props: { view: CompareView }): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [drawn, setDrawn] = React.useState(false);

  React.useEffect(() => {
    const element = host.current;
    const item = props.view.item;
    if (!element) {
      return;
    }
    if (!isJsonItem(item)) {
      setError('The server sent a view this panel cannot draw.');
      return;
    }
    let cancelled = false;
    let chart: IEmbeddedChart | null = null;
    setDrawn(false);
    embedChart(item, element, ALL_BUNDLES)
      .then(made => {
        if (cancelled) {
          made.dispose();
          return;
        }
        chart = made;
        setError(null);
        setDrawn(true);
      })
      .catch(err => {
        if (!cancelled) {
          setError(`Could not draw the comparison: ${errorMessage(err)}`);
        }
      });
    return () => {
      cancelled = true;
      chart?.dispose();
    };
  }, [props.view]);

  return (
    <div className="wb-Compare-chart">
      <ErrorMessage message={error} />
      <div
        ref={host}
        className="wb-Compare-host"
        data-testid="wb-compare-chart"
        data-drawn={drawn ? 'true' : 'false'}
      />
    </div>
  );
}

let nextId = 0;

/** The Compare view as a main-area widget: "Compare (n runs)", then "Report: <title>". */
export class CompareWidget extends VisibilityAwareWidget {
  private _report: Report | null = null;

  constructor(
    private readonly source: CompareSource,
    private readonly options: {
      rendermime: IRenderMimeRegistry | null;
      /** Reports or share links changed. */
      onChanged: () => void;
      /** The view became (or was opened as) a report. */
      onReport?: (widget: CompareWidget) => void;
    }
  ) {
    super();
    nextId += 1;
    this.id =
      source.kind === 'report'
        ? `workbench-report-${source.reportId}`
        : `workbench-compare-${Date.now().toString(36)}-${nextId}`;
    this.addClass('wb-CompareWidget');
    this.title.icon = workbenchIcon;
    this.title.closable = true;
    if (source.kind === 'report') {
      this.title.label = 'Report';
      this.title.caption = `Report ${source.reportId}`;
    } else {
      const n = source.runIds.length;
      this.title.label = `Compare (${plural(n, 'run')})`;
      this.title.caption = `Compare ${plural(n, 'run')}`;
    }
  }

  /** The report this view is, once saved or when opened as one. */
  get reportId(): string | null {
    return this._report?.id ?? (this.source.kind === 'report' ? this.source.reportId : null);
  }

  /** The compared runs (empty for a report not loaded yet). */
  get runIds(): readonly string[] {
    return this._report?.run_ids ?? (this.source.kind === 'runs' ? this.source.runIds : []);
  }

  private setReport(report: Report): void {
    this._report = report;
    this.title.label = `Report: ${report.title}`;
    this.title.caption = `${report.title}\n${plural(report.run_ids.length, 'run')}`;
    this.options.onReport?.(this);
  }

  protected render(): JSX.Element {
    return (
      <CompareViewPanel
        source={this.source}
        rendermime={this.options.rendermime}
        onReport={report => this.setReport(report)}
        onChanged={this.options.onChanged}
      />
    );
  }
}
