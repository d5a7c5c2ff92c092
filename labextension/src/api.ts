/**
 * One typed function per REST endpoint the panel uses (docs/rest-api.md).
 *
 * Every id and path segment is URL-encoded here and nowhere else; a reply that
 * is not ok becomes a `ServerConnection.ResponseError` carrying the server's
 * `message` (the body is `{"error": ..., "message": ...}`).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { BokehJsonItem } from './bokeh';
import type {
  Artifact,
  ArtifactList,
  CompareRequest,
  CompareView,
  Experiment,
  ExperimentCreate,
  ExperimentList,
  KernelStarts,
  MetricHistory,
  Report,
  ReportCreate,
  ReportList,
  ReportSummary,
  ReportUpdate,
  Run,
  RunEnvironment,
  RunsPage,
  RunsQuery,
  ShareCreate,
  ShareLink,
  ShareList,
  User
} from './models';

/** Where the REST API lives, below the server's base URL. */
export const API_PREFIX = 'workbench/api/v1';

/** Where the server serves BokehJS's files (no CDN), below its base URL. */
export const BOKEH_STATIC_PATH = 'workbench/static/bokeh';

/** Options every call accepts. */
export interface IRequestOptions {
  /** Server settings; defaults to the page's (`ServerConnection.makeSettings()`). */
  settings?: ServerConnection.ISettings;
  /** Aborts the request, e.g. when a newer search replaces it. */
  signal?: AbortSignal;
}

let defaultSettings: ServerConnection.ISettings | null = null;

/** The settings used when a call is given none. */
export function serverSettings(
  settings?: ServerConnection.ISettings
): ServerConnection.ISettings {
  if (settings) {
    return settings;
  }
  if (defaultSettings === null) {
    defaultSettings = ServerConnection.makeSettings();
  }
  return defaultSettings;
}

type Query = ReadonlyArray<readonly [string, string]>;

function apiUrl(
  settings: ServerConnection.ISettings,
  segments: readonly string[],
  query: Query = []
): string {
  const url = URLExt.join(
    settings.baseUrl,
    API_PREFIX,
    ...segments.map(encodeURIComponent)
  );
  if (query.length === 0) {
    return url;
  }
  return `${url}?${new URLSearchParams(query.map(([k, v]) => [k, v])).toString()}`;
}

/** Encodes each segment of an artifact path, keeping the `/` between them. */
export function encodeArtifactPath(path: string): string {
  return path
    .split('/')
    .filter(segment => segment !== '')
    .map(encodeURIComponent)
    .join('/');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Turns a reply that is not ok into a ResponseError with the server's message. */
async function responseError(
  response: Response
): Promise<ServerConnection.ResponseError> {
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const body: unknown = await response.json();
    if (isRecord(body) && typeof body.message === 'string' && body.message) {
      message = body.message;
    }
  } catch {
    // Not JSON (a proxy's error page, say): keep the status line.
  }
  return new ServerConnection.ResponseError(response, message);
}

async function send(
  method: string,
  url: string,
  options: IRequestOptions,
  body?: unknown
): Promise<Response> {
  const init: RequestInit = { method, signal: options.signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  const response = await ServerConnection.makeRequest(
    url,
    init,
    serverSettings(options.settings)
  );
  if (!response.ok) {
    throw await responseError(response);
  }
  return response;
}

/** A call whose reply has no body (`204 No Content`). */
async function requestVoid(
  method: string,
  segments: readonly string[],
  options: IRequestOptions = {}
): Promise<void> {
  const url = apiUrl(serverSettings(options.settings), segments);
  await send(method, url, options);
}

async function requestJson<T>(
  method: string,
  segments: readonly string[],
  options: IRequestOptions = {},
  extra: { body?: unknown; query?: Query } = {}
): Promise<T> {
  const url = apiUrl(serverSettings(options.settings), segments, extra.query);
  const response = await send(method, url, options, extra.body);
  // The server's reply is the typed model named by the endpoint (docs/rest-api.md).
  return (await response.json()) as T;
}

/** `GET /me`: who the panel is talking as. */
export function me(options?: IRequestOptions): Promise<User> {
  return requestJson<User>('GET', ['me'], options);
}

/** `GET /experiments`: every experiment with its run counts, newest activity first. */
export async function listExperiments(
  options?: IRequestOptions
): Promise<Experiment[]> {
  const reply = await requestJson<ExperimentList>(
    'GET',
    ['experiments'],
    options
  );
  return reply.experiments;
}

/** `GET /experiments/{id}`. */
export function getExperiment(
  experimentId: number,
  options?: IRequestOptions
): Promise<Experiment> {
  return requestJson<Experiment>(
    'GET',
    ['experiments', String(experimentId)],
    options
  );
}

/**
 * `POST /experiments`: creates an experiment; 409 when the name is taken,
 * unless `exist_ok` asks for the existing one.
 */
export function createExperiment(
  body: ExperimentCreate,
  options?: IRequestOptions
): Promise<Experiment> {
  return requestJson<Experiment>('POST', ['experiments'], options, { body });
}

/** `GET /runs/{run_id}`. */
export function getRun(runId: string, options?: IRequestOptions): Promise<Run> {
  return requestJson<Run>('GET', ['runs', runId], options);
}

/** `POST /runs/search`: one page of runs; a malformed filter is a 400. */
export function searchRuns(
  query: RunsQuery,
  options?: IRequestOptions
): Promise<RunsPage> {
  return requestJson<RunsPage>('POST', ['runs', 'search'], options, {
    body: query
  });
}

/** `GET /runs/{run_id}/metric-history?key=K`: points in step order. */
export function getMetricHistory(
  runId: string,
  key: string,
  options?: IRequestOptions
): Promise<MetricHistory> {
  return requestJson<MetricHistory>(
    'GET',
    ['runs', runId, 'metric-history'],
    options,
    { query: [['key', key]] }
  );
}

/** `GET /runs/{run_id}/environment`: packages, git commit, source snapshot. */
export function getEnvironment(
  runId: string,
  options?: IRequestOptions
): Promise<RunEnvironment> {
  return requestJson<RunEnvironment>(
    'GET',
    ['runs', runId, 'environment'],
    options
  );
}

/** `GET /runs/{run_id}/artifacts`. */
export async function listArtifacts(
  runId: string,
  options?: IRequestOptions
): Promise<Artifact[]> {
  const reply = await requestJson<ArtifactList>(
    'GET',
    ['runs', runId, 'artifacts'],
    options
  );
  return reply.artifacts;
}

/**
 * URL of `GET /runs/{run_id}/artifacts/{path}`, for `<img src>` and download
 * links (the browser sends Jupyter's cookie itself).
 */
export function artifactUrl(
  runId: string,
  path: string,
  opts: { download?: boolean; settings?: ServerConnection.ISettings } = {}
): string {
  const settings = serverSettings(opts.settings);
  const base = URLExt.join(
    settings.baseUrl,
    API_PREFIX,
    'runs',
    encodeURIComponent(runId),
    'artifacts'
  );
  const url = `${base}/${encodeArtifactPath(path)}`;
  return opts.download ? `${url}?download=1` : url;
}

/** What `getArtifactText` read. */
export interface IArtifactText {
  text: string;
  /** True when the file is longer than the bytes read. */
  truncated: boolean;
}

/**
 * `GET /runs/{run_id}/artifacts/{path}` as text, reading at most `maxBytes`
 * (the rest of the body is never downloaded).
 */
export async function getArtifactText(
  runId: string,
  path: string,
  opts: IRequestOptions & { maxBytes?: number } = {}
): Promise<IArtifactText> {
  const maxBytes = opts.maxBytes ?? 200 * 1024;
  const url = artifactUrl(runId, path, { settings: opts.settings });
  const response = await send('GET', url, opts);
  const reader = response.body?.getReader();
  if (!reader) {
    const whole = await response.text();
    return { text: whole.slice(0, maxBytes), truncated: whole.length > maxBytes };
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    chunks.push(value);
    size += value.byteLength;
    if (size > maxBytes) {
      truncated = true;
      await reader.cancel();
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(size, maxBytes));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, Math.min(chunk.byteLength, bytes.length - at));
    bytes.set(part, at);
    at += part.byteLength;
    if (at >= bytes.length) {
      break;
    }
  }
  // A multi-byte character cut at the limit decodes as U+FFFD; that is fine for a preview.
  return { text: new TextDecoder().decode(bytes), truncated };
}

/**
 * `GET /runs/{run_id}/charts/metrics?key=K&key=K2`: a Bokeh `json_item`
 * drawing those metrics by step.
 */
export function getMetricsChart(
  runId: string,
  keys: readonly string[],
  options?: IRequestOptions
): Promise<BokehJsonItem> {
  return requestJson<BokehJsonItem>(
    'GET',
    ['runs', runId, 'charts', 'metrics'],
    options,
    { query: keys.map(key => ['key', key] as const) }
  );
}

/**
 * URL of one of BokehJS's files on the Workbench server: `bokeh.min.js`, or a
 * plugin bundle such as `bokeh-widgets.min.js`.
 */
export function bokehScriptUrl(
  file = 'bokeh.min.js',
  settings?: ServerConnection.ISettings
): string {
  return URLExt.join(
    serverSettings(settings).baseUrl,
    BOKEH_STATIC_PATH,
    encodeURIComponent(file)
  );
}

/** The HTTP status of a failed call, if it got as far as a reply. */
export function errorStatus(error: unknown): number | null {
  return error instanceof ServerConnection.ResponseError
    ? error.response.status
    : null;
}

/** A message for the user from whatever a call threw. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

/**
 * Whether a call failed because it was cancelled through `signal`
 * (`makeRequest` reports an aborted fetch as a NetworkError).
 */
export function isAbort(error: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) {
    return true;
  }
  return error instanceof DOMException && error.name === 'AbortError';
}

/** `GET /kernels/starting`: the caller's kernels that are starting, and what each start is doing. */
export function listKernelStarts(options?: IRequestOptions): Promise<KernelStarts> {
  return requestJson<KernelStarts>('GET', ['kernels', 'starting'], options);
}

/**
 * `POST /compare`: the Compare view of `run_ids` (in that order) as a Bokeh
 * `json_item`; 404 names the first run that is gone or not the caller's to read.
 */
export function compareRuns(
  body: CompareRequest,
  options?: IRequestOptions
): Promise<CompareView> {
  return requestJson<CompareView>('POST', ['compare'], options, { body });
}

/** `GET /reports`: the caller's saved reports. */
export async function listReports(
  options?: IRequestOptions
): Promise<ReportSummary[]> {
  const reply = await requestJson<ReportList>('GET', ['reports'], options);
  return reply.reports;
}

/** `POST /reports`: saves runs as a report with a title and markdown notes. */
export function createReport(
  body: ReportCreate,
  options?: IRequestOptions
): Promise<Report> {
  return requestJson<Report>('POST', ['reports'], options, { body });
}

/** `GET /reports/{id}`. */
export function getReport(
  reportId: string,
  options?: IRequestOptions
): Promise<Report> {
  return requestJson<Report>('GET', ['reports', reportId], options);
}

/** `PATCH /reports/{id}`: changes the title, the notes or the runs. */
export function updateReport(
  reportId: string,
  body: ReportUpdate,
  options?: IRequestOptions
): Promise<Report> {
  return requestJson<Report>('PATCH', ['reports', reportId], options, { body });
}

/** `DELETE /reports/{id}`: its share links stop working too. */
export function deleteReport(
  reportId: string,
  options?: IRequestOptions
): Promise<void> {
  return requestVoid('DELETE', ['reports', reportId], options);
}

/** What `exportReportHtml` downloaded. */
export interface IReportFile {
  blob: Blob;
  /** The name the server suggests (`Content-Disposition`), else one made from the id. */
  filename: string;
}

/** The file name in a `Content-Disposition` header, if it names one. */
export function dispositionFilename(header: string | null): string | null {
  if (!header) {
    return null;
  }
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // A malformed escape: fall back to the plain parameter.
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/.exec(header);
  const name = plain ? (plain[1] ?? plain[2]).trim() : '';
  return name || null;
}

/**
 * `GET /reports/{id}/html`: the report as one standalone HTML file (BokehJS
 * inline, so it opens offline).
 */
export async function exportReportHtml(
  reportId: string,
  options: IRequestOptions = {}
): Promise<IReportFile> {
  const url = apiUrl(serverSettings(options.settings), ['reports', reportId, 'html']);
  const response = await send('GET', url, options);
  const filename =
    dispositionFilename(response.headers.get('Content-Disposition')) ??
    `${reportId}.html`;
  return { blob: await response.blob(), filename };
}

/** `GET /shares`: the caller's share links, revoked and expired ones included. */
export async function listShares(options?: IRequestOptions): Promise<ShareLink[]> {
  const reply = await requestJson<ShareList>('GET', ['shares'], options);
  return reply.shares;
}

/** `POST /shares`: a read-only link to one report that works without a login. */
export function createShare(
  body: ShareCreate,
  options?: IRequestOptions
): Promise<ShareLink> {
  return requestJson<ShareLink>('POST', ['shares'], options, { body });
}

/** `DELETE /shares/{id}`: revokes the link; it answers 404 from then on. */
export function revokeShare(shareId: string, options?: IRequestOptions): Promise<void> {
  return requestVoid('DELETE', ['shares', shareId], options);
}
