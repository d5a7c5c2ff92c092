/**
 * Small presentational pieces shared by the sidebar, the runs table and the
 * run page.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import type { RunStatus } from './models';

/** A coloured dot for a run's status, with the status as its tooltip. */
export function StatusDot(props: { status: RunStatus }): JSX.Element {
  return (
    <span
      className={`wb-StatusDot wb-mod-${props.status.toLowerCase()}`}
      title={props.status}
      role="img"
      aria-label={props.status}
      data-status={props.status}
    />
  );
}

/** The dot followed by the status in words. */
export function StatusLabel(props: { status: RunStatus }): JSX.Element {
  return (
    <span className="wb-StatusLabel">
      <StatusDot status={props.status} />
      {props.status}
    </span>
  );
}

/** A thin indeterminate progress bar; keeps its height when idle so nothing jumps. */
export function LoadingBar(props: { loading: boolean }): JSX.Element {
  return (
    <div
      className={`wb-LoadingBar${props.loading ? ' wb-mod-active' : ''}`}
      role="progressbar"
      aria-busy={props.loading}
      aria-label={props.loading ? 'Loading…' : undefined}
      data-testid="wb-loading"
      data-loading={props.loading ? 'true' : 'false'}
    />
  );
}

/** An error for the user, or nothing. */
export function ErrorMessage(props: { message: string | null }): JSX.Element | null {
  if (!props.message) {
    return null;
  }
  return (
    <div className="wb-Error" role="alert">
      {props.message}
    </div>
  );
}

/** A titled block of the run page. */
export function Section(props: {
  title: string;
  children: React.ReactNode;
  extra?: React.ReactNode;
  testid?: string;
}): JSX.Element {
  return (
    <section className="wb-Section" data-testid={props.testid}>
      <header className="wb-Section-header">
        <h3>{props.title}</h3>
        {props.extra}
      </header>
      <div className="wb-Section-body">{props.children}</div>
    </section>
  );
}

/** A two-column key/value table, keys sorted. */
export function KeyValueTable(props: {
  entries: Record<string, string | undefined>;
  empty: string;
  render?: (key: string, value: string) => React.ReactNode;
}): JSX.Element {
  const keys = Object.keys(props.entries).sort();
  if (keys.length === 0) {
    return <div className="wb-Empty">{props.empty}</div>;
  }
  return (
    <table className="wb-KeyValue">
      <tbody>
        {keys.map(key => {
          const value = props.entries[key] ?? '';
          return (
            <tr key={key}>
              <th scope="row" title={key}>
                {key}
              </th>
              <td title={value}>{props.render ? props.render(key, value) : value}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/**
 * A ReactWidget that re-renders when it is shown or hidden, so its component
 * can read `isVisible` and poll only while someone can see it.
 */
export abstract class VisibilityAwareWidget extends ReactWidget {
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.update();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.update();
  }
}
