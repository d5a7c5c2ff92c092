/**
 * The left sidebar: who is signed in, the experiments, the saved reports and
 * the share links.
 */
import { Clipboard } from '@jupyterlab/apputils';
import { addIcon, closeIcon, refreshIcon } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import * as React from 'react';

import {
  deleteReport,
  errorMessage,
  listExperiments,
  listReports,
  listShares,
  me,
  revokeShare
} from './api';
import { ErrorMessage, LoadingBar, VisibilityAwareWidget } from './common';
import { formatExpiry, formatRelative, formatTime } from './format';
import { usePolling, useNow } from './hooks';
import { workbenchIcon } from './icons';
import type { Experiment, ReportSummary, ShareLink, User } from './models';
import { absoluteShareUrl, confirmDanger } from './reportDialogs';

/** How often the list refreshes while some experiment has active runs. */
const ACTIVE_POLL_MS = 5000;

export interface ISidebarProps {
  /** Opens (or activates) the runs table of an experiment. */
  onOpen: (experiment: Experiment) => void;
  /** Asks the user for a name and creates an experiment; resolves when done. */
  onCreate: () => Promise<void>;
  /** Opens (or activates) the Compare view of a saved report. */
  onOpenReport: (report: ReportSummary) => void;
  /** A report was deleted here (its open views may close). */
  onReportDeleted: (reportId: string) => void;
  /** Emits when the sidebar should reload (refresh command, shown again). */
  refreshRequested: Signal<SidebarWidget, void>;
  visible: boolean;
}

export function Sidebar(props: ISidebarProps): JSX.Element {
  const [experiments, setExperiments] = React.useState<Experiment[] | null>(null);
  const [user, setUser] = React.useState<User | null>(null);
  const [loading, setLoading] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const [reports, setReports] = React.useState<ReportSummary[] | null>(null);
  const [reportsError, setReportsError] = React.useState<string | null>(null);
  const [shares, setShares] = React.useState<ShareLink[] | null>(null);
  const [sharesError, setSharesError] = React.useState<string | null>(null);
  const inFlight = React.useRef<Promise<void> | null>(null);
  const now = useNow(30000);

  const loadReports = React.useCallback(
    (): Promise<void> =>
      Promise.all([
        listReports()
          .then(list => {
            setReports(list);
            setReportsError(null);
          })
          .catch(err => setReportsError(errorMessage(err))),
        listShares()
          .then(list => {
            setShares(list);
            setSharesError(null);
          })
          .catch(err => setSharesError(errorMessage(err)))
      ]).then(() => undefined),
    []
  );

  const load = React.useCallback((): Promise<void> => {
    // Coalesce clicks and polls: one request at a time.
    if (inFlight.current) {
      return inFlight.current;
    }
    setLoading(true);
    const request = Promise.all([
      listExperiments()
        .then(list => {
          setExperiments(list);
          setError(null);
        })
        .catch(err => setError(errorMessage(err))),
      loadReports()
    ])
      .then(() => undefined)
      .finally(() => {
        inFlight.current = null;
        setLoading(false);
      });
    inFlight.current = request;
    return request;
  }, [loadReports]);

  React.useEffect(() => {
    void load();
    me()
      .then(setUser)
      .catch(() => setUser(null));
  }, [load]);

  React.useEffect(() => {
    const reload = () => void load();
    props.refreshRequested.connect(reload);
    return () => {
      props.refreshRequested.disconnect(reload);
    };
  }, [props.refreshRequested, load]);

  const anyActive = (experiments ?? []).some(e => (e.active_run_count ?? 0) > 0);
  usePolling(load, props.visible && anyActive, ACTIVE_POLL_MS);

  const create = async () => {
    await props.onCreate();
    await load();
  };

  const revoke = async (link: ShareLink) => {
    const ok = await confirmDanger(
      'Revoke share link?',
      `Whoever has the link to “${link.report_title}” gets “not found” from now on. ` +
        'This cannot be undone; share the report again for a new link.',
      'Revoke'
    );
    if (!ok) {
      return;
    }
    try {
      await revokeShare(link.id);
    } catch (err) {
      setSharesError(`Could not revoke the link: ${errorMessage(err)}`);
    }
    await loadReports();
  };

  const remove = async (report: ReportSummary) => {
    const ok = await confirmDanger(
      'Delete report?',
      `“${report.title}” and its share links will be gone; the runs stay.`,
      'Delete'
    );
    if (!ok) {
      return;
    }
    try {
      await deleteReport(report.id);
      props.onReportDeleted(report.id);
    } catch (err) {
      setReportsError(`Could not delete the report: ${errorMessage(err)}`);
    }
    await loadReports();
  };

  return (
    <div className="wb-Sidebar" data-testid="wb-sidebar">
      <div className="wb-Sidebar-header">
        <h2 className="wb-Sidebar-title">
          <workbenchIcon.react tag="span" className="wb-Sidebar-icon" />
          Workbench
        </h2>
        {user && (
          <span className="wb-Sidebar-user" title={user.teams?.join(', ') ?? ''}>
            {user.name}
          </span>
        )}
      </div>
      <div className="wb-Sidebar-sectionHeader">
        <h3>Experiments</h3>
        <div className="wb-Sidebar-actions">
          <button
            className="jp-Button jp-mod-minimal wb-IconButton"
            title="New experiment"
            aria-label="New experiment"
            data-testid="wb-new-experiment"
            onClick={() => void create()}
          >
            <addIcon.react tag="span" />
          </button>
          <button
            className="jp-Button jp-mod-minimal wb-IconButton"
            title="Refresh experiments"
            aria-label="Refresh experiments"
            data-testid="wb-refresh-experiments"
            onClick={() => void load()}
          >
            <refreshIcon.react tag="span" />
          </button>
        </div>
      </div>
      <LoadingBar loading={loading} />
      <ErrorMessage message={error} />
      {experiments !== null && experiments.length === 0 && (
        <div className="wb-Empty">
          No experiments yet. Start one from a notebook with{' '}
          <code>wb.set_experiment(&quot;…&quot;)</code> and <code>wb.start_run()</code>, or
          with the + button.
        </div>
      )}
      <ul className="wb-ExperimentList" role="list">
        {(experiments ?? []).map(experiment => (
          <ExperimentItem
            key={experiment.id}
            experiment={experiment}
            onOpen={props.onOpen}
          />
        ))}
      </ul>
      <div className="wb-Sidebar-sectionHeader">
        <h3>Reports</h3>
      </div>
      <ErrorMessage message={reportsError} />
      {reports !== null && reports.length === 0 && (
        <div className="wb-Empty">
          No reports yet. Tick runs in a runs table, Compare, then Save as report.
        </div>
      )}
      <ul className="wb-ExperimentList" role="list" data-testid="wb-reports">
        {(reports ?? []).map(report => (
          <ReportItem
            key={report.id}
            report={report}
            now={now}
            onOpen={props.onOpenReport}
            onDelete={r => void remove(r)}
          />
        ))}
      </ul>
      <div className="wb-Sidebar-sectionHeader">
        <h3>Share links</h3>
      </div>
      <ErrorMessage message={sharesError} />
      {shares !== null && shares.length === 0 && (
        <div className="wb-Empty">No share links. Share a report from its Compare view.</div>
      )}
      <ul className="wb-ExperimentList" role="list" data-testid="wb-share-links">
        {(shares ?? []).map(link => (
          <ShareItem key={link.id} link={link} now={now} onRevoke={l => void revoke(l)} />
        ))}
      </ul>
    </div>
  );
}

function ReportItem(props: {
  report: ReportSummary;
  now: number;
  onOpen: (report: ReportSummary) => void;
  onDelete: (report: ReportSummary) => void;
}): JSX.Element {
  const { report } = props;
  return (
    <li
      className="wb-ExperimentItem wb-ReportItem"
      data-testid="wb-report"
      data-id={report.id}
      role="button"
      tabIndex={0}
      title={`${report.title}\n${report.run_count} runs\nupdated ${formatTime(report.updated_at)}`}
      onClick={() => props.onOpen(report)}
      onKeyDown={event => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          props.onOpen(report);
        }
      }}
    >
      <span className="wb-ItemRow">
        <span className="wb-ExperimentItem-name">{report.title}</span>
        <button
          className="jp-Button jp-mod-minimal wb-IconButton wb-ItemAction"
          title="Delete this report"
          aria-label={`Delete report ${report.title}`}
          data-testid="wb-report-delete"
          onClick={event => {
            event.stopPropagation();
            props.onDelete(report);
          }}
          onKeyDown={event => event.stopPropagation()}
        >
          <closeIcon.react tag="span" />
        </button>
      </span>
      <span className="wb-ExperimentItem-meta">
        <span>
          {report.run_count} {report.run_count === 1 ? 'run' : 'runs'}
        </span>
        <span>updated {formatRelative(report.updated_at, props.now)}</span>
      </span>
    </li>
  );
}

/** Whether a link still opens: not revoked, not expired. */
function linkState(link: ShareLink, now: number): 'active' | 'revoked' | 'expired' {
  if (link.revoked_at !== null && link.revoked_at !== undefined) {
    return 'revoked';
  }
  return link.expires_at <= now ? 'expired' : 'active';
}

function ShareItem(props: {
  link: ShareLink;
  now: number;
  onRevoke: (link: ShareLink) => void;
}): JSX.Element {
  const { link, now } = props;
  const state = linkState(link, now);
  const [copied, setCopied] = React.useState(false);
  const views = link.views ?? 0;
  return (
    <li
      className={`wb-ExperimentItem wb-ShareItem wb-mod-${state}`}
      data-testid="wb-share-link"
      data-id={link.id}
      data-state={state}
      title={`${absoluteShareUrl(link)}\ncreated ${formatTime(link.created_at)}`}
    >
      <span className="wb-ItemRow">
        <span className="wb-ExperimentItem-name">{link.report_title}</span>
        {state === 'active' && (
          <span className="wb-Sidebar-actions">
            <button
              className="jp-Button jp-mod-minimal jp-mod-styled wb-Button wb-SmallButton"
              title="Copy the link"
              data-testid="wb-share-copy-link"
              onClick={() => {
                Clipboard.copyToSystem(absoluteShareUrl(link));
                setCopied(true);
              }}
            >
              {copied ? 'Copied' : 'Copy'}
            </button>
            <button
              className="jp-Button jp-mod-minimal jp-mod-styled wb-Button wb-SmallButton wb-mod-danger"
              title="Revoke: the link stops working"
              data-testid="wb-share-revoke"
              onClick={() => props.onRevoke(link)}
            >
              Revoke
            </button>
          </span>
        )}
      </span>
      <span className="wb-ExperimentItem-meta">
        <span>
          {state === 'revoked'
            ? `revoked ${formatRelative(link.revoked_at, now)}`
            : state === 'expired'
              ? formatExpiry(link.expires_at, now)
              : `expires ${formatExpiry(link.expires_at, now)}`}
        </span>
        <span title={link.last_viewed_at ? `last viewed ${formatTime(link.last_viewed_at)}` : ''}>
          {views} {views === 1 ? 'view' : 'views'}
        </span>
      </span>
    </li>
  );
}

function ExperimentItem(props: {
  experiment: Experiment;
  onOpen: (experiment: Experiment) => void;
}): JSX.Element {
  const { experiment } = props;
  const runs = experiment.run_count ?? 0;
  const active = experiment.active_run_count ?? 0;
  const last = experiment.last_run_at ?? null;
  return (
    <li
      className="wb-ExperimentItem"
      data-testid="wb-experiment"
      data-name={experiment.name}
      data-experiment-id={experiment.id}
      role="button"
      tabIndex={0}
      title={`${experiment.name}\nowner: ${experiment.owner}${
        last !== null ? `\nlast run: ${formatTime(last)}` : ''
      }`}
      onClick={() => props.onOpen(experiment)}
      onKeyDown={event => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          props.onOpen(experiment);
        }
      }}
    >
      <span className="wb-ExperimentItem-name">{experiment.name}</span>
      <span className="wb-ExperimentItem-meta">
        {active > 0 && (
          <span
            className="wb-Badge wb-mod-running"
            title={`${active} running`}
            data-testid="wb-active-runs"
          >
            {active} running
          </span>
        )}
        <span className="wb-ExperimentItem-count" title={`${runs} runs`}>
          {runs} {runs === 1 ? 'run' : 'runs'}
        </span>
        {last !== null && (
          <span className="wb-ExperimentItem-last">{formatRelative(last)}</span>
        )}
      </span>
    </li>
  );
}

/** The sidebar as a Lumino widget for the left area. */
export class SidebarWidget extends VisibilityAwareWidget {
  readonly refreshRequested = new Signal<SidebarWidget, void>(this);

  constructor(
    private readonly options: {
      onOpen: (experiment: Experiment) => void;
      onCreate: () => Promise<void>;
      onOpenReport: (report: ReportSummary) => void;
      onReportDeleted: (reportId: string) => void;
    }
  ) {
    super();
    this.id = 'workbench-sidebar';
    this.addClass('wb-SidebarWidget');
    this.title.icon = workbenchIcon;
    this.title.caption = 'Workbench';
  }

  /** Reloads the experiments, reports and share links. */
  refresh(): void {
    this.refreshRequested.emit();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.refresh();
  }

  protected render(): JSX.Element {
    return (
      <Sidebar
        onOpen={this.options.onOpen}
        onCreate={this.options.onCreate}
        onOpenReport={this.options.onOpenReport}
        onReportDeleted={this.options.onReportDeleted}
        refreshRequested={this.refreshRequested}
        visible={this.isVisible}
      />
    );
  }
}
