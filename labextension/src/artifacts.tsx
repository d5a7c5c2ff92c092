/**
 * The run page's Artifacts section: the files a run logged, with an inline
 * preview of images and text and a download link.
 */
import * as React from 'react';

import { artifactUrl, errorMessage, getArtifactText, type IArtifactText } from './api';
import { ErrorMessage } from './common';
import { formatBytes } from './format';
import type { Artifact } from './models';

/** Text previews stop after this many bytes. */
export const TEXT_PREVIEW_BYTES = 200 * 1024;

const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp']);
const TEXT_EXTENSIONS = new Set([
  'txt',
  'csv',
  'tsv',
  'json',
  'md',
  'log',
  'yaml',
  'yml',
  'py'
]);

export type PreviewKind = 'image' | 'text' | 'none';

/** How an artifact can be shown inline, by extension, else by media type. */
export function previewKind(artifact: Artifact): PreviewKind {
  if (artifact.is_dir) {
    return 'none';
  }
  const name = artifact.path.split('/').pop() ?? '';
  const dot = name.lastIndexOf('.');
  const ext = dot >= 0 ? name.slice(dot + 1).toLowerCase() : '';
  if (IMAGE_EXTENSIONS.has(ext)) {
    return 'image';
  }
  if (TEXT_EXTENSIONS.has(ext)) {
    return 'text';
  }
  const media = artifact.media_type ?? '';
  if (/^image\/(png|jpeg|gif|svg\+xml|webp)$/.test(media)) {
    return 'image';
  }
  if (media.startsWith('text/') || media === 'application/json') {
    return 'text';
  }
  return 'none';
}

export function ArtifactsSection(props: {
  runId: string;
  artifacts: readonly Artifact[] | null;
  error: string | null;
}): JSX.Element {
  const [selected, setSelected] = React.useState<string | null>(null);
  const artifacts = props.artifacts ?? [];
  const current = artifacts.find(a => a.path === selected) ?? null;

  if (props.artifacts === null && props.error === null) {
    return <div className="wb-Empty">Loading…</div>;
  }
  return (
    <div className="wb-Artifacts">
      <ErrorMessage message={props.error} />
      {props.artifacts !== null && artifacts.length === 0 && (
        <div className="wb-Empty">No artifacts logged.</div>
      )}
      <ul className="wb-ArtifactList" role="list">
        {artifacts.map(artifact => {
          const kind = previewKind(artifact);
          const active = artifact.path === selected;
          return (
            <li
              key={artifact.path}
              className={`wb-ArtifactItem${active ? ' wb-mod-selected' : ''}${
                artifact.is_dir ? ' wb-mod-dir' : ''
              }`}
              data-testid="wb-artifact"
              data-path={artifact.path}
              data-preview={kind}
              // The whole row toggles the preview; the button gives it a keyboard stop.
              onClick={() => {
                if (!artifact.is_dir) {
                  setSelected(active ? null : artifact.path);
                }
              }}
            >
              <button
                className="wb-ArtifactItem-name"
                disabled={artifact.is_dir}
                title={
                  artifact.is_dir
                    ? artifact.path
                    : kind === 'none'
                      ? `${artifact.path} (no preview; download it)`
                      : `Preview ${artifact.path}`
                }
                aria-pressed={active}
              >
                {artifact.is_dir ? `${artifact.path}/` : artifact.path}
              </button>
              <span className="wb-ArtifactItem-size">
                {artifact.is_dir ? '' : formatBytes(artifact.size)}
              </span>
              {!artifact.is_dir && (
                <a
                  className="wb-ArtifactItem-download"
                  href={artifactUrl(props.runId, artifact.path, { download: true })}
                  download={artifact.path.split('/').pop()}
                  data-testid="wb-artifact-download"
                  onClick={event => event.stopPropagation()}
                >
                  Download
                </a>
              )}
            </li>
          );
        })}
      </ul>
      {current && <ArtifactPreview runId={props.runId} artifact={current} />}
    </div>
  );
}

function ArtifactPreview(props: { runId: string; artifact: Artifact }): JSX.Element {
  const { runId, artifact } = props;
  const kind = previewKind(artifact);
  const url = artifactUrl(runId, artifact.path);
  return (
    <div
      className="wb-ArtifactPreview"
      data-testid="wb-artifact-preview"
      data-path={artifact.path}
    >
      <div className="wb-ArtifactPreview-title">{artifact.path}</div>
      {kind === 'image' && (
        <img className="wb-ArtifactPreview-image" src={url} alt={artifact.path} />
      )}
      {kind === 'text' && (
        <TextPreview runId={runId} path={artifact.path} size={artifact.size} />
      )}
      {kind === 'none' && (
        <div className="wb-Empty">
          No preview for this kind of file;{' '}
          <a href={artifactUrl(runId, artifact.path, { download: true })}>download it</a>.
        </div>
      )}
    </div>
  );
}

function TextPreview(props: { runId: string; path: string; size: number }): JSX.Element {
  const [content, setContent] = React.useState<IArtifactText | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  React.useEffect(() => {
    const controller = new AbortController();
    setContent(null);
    setError(null);
    getArtifactText(props.runId, props.path, {
      maxBytes: TEXT_PREVIEW_BYTES,
      signal: controller.signal
    })
      .then(setContent)
      .catch(err => {
        if (!controller.signal.aborted) {
          setError(errorMessage(err));
        }
      });
    return () => controller.abort();
  }, [props.runId, props.path]);

  if (error !== null) {
    return <ErrorMessage message={error} />;
  }
  if (content === null) {
    return <div className="wb-Empty">Loading…</div>;
  }
  return (
    <>
      {content.truncated && (
        <div className="wb-Note">
          Showing the first {formatBytes(TEXT_PREVIEW_BYTES)} of {formatBytes(props.size)}.
        </div>
      )}
      <pre className="wb-ArtifactPreview-text">{content.text}</pre>
    </>
  );
}
