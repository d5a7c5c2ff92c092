/**
 * The left sidebar: who is signed in and the list of experiments.
 */
import { addIcon, refreshIcon } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import * as React from 'react';

import { errorMessage, listExperiments, me } from './api';
import { ErrorMessage, LoadingBar, VisibilityAwareWidget } from './common';
import { formatRelative, formatTime } from './format';
import { usePolling } from './hooks';
import { workbenchIcon } from './icons';
import type { Experiment, User } from './models';

/** How often the list refreshes while some experiment has active runs. */
const ACTIVE_POLL_MS = 5000;

export interface ISidebarProps {
  /** Opens (or activates) the runs table of an experiment. */
  onOpen: (experiment: Experiment) => void;
  /** Asks the user for a name and creates an experiment; resolves when done. */
  onCreate: () => Promise<void>;
  /** Emits when the sidebar should reload (refresh command, shown again). */
  refreshRequested: Signal<SidebarWidget, void>;
  visible: boolean;
}

export function Sidebar(props: ISidebarProps): JSX.Element {
  const [experiments, setExperiments] = React.useState<Experiment[] | null>(null);
  const [user, setUser] = React.useState<User | null>(null);
  const [loading, setLoading] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const inFlight = React.useRef<Promise<void> | null>(null);

  const load = React.useCallback((): Promise<void> => {
    // Coalesce clicks and polls: one request at a time.
    if (inFlight.current) {
      return inFlight.current;
    }
    setLoading(true);
    const request = listExperiments()
      .then(list => {
        setExperiments(list);
        setError(null);
      })
      .catch(err => setError(errorMessage(err)))
      .finally(() => {
        inFlight.current = null;
        setLoading(false);
      });
    inFlight.current = request;
    return request;
  }, []);

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
    </div>
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
    }
  ) {
    super();
    this.id = 'workbench-sidebar';
    this.addClass('wb-SidebarWidget');
    this.title.icon = workbenchIcon;
    this.title.caption = 'Workbench';
  }

  /** Reloads the experiment list. */
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
        refreshRequested={this.refreshRequested}
        visible={this.isVisible}
      />
    );
  }
}
