/**
 * Start-up progress of container kernels: while a notebook's kernel takes more
 * than a moment to start, a JupyterLab notification says what the server is
 * doing ("Starting a container from …") and for how long, instead of a silent
 * spinner. The server reports the stages at `GET /kernels/starting`.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification, type ISessionContext } from '@jupyterlab/apputils';

import { errorMessage, listKernelStarts } from './api';
import type { KernelStart } from './models';

/** Starts quicker than this show no notification at all. */
const QUIET_MS = 1000;
const POLL_MS = 700;

const STARTING = new Set(['initializing', 'starting', 'restarting', 'autorestarting']);

function isStarting(context: ISessionContext): boolean {
  return !context.isDisposed && STARTING.has(context.kernelDisplayStatus);
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

function describe(start: KernelStart | undefined, label: string): string {
  if (!start) {
    return `Starting the kernel of ${label}…`;
  }
  const seconds = typeof start.stage_seconds === 'number' ? Math.round(start.stage_seconds) : 0;
  return `${start.display_name} for ${label}: ${start.stage}${seconds >= 2 ? ` (${seconds} s)` : ''}`;
}

const followed = new WeakSet<ISessionContext>();

/** Shows the stages of one session's kernel start until the kernel is ready (or the start failed). */
async function follow(context: ISessionContext, label: () => string): Promise<void> {
  if (followed.has(context)) {
    return;
  }
  followed.add(context);
  let id: string | null = null;
  try {
    await sleep(QUIET_MS);
    while (isStarting(context)) {
      let message: string;
      try {
        const { kernels } = await listKernelStarts();
        const kernelId = context.session?.kernel?.id;
        message = describe(kernels.find(k => k.kernel_id === kernelId) ?? kernels[0], label());
      } catch (error) {
        message = `Starting the kernel of ${label()}… (${errorMessage(error)})`;
      }
      if (id === null) {
        id = Notification.emit(message, 'in-progress', { autoClose: false });
      } else {
        Notification.update({ id, message });
      }
      await sleep(POLL_MS);
    }
  } finally {
    followed.delete(context);
    if (id !== null) {
      const ready = !context.isDisposed && context.session?.kernel?.status === 'idle';
      Notification.update({
        id,
        message: ready
          ? `The kernel of ${label()} is ready.`
          : `The kernel of ${label()} did not start.`,
        type: ready ? 'success' : 'warning',
        autoClose: ready ? 2000 : 8000
      });
    }
  }
}

/** Follows the kernel starts (and restarts) of every notebook opened from now on. */
export function showKernelStarts(app: JupyterFrontEnd): void {
  app.docRegistry.addWidgetExtension('Notebook', {
    createNew: (widget, context) => {
      const sessionContext = context.sessionContext;
      const label = () => widget.title.label || context.path;
      const check = () => {
        if (isStarting(sessionContext)) {
          void follow(sessionContext, label);
        }
      };
      sessionContext.statusChanged.connect(check);
      sessionContext.kernelChanged.connect(check);
      check();
    }
  });
}
