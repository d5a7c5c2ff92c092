/**
 * One run on a page: header, params, metrics with chart, tags, datasets,
 * environment and artifacts. Refreshes every 2 s while the run is RUNNING.
 */
import * as React from 'react';

import {
  errorMessage,
  errorStatus,
  getEnvironment,
  getRun,
  listArtifacts
} from './api';
import { ArtifactsSection } from './artifacts';
import {
  ErrorMessage,
  KeyValueTable,
  LoadingBar,
  Section,
  StatusLabel,
  VisibilityAwareWidget
} from './common';
import {
  formatBytes,
  formatDuration,
  formatRelative,
  formatTime,
  runDuration,
  shortHash
} from './format';
import { usePolling, useNow } from './hooks';
import { workbenchIcon } from './icons';
import { MetricsSection } from './metricsChart';
import type { Artifact, DatasetInput, Run, RunEnvironment, RunInfo } from './models';

/** Snapshots of the run's source are shown up to this many characters. */
const SOURCE_PREVIEW_CHARS = 200 * 1024;

export interface IRunPageProps {
  runId: string;
  visible: boolean;
  onLoaded: (info: RunInfo) => void;
}

export function RunPage(props: IRunPageProps): JSX.Element {
  const { runId } = props;
  const [run, setRun] = React.useState<Run | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [artifacts, setArtifacts] = React.useState<Artifact[] | null>(null);
  const [artifactsError, setArtifactsError] = React.useState<string | null>(null);
  const [environment, setEnvironment] = React.useState<RunEnvironment | null>(null);
  const [environmentError, setEnvironmentError] = React.useState<string | null>(null);
  const [loading, setLoading] = React.useState(true);
  const mounted = React.useRef(true);
  const onLoaded = React.useRef(props.onLoaded);
  onLoaded.current = props.onLoaded;

  const refresh = React.useCallback(async () => {
    const [runResult, artifactsResult] = await Promise.allSettled([
      getRun(runId),
      listArtifacts(runId)
    ]);
    if (!mounted.current) {
      return;
    }
    if (runResult.status === 'fulfilled') {
      setRun(runResult.value);
      setError(null);
      onLoaded.current(runResult.value.info);
    } else {
      setError(errorMessage(runResult.reason));
    }
    if (artifactsResult.status === 'fulfilled') {
      setArtifacts(artifactsResult.value);
      setArtifactsError(null);
    } else {
      setArtifactsError(errorMessage(artifactsResult.reason));
    }
  }, [runId]);

  React.useEffect(() => {
    mounted.current = true;
    setLoading(true);
    void refresh().finally(() => {
      if (mounted.current) {
        setLoading(false);
      }
    });
    getEnvironment(runId)
      .then(env => mounted.current && setEnvironment(env))
      .catch(err => {
        if (mounted.current) {
          setEnvironmentError(
            errorStatus(err) === 404
              ? 'No environment was recorded for this run.'
              : errorMessage(err)
          );
        }
      });
    return () => {
      mounted.current = false;
    };
  }, [runId, refresh]);

  const running = run?.info.status === 'RUNNING';
  usePolling(refresh, props.visible && running);
  const now = useNow(running ? 1000 : 30000);

  if (run === null) {
    return (
      <div className="wb-RunPage" data-testid="wb-run-page" data-run-id={runId}>
        <LoadingBar loading={loading} />
        <ErrorMessage message={error} />
        {loading && <div className="wb-Empty">Loading run {runId}…</div>}
      </div>
    );
  }

  const { info, data } = run;
  return (
    <div
      className="wb-RunPage"
      data-testid="wb-run-page"
      data-run-id={runId}
      data-status={info.status}
    >
      <LoadingBar loading={loading} />
      <ErrorMessage message={error} />
      <RunHeader info={info} now={now} />
      <Section title="Params" testid="wb-params">
        <KeyValueTable entries={data.params ?? {}} empty="No params logged." />
      </Section>
      <Section title="Metrics" testid="wb-metrics">
        <MetricsSection runId={runId} metrics={data.metrics ?? {}} running={running} />
      </Section>
      <Section title="Tags" testid="wb-tags">
        <KeyValueTable entries={data.tags ?? {}} empty="No tags." />
      </Section>
      <Section title="Datasets" testid="wb-datasets">
        <DatasetsTable datasets={run.datasets ?? []} />
      </Section>
      <Section title="Environment" testid="wb-environment">
        <EnvironmentView environment={environment} error={environmentError} />
      </Section>
      <Section title="Artifacts" testid="wb-artifacts">
        <ArtifactsSection runId={runId} artifacts={artifacts} error={artifactsError} />
      </Section>
    </div>
  );
}

function RunHeader(props: { info: RunInfo; now: number }): JSX.Element {
  const { info, now } = props;
  const fields: [string, React.ReactNode, string?][] = [
    ['Status', <StatusLabel status={info.status} />],
    [
      'Started',
      `${formatTime(info.start_time)} (${formatRelative(info.start_time, now)})`
    ],
    ['Ended', info.end_time ? formatTime(info.end_time) : '—'],
    ['Duration', formatDuration(runDuration(info, now))],
    ['User', info.user],
    ['Notebook', info.notebook_path ? <code>{info.notebook_path}</code> : '—'],
    [
      'Git commit',
      info.git_commit ? <code>{shortHash(info.git_commit, 12)}</code> : '—',
      info.git_commit ?? undefined
    ],
    ['Run id', <code>{info.run_id}</code>]
  ];
  return (
    <header className="wb-RunHeader">
      <h2 className="wb-RunHeader-name" data-testid="wb-run-name">
        {info.name}
      </h2>
      <dl className="wb-RunHeader-fields">
        {fields.map(([label, value, title]) => (
          <React.Fragment key={label}>
            <dt>{label}</dt>
            <dd title={title}>{value}</dd>
          </React.Fragment>
        ))}
      </dl>
    </header>
  );
}

function DatasetsTable(props: { datasets: readonly DatasetInput[] }): JSX.Element {
  if (props.datasets.length === 0) {
    return <div className="wb-Empty">No datasets logged.</div>;
  }
  return (
    <table className="wb-Table wb-Datasets">
      <thead>
        <tr>
          <th>Name</th>
          <th>Version</th>
          <th className="wb-num">Rows</th>
          <th className="wb-num">Columns</th>
          <th>Digest</th>
          <th>Context</th>
        </tr>
      </thead>
      <tbody>
        {props.datasets.map(d => (
          <tr
            key={`${d.name}@${d.version}:${d.context ?? ''}`}
            data-testid="wb-dataset"
            data-name={d.name}
          >
            <td title={d.source ?? d.name}>{d.name}</td>
            <td>{d.version}</td>
            <td className="wb-num">{d.num_rows.toLocaleString()}</td>
            <td
              className="wb-num"
              title={Object.entries(d.schema)
                .map(([column, type]) => `${column}: ${type}`)
                .join('\n')}
            >
              {d.num_columns.toLocaleString()}
            </td>
            <td title={d.digest}>
              <code>{shortHash(d.digest)}</code>
            </td>
            <td>{d.context ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EnvironmentView(props: {
  environment: RunEnvironment | null;
  error: string | null;
}): JSX.Element {
  const { environment } = props;
  if (props.error !== null) {
    return <div className="wb-Empty">{props.error}</div>;
  }
  if (environment === null) {
    return <div className="wb-Empty">Loading…</div>;
  }
  const packages = Object.entries(environment.packages ?? {}).sort(([a], [b]) =>
    a.localeCompare(b)
  );
  const source = environment.source ?? null;
  return (
    <div className="wb-Environment">
      <dl className="wb-RunHeader-fields">
        <dt>Python</dt>
        <dd data-testid="wb-python-version">{environment.python_version ?? '—'}</dd>
      </dl>
      <details className="wb-Details" data-testid="wb-packages">
        <summary>
          {packages.length} {packages.length === 1 ? 'package' : 'packages'}
        </summary>
        <table className="wb-KeyValue">
          <tbody>
            {packages.map(([name, version]) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>{version}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      {source !== null && source !== '' && <SourceSnapshot source={source} />}
    </div>
  );
}

/** The notebook or script as it was at run start; rendered only once opened. */
function SourceSnapshot(props: { source: string }): JSX.Element {
  const [open, setOpen] = React.useState(false);
  const { source } = props;
  return (
    <details
      className="wb-Details"
      data-testid="wb-source"
      onToggle={event => setOpen(event.currentTarget.open)}
    >
      <summary>Source snapshot ({formatBytes(source.length)})</summary>
      {open && (
        <pre className="wb-SourceSnapshot">
          {source.length > SOURCE_PREVIEW_CHARS
            ? `${source.slice(0, SOURCE_PREVIEW_CHARS)}\n…`
            : source}
        </pre>
      )}
    </details>
  );
}

/** A run as a main-area widget, "Run: <name>". */
export class RunPageWidget extends VisibilityAwareWidget {
  constructor(
    readonly runId: string,
    name?: string
  ) {
    super();
    this.id = `workbench-run-${runId}`;
    this.addClass('wb-RunPageWidget');
    this.title.icon = workbenchIcon;
    this.title.closable = true;
    this.title.label = `Run: ${name ?? runId.slice(0, 8)}`;
    this.title.caption = `Run ${runId}`;
  }

  protected render(): JSX.Element {
    return (
      <RunPage
        runId={this.runId}
        visible={this.isVisible}
        onLoaded={info => {
          this.title.label = `Run: ${info.name}`;
          this.title.caption = `Run ${info.name} (${info.run_id})`;
        }}
      />
    );
  }
}
