/**
 * A saved report's title and Markdown notes above its Compare view, editable
 * in place.
 */
import { MimeModel, type IRenderMimeRegistry } from '@jupyterlab/rendermime';
import * as React from 'react';

import { formatTime } from './format';
import type { Report } from './models';
import { ReportFields, type IReportDetails } from './reportDialogs';

function runCount(n: number): string {
  return `${n.toLocaleString()} run${n === 1 ? '' : 's'}`;
}

/** A saved report's title and notes, editable in place. */
export function ReportHeader(props: {
  report: Report;
  rendermime: IRenderMimeRegistry | null;
  editing: boolean;
  saving: boolean;
  onEdit: () => void;
  onCancel: () => void;
  onSave: (details: IReportDetails) => void;
}): JSX.Element {
  const { report } = props;
  const [title, setTitle] = React.useState(report.title);
  const [notes, setNotes] = React.useState(report.notes ?? '');

  React.useEffect(() => {
    if (props.editing) {
      setTitle(report.title);
      setNotes(report.notes ?? '');
    }
  }, [props.editing]);

  if (props.editing) {
    return (
      <form
        className="wb-ReportHeader wb-Form"
        data-testid="wb-report-edit-form"
        onSubmit={event => {
          event.preventDefault();
          props.onSave({ title: title.trim() || report.title, notes });
        }}
      >
        <ReportFields
          initialTitle={report.title}
          initialNotes={report.notes ?? ''}
          onTitle={setTitle}
          onNotes={setNotes}
        />
        <div className="wb-Form-buttons">
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-reject wb-Button"
            onClick={props.onCancel}
          >
            Cancel
          </button>
          <button
            type="submit"
            className="jp-Button jp-mod-styled jp-mod-accept wb-Button"
            disabled={props.saving}
            data-testid="wb-report-save-edits"
          >
            Save
          </button>
        </div>
      </form>
    );
  }

  return (
    <header className="wb-ReportHeader">
      <div className="wb-ReportHeader-top">
        <h2 className="wb-ReportHeader-title" data-testid="wb-report-title">
          {report.title}
        </h2>
        <button
          className="jp-Button jp-mod-styled jp-mod-minimal wb-Button"
          data-testid="wb-report-edit"
          title="Edit the title and notes"
          onClick={props.onEdit}
        >
          Edit
        </button>
      </div>
      <div className="wb-Note">
        Report by {report.owner} · {runCount(report.run_ids.length)} · updated{' '}
        {formatTime(report.updated_at)}
      </div>
      {report.notes ? (
        <MarkdownNotes markdown={report.notes} rendermime={props.rendermime} />
      ) : (
        <div className="wb-Note">No notes. Edit to add some (Markdown).</div>
      )}
    </header>
  );
}

/** Notes rendered by JupyterLab's Markdown renderer, untrusted (its HTML is sanitized). */
function MarkdownNotes(props: {
  markdown: string;
  rendermime: IRenderMimeRegistry | null;
}): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const { rendermime, markdown } = props;

  React.useEffect(() => {
    const element = host.current;
    if (!element || rendermime === null) {
      return;
    }
    const renderer = rendermime.createRenderer('text/markdown');
    const model = new MimeModel({ data: { 'text/markdown': markdown }, trusted: false });
    let disposed = false;
    renderer
      .renderModel(model)
      .then(() => {
        if (!disposed) {
          // Placed as a plain node, not a Lumino attach: React may remove the host
          // before this effect's cleanup runs, and detaching would then throw.
          element.replaceChildren(renderer.node);
        }
      })
      .catch(() => {
        if (!disposed) {
          element.textContent = markdown;
        }
      });
    return () => {
      disposed = true;
      renderer.node.remove();
      renderer.dispose();
    };
  }, [markdown, rendermime]);

  if (rendermime === null) {
    return (
      <pre className="wb-ReportNotes wb-mod-plain" data-testid="wb-report-notes">
        {markdown}
      </pre>
    );
  }
  return <div ref={host} className="wb-ReportNotes" data-testid="wb-report-notes" />;
}
