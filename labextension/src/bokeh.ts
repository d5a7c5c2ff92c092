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

let loading: Promise<void> | null = null;

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
    script.async = true;
    script.dataset.workbench = 'bokeh';
    script.onload = () => resolve();
    script.onerror = () => {
      script.remove();
      reject(new Error(`Could not load BokehJS from ${src}.`));
    };
    document.head.appendChild(script);
  });
}

/**
 * Loads BokehJS from the Workbench server unless the version `item` was made
 * with is already on the page (a notebook's output may have loaded another).
 * The script is injected at most once; a failed load may be retried.
 */
export async function loadBokeh(version?: string): Promise<IBokeh> {
  const present = window.Bokeh;
  if (present && (!version || findBokeh(version)?.version === version)) {
    return findBokeh(version) ?? present;
  }
  if (loading === null) {
    loading = injectScript(bokehScriptUrl()).catch(err => {
      loading = null;
      throw err;
    });
  }
  await loading;
  const bokeh = findBokeh(version);
  if (!bokeh) {
    throw new Error('BokehJS loaded but window.Bokeh is missing.');
  }
  return bokeh;
}

/** A chart on the page; `dispose` removes its views and its Bokeh document. */
export interface IEmbeddedChart {
  dispose(): void;
}

/** Draws `item` into `element`, replacing whatever was there. */
export async function embedChart(
  item: BokehJsonItem,
  element: HTMLElement
): Promise<IEmbeddedChart> {
  const bokeh = await loadBokeh(item.doc.version ?? item.version);
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
