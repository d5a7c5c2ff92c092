/**
 * BokehJS, loaded once from the Workbench server, and embedding of the
 * `json_item`s the chart endpoint returns.
 *
 * Only the few members the panel calls are declared.
 */
import { bokehScriptUrl } from './api';

/** What `bokeh.embed.json_item` produces on the server. */
export interface BokehJsonItem {
  doc: { version?: string; roots?: unknown; [key: string]: unknown };
  root_id: string;
  target_id: string | null;
  version?: string;
}

interface IBokehDocument {
  readonly title?: unknown;
}

interface IBokehView {
  remove(): void;
  readonly model?: { readonly document: IBokehDocument | null };
}

/** BokehJS's `ViewManager`: the views one `embed_item` call built. */
interface IBokehViewManager {
  readonly roots: IBokehView[];
  clear(): void;
}

/** The slice of the BokehJS module the panel uses. */
export interface IBokeh {
  readonly version: string;
  readonly documents: IBokehDocument[];
  readonly embed: {
    embed_item(
      item: BokehJsonItem,
      target?: string | HTMLElement
    ): Promise<IBokehViewManager>;
  };
}

declare global {
  interface Window {
    /**
     * Set by bokeh.min.js. Each loaded version is also kept as
     * `Bokeh[version]` when several are on the page.
     */
    Bokeh?: IBokeh;
  }
}

/**
 * BokehJS's plugin bundles, each loaded after `bokeh.min.js` when a document
 * needs it: widgets (Select, Slider, Tabs...), tables (DataTable) and WebGL
 * (figures drawn with `output_backend="webgl"`; without it they fall back to
 * canvas). The file names are bokeh's own, as the server serves them.
 */
export type BokehBundle = 'widgets' | 'tables' | 'gl';

/** Every plugin bundle, in the order they load. */
export const ALL_BUNDLES: readonly BokehBundle[] = ['widgets', 'tables', 'gl'];

/**
 * What each bundle adds to `window.Bokeh` when it has been loaded (by us or
 * by a notebook's output); loading a bundle twice registers its models twice.
 * The WebGL bundle adds no name.
 */
const BUNDLE_EXPORTS: Readonly<Record<BokehBundle, string | null>> = {
  widgets: 'Widgets',
  tables: 'Tables',
  gl: null
};

let loading: Promise<void> | null = null;
const bundleLoads = new Map<BokehBundle, Promise<void>>();

function isBokeh(value: unknown): value is IBokeh {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const embed = (value as { embed?: unknown }).embed;
  return (
    typeof embed === 'object' &&
    embed !== null &&
    typeof (embed as { embed_item?: unknown }).embed_item === 'function'
  );
}

/** The loaded BokehJS matching `version`, else whichever is loaded. */
function findBokeh(version: string | undefined): IBokeh | null {
  const root = window.Bokeh;
  if (!root) {
    return null;
  }
  if (version && root.version !== version) {
    const exact: unknown = (root as unknown as Record<string, unknown>)[version];
    if (isBokeh(exact)) {
      return exact;
    }
  }
  return root;
}

function injectScript(src: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    // Plugins must run after bokeh.min.js and in order: no `async`.
    script.async = false;
    script.dataset.workbench = 'bokeh';
    script.onload = () => resolve();
    script.onerror = () => {
      script.remove();
      reject(new Error(`Could not load BokehJS from ${src}.`));
    };
    document.head.appendChild(script);
  });
}

function hasBundle(bokeh: IBokeh, bundle: BokehBundle): boolean {
  const name = BUNDLE_EXPORTS[bundle];
  return name !== null && name in (bokeh as unknown as Record<string, unknown>);
}

/** Loads one plugin bundle into the page's BokehJS, once. */
function loadBundle(bokeh: IBokeh, bundle: BokehBundle): Promise<void> {
  if (hasBundle(bokeh, bundle)) {
    return Promise.resolve();
  }
  let load = bundleLoads.get(bundle);
  if (!load) {
    load = injectScript(bokehScriptUrl(`bokeh-${bundle}.min.js`)).catch(err => {
      bundleLoads.delete(bundle);
      throw err;
    });
    bundleLoads.set(bundle, load);
  }
  return load;
}

/**
 * Loads BokehJS from the Workbench server unless the version `item` was made
 * with is already on the page (a notebook's output may have loaded another),
 * then the plugin `bundles` the document needs. Each script is injected at
 * most once; a failed load may be retried.
 */
export async function loadBokeh(
  version?: string,
  bundles: readonly BokehBundle[] = []
): Promise<IBokeh> {
  const present = window.Bokeh;
  let bokeh: IBokeh | null = null;
  if (present && (!version || findBokeh(version)?.version === version)) {
    bokeh = findBokeh(version) ?? present;
  } else {
    if (loading === null) {
      loading = injectScript(bokehScriptUrl()).catch(err => {
        loading = null;
        throw err;
      });
    }
    await loading;
    bokeh = findBokeh(version);
  }
  if (!bokeh) {
    throw new Error('BokehJS loaded but window.Bokeh is missing.');
  }
  for (const bundle of ALL_BUNDLES.filter(b => bundles.includes(b))) {
    await loadBundle(bokeh, bundle);
  }
  return bokeh;
}

/** A chart on the page; `dispose` removes its views and its Bokeh document. */
export interface IEmbeddedChart {
  dispose(): void;
}

/**
 * Draws `item` into `element`, replacing whatever was there; `bundles` are the
 * BokehJS plugins its models need (the run page's chart needs none).
 */
export async function embedChart(
  item: BokehJsonItem,
  element: HTMLElement,
  bundles: readonly BokehBundle[] = []
): Promise<IEmbeddedChart> {
  const bokeh = await loadBokeh(item.doc.version ?? item.version, bundles);
  element.replaceChildren();
  const views = await bokeh.embed.embed_item(item, element);
  return {
    dispose: () => {
      const docs = new Set<IBokehDocument>();
      for (const view of views.roots) {
        const doc = view.model?.document;
        if (doc) {
          docs.add(doc);
        }
      }
      views.clear();
      // Bokeh keeps every document it made in a global list; drop ours.
      for (const doc of docs) {
        const at = bokeh.documents.indexOf(doc);
        if (at >= 0) {
          bokeh.documents.splice(at, 1);
        }
      }
      element.replaceChildren();
    }
  };
}

/** Whether a reply's `item` is a Bokeh `json_item` (the server's, unless something is badly wrong). */
export function isJsonItem(value: unknown): value is BokehJsonItem {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const { doc, root_id } = value as { doc?: unknown; root_id?: unknown };
  return typeof doc === 'object' && doc !== null && typeof root_id === 'string';
}
