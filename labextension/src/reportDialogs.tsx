/**
 * The dialogs of reports and share links: save a view as a report, make a
 * share link and show its URL, confirm a revocation or a deletion; and saving
 * an exported report as a file.
 */
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { ShareLink } from './models';

/** What the save dialog asks for. */
export interface IReportDetails {
  title: string;
  notes: string;
}

/** The body of the "Save as report" dialog; the dialog reads it with `getValue`. */
class ReportDetailsBody extends ReactWidget {
  private _title: string;
  private _notes: string;

  constructor(private readonly initial: IReportDetails) {
    super();
    this._title = initial.title;
    this._notes = initial.notes;
    this.addClass('wb-DialogBody');
  }

  getValue(): IReportDetails {
    return { title: this._title.trim() || this.initial.title, notes: this._notes };
  }

  protected render(): JSX.Element {
    return (
      <div className="wb-Form">
        <ReportFields
          initialTitle={this.initial.title}
          initialNotes={this.initial.notes}
          required
          notesPlaceholder="What was tried, what won, what to do next…"
          onTitle={title => {
            this._title = title;
          }}
          onNotes={notes => {
            this._notes = notes;
          }}
        />
      </div>
    );
  }
}

/**
 * A report's title and Markdown notes fields (the save dialog's and the in-place
 * editor's), starting from the given values and reporting each change.
 */
export function ReportFields(props: {
  initialTitle: string;
  initialNotes: string;
  onTitle: (title: string) => void;
  onNotes: (notes: string) => void;
  required?: boolean;
  notesPlaceholder?: string;
}): JSX.Element {
  return (
    <>
      <label className="wb-Form-field">
        <span>Title</span>
        <input
          className="jp-mod-styled"
          type="text"
          required={props.required}
          maxLength={200}
          defaultValue={props.initialTitle}
          data-testid="wb-report-title-input"
          onChange={event => props.onTitle(event.target.value)}
        />
      </label>
      <label className="wb-Form-field">
        <span>
          Notes <span className="wb-Note">(Markdown)</span>
        </span>
        <textarea
          className="jp-mod-styled"
          rows={8}
          defaultValue={props.initialNotes}
          placeholder={props.notesPlaceholder}
          data-testid="wb-report-notes-input"
          onChange={event => props.onNotes(event.target.value)}
        />
      </label>
    </>
  );
}

/**
 * Asks for a report's title and notes; null when cancelled. A blank title
 * falls back to `initial.title`.
 */
export async function askReportDetails(
  initial: IReportDetails,
  opts: { heading?: string; accept?: string } = {}
): Promise<IReportDetails | null> {
  const result = await showDialog<IReportDetails>({
    title: opts.heading ?? 'Save as report',
    body: new ReportDetailsBody(initial),
    buttons: [
      Dialog.cancelButton(),
      Dialog.okButton({ label: opts.accept ?? 'Save' })
    ],
    focusNodeSelector: 'input'
  });
  return result.button.accept ? result.value : null;
}

/** How long a share link may live: the choices the Share dialog offers. */
export const SHARE_EXPIRIES: ReadonlyArray<{ value: string; label: string }> = [
  { value: '1d', label: '1 day' },
  { value: '7d', label: '7 days' },
  { value: '30d', label: '30 days' }
];

const DEFAULT_EXPIRY = '7d';

class ExpiryBody extends ReactWidget {
  private _value = DEFAULT_EXPIRY;

  constructor(private readonly reportTitle: string) {
    super();
    this.addClass('wb-DialogBody');
  }

  getValue(): string {
    return this._value;
  }

  protected render(): JSX.Element {
    return (
      <div className="wb-Form">
        <p className="wb-Form-text">
          Anyone with the link can open a read-only copy of “{this.reportTitle}”
          without logging in, until it expires or you revoke it (Workbench
          sidebar, Share links).
        </p>
        <label className="wb-Form-field">
          <span>Expires after</span>
          <select
            className="jp-mod-styled"
            defaultValue={DEFAULT_EXPIRY}
            data-testid="wb-share-expiry"
            onChange={event => {
              this._value = event.target.value;
            }}
          >
            {SHARE_EXPIRIES.map(choice => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </label>
      </div>
    );
  }
}

/** Asks how long a new share link of `reportTitle` should live; null when cancelled. */
export async function askShareExpiry(reportTitle: string): Promise<string | null> {
  const result = await showDialog<string>({
    title: 'Share report',
    body: new ExpiryBody(reportTitle),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Create link' })],
    focusNodeSelector: 'select'
  });
  return result.button.accept ? result.value : null;
}

/** A share link's URL made absolute against the page (the server may send a path). */
export function absoluteShareUrl(link: ShareLink): string {
  return new URL(link.url, window.location.href).href;
}

function ShareUrl(props: { url: string; expiresAt: string }): JSX.Element {
  const [copied, setCopied] = React.useState(false);
  return (
    <div className="wb-Form">
      <label className="wb-Form-field">
        <span>Link</span>
        <span className="wb-ShareUrl">
          <input
            className="jp-mod-styled"
            type="text"
            readOnly
            value={props.url}
            data-testid="wb-share-url"
            onFocus={event => event.target.select()}
          />
          <button
            className="jp-Button jp-mod-styled wb-Button"
            data-testid="wb-share-copy"
            onClick={() => {
              Clipboard.copyToSystem(props.url);
              setCopied(true);
            }}
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </span>
      </label>
      <p className="wb-Note">Expires {props.expiresAt}. Revoke it from the Workbench sidebar.</p>
    </div>
  );
}

/** Shows a new share link's URL with a Copy button. */
export async function showShareUrl(link: ShareLink, expiresAt: string): Promise<void> {
  const body = ReactWidget.create(
    <ShareUrl url={absoluteShareUrl(link)} expiresAt={expiresAt} />
  );
  body.addClass('wb-DialogBody');
  await showDialog({
    title: 'Share link created',
    body,
    buttons: [Dialog.okButton({ label: 'Done' })],
    focusNodeSelector: 'input'
  });
}

/** Asks to confirm something that cannot be undone; true to go ahead. */
export async function confirmDanger(
  title: string,
  message: string,
  accept: string
): Promise<boolean> {
  const result = await showDialog({
    title,
    body: message,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: accept })]
  });
  return result.button.accept;
}

/** Asks whether to save an unsaved view first (sharing and exporting need a report). */
export async function confirmSaveFirst(what: 'share' | 'export'): Promise<boolean> {
  const result = await showDialog({
    title: what === 'share' ? 'Save before sharing' : 'Save before exporting',
    body:
      what === 'share'
        ? 'A share link shows a saved report. Save this comparison as a report first?'
        : 'Export writes a saved report to a file. Save this comparison as a report first?',
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Save as report…' })]
  });
  return result.button.accept;
}

/** Hands `blob` to the browser as a download named `filename`. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.style.display = 'none';
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has started by the next tick; the URL is no longer needed after it.
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}
