/**
 * Workbench's JupyterLab plugin: the sidebar, the runs tables, run pages and
 * Compare views (reports), their commands, and restoring them with the layout.
 */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  showErrorMessage,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import type { Widget } from '@lumino/widgets';

import { createExperiment, errorMessage } from './api';
import { CompareWidget, type CompareSource } from './compareView';
import { MAX_COMPARE } from './runSelection';
import { showKernelStarts } from './kernelStarts';
import { RunPageWidget } from './runPage';
import { RunsTableWidget } from './runsTable';
import { SidebarWidget } from './sidebar';

/** Command ids. */
export namespace CommandIDs {
  export const openExperiments = 'workbench:open-experiments';
  export const refreshExperiments = 'workbench:refresh-experiments';
  export const createExperiment = 'workbench:create-experiment';
  export const openRuns = 'workbench:open-runs';
  export const openRun = 'workbench:open-run';
  export const openRunById = 'workbench:open-run-by-id';
  export const compareRuns = 'workbench:compare-runs';
  export const openReport = 'workbench:open-report';
  /** What the layout restorer calls: `{reportId}` or `{runIds}`. */
  export const openCompare = 'workbench:open-compare';
}

const PALETTE_CATEGORY = 'Workbench';

type RunsPanel = MainAreaWidget<RunsTableWidget>;
type RunPanel = MainAreaWidget<RunPageWidget>;
type ComparePanel = MainAreaWidget<CompareWidget>;

function isExperimentId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function isRunIds(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(id => typeof id === 'string' && id !== '')
  );
}

/** Wraps `content` for the main area; the panel's title follows the content's. */
function mainAreaPanel<T extends Widget>(
  content: T
): MainAreaWidget<T> {
  const panel = new MainAreaWidget<T>({ content });
  panel.id = content.id;
  panel.title.closable = true;
  return panel;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'workbench:plugin',
  description: 'Experiments, runs, metrics and artifacts of Workbench.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer, IRenderMimeRegistry],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    rendermime: IRenderMimeRegistry | null
  ) => {
    const { commands, shell } = app;
    const runsTracker = new WidgetTracker<RunsPanel>({ namespace: 'workbench-runs' });
    const runTracker = new WidgetTracker<RunPanel>({ namespace: 'workbench-run' });
    const compareTracker = new WidgetTracker<ComparePanel>({
      namespace: 'workbench-compare'
    });
    // Set once the sidebar exists: reports and share links changed.
    let refreshSidebar = (): void => undefined;

    const openRuns = (experimentId: number, name: string): RunsPanel => {
      const existing = runsTracker.find(
        panel => panel.content.experimentId === experimentId
      );
      if (existing) {
        shell.activateById(existing.id);
        return existing;
      }
      const content = new RunsTableWidget(
        experimentId,
        name,
        info => {
          void commands.execute(CommandIDs.openRun, { runId: info.run_id, name: info.name });
        },
        runIds => {
          void commands.execute(CommandIDs.compareRuns, { runIds });
        }
      );
      const panel = mainAreaPanel(content);
      void runsTracker.add(panel);
      shell.add(panel, 'main');
      shell.activateById(panel.id);
      return panel;
    };

    const openRun = (runId: string, name?: string): RunPanel => {
      const existing = runTracker.find(panel => panel.content.runId === runId);
      if (existing) {
        shell.activateById(existing.id);
        return existing;
      }
      const panel = mainAreaPanel(new RunPageWidget(runId, name));
      void runTracker.add(panel);
      shell.add(panel, 'main');
      shell.activateById(panel.id);
      return panel;
    };

    const openCompare = (source: CompareSource): ComparePanel => {
      if (source.kind === 'report') {
        const existing = compareTracker.find(
          panel => panel.content.reportId === source.reportId
        );
        if (existing) {
          shell.activateById(existing.id);
          return existing;
        }
      }
      const content = new CompareWidget(source, {
        rendermime,
        onChanged: () => refreshSidebar(),
        onReport: widget => {
          // Saved: the layout now restores it as that report.
          const panel = compareTracker.find(p => p.content === widget);
          if (panel) {
            void compareTracker.save(panel);
          }
        }
      });
      const panel = mainAreaPanel(content);
      void compareTracker.add(panel);
      shell.add(panel, 'main');
      shell.activateById(panel.id);
      return panel;
    };

    const askAndCreate = async (): Promise<void> => {
      const answer = await InputDialog.getText({
        title: 'New experiment',
        label: 'Name',
        placeholder: 'e.g. churn-model'
      });
      const name = answer.value?.trim();
      if (!answer.button.accept || !name) {
        return;
      }
      try {
        const experiment = await createExperiment({ name });
        openRuns(experiment.id, experiment.name);
      } catch (err) {
        await showErrorMessage('Could not create the experiment', errorMessage(err));
      }
    };

    const sidebar = new SidebarWidget({
      onOpen: experiment => void commands.execute(CommandIDs.openRuns, {
        experimentId: experiment.id,
        name: experiment.name
      }),
      onCreate: askAndCreate,
      onOpenReport: report =>
        void commands.execute(CommandIDs.openReport, { reportId: report.id }),
      onReportDeleted: reportId => {
        compareTracker
          .filter(panel => panel.content.reportId === reportId)
          .forEach(panel => panel.dispose());
      }
    });
    refreshSidebar = () => sidebar.refresh();
    shell.add(sidebar, 'left', { rank: 850 });
    if (restorer) {
      restorer.add(sidebar, sidebar.id);
    }
    showKernelStarts(app);

    commands.addCommand(CommandIDs.openExperiments, {
      label: 'Workbench: Open Experiments',
      caption: 'Show the Workbench sidebar with the list of experiments',
      execute: () => {
        shell.activateById(sidebar.id);
        sidebar.refresh();
      }
    });

    commands.addCommand(CommandIDs.refreshExperiments, {
      label: 'Workbench: Refresh Experiments',
      execute: () => sidebar.refresh()
    });

    commands.addCommand(CommandIDs.createExperiment, {
      label: 'Workbench: New Experiment…',
      execute: async () => {
        await askAndCreate();
        sidebar.refresh();
      }
    });

    commands.addCommand(CommandIDs.openRuns, {
      label: args =>
        typeof args.name === 'string' ? `Runs: ${args.name}` : 'Workbench: Open Runs',
      execute: args => {
        const id = args.experimentId;
        if (!isExperimentId(id)) {
          throw new Error(`${CommandIDs.openRuns} needs a numeric experimentId.`);
        }
        // The table fetches the experiment and corrects the name if needed.
        return openRuns(id, typeof args.name === 'string' ? args.name : `#${id}`);
      }
    });

    commands.addCommand(CommandIDs.openRun, {
      label: args =>
        typeof args.name === 'string' ? `Run: ${args.name}` : 'Workbench: Open Run',
      execute: args => {
        const runId = args.runId;
        if (typeof runId !== 'string' || runId === '') {
          throw new Error(`${CommandIDs.openRun} needs a runId.`);
        }
        return openRun(runId, typeof args.name === 'string' ? args.name : undefined);
      }
    });

    commands.addCommand(CommandIDs.openRunById, {
      label: 'Workbench: Open Run by ID…',
      execute: async () => {
        const answer = await InputDialog.getText({ title: 'Open run', label: 'Run id' });
        const runId = answer.value?.trim();
        if (answer.button.accept && runId) {
          openRun(runId);
        }
      }
    });

    commands.addCommand(CommandIDs.compareRuns, {
      label: args =>
        isRunIds(args.runIds)
          ? `Compare ${args.runIds.length} runs`
          : 'Workbench: Compare Runs',
      execute: args => {
        const runIds = args.runIds;
        if (!isRunIds(runIds)) {
          throw new Error(`${CommandIDs.compareRuns} needs runIds, a list of run ids.`);
        }
        if (runIds.length > MAX_COMPARE) {
          throw new Error(`Compare takes at most ${MAX_COMPARE} runs, not ${runIds.length}.`);
        }
        return openCompare({ kind: 'runs', runIds });
      }
    });

    commands.addCommand(CommandIDs.openReport, {
      label: 'Workbench: Open Report',
      execute: args => {
        const reportId = args.reportId;
        if (typeof reportId !== 'string' || reportId === '') {
          throw new Error(`${CommandIDs.openReport} needs a reportId.`);
        }
        return openCompare({ kind: 'report', reportId });
      }
    });

    commands.addCommand(CommandIDs.openCompare, {
      label: 'Workbench: Open Compare View',
      execute: args =>
        typeof args.reportId === 'string'
          ? commands.execute(CommandIDs.openReport, { reportId: args.reportId })
          : commands.execute(CommandIDs.compareRuns, { runIds: args.runIds ?? null })
    });

    if (palette) {
      for (const command of [
        CommandIDs.openExperiments,
        CommandIDs.refreshExperiments,
        CommandIDs.createExperiment,
        CommandIDs.openRunById
      ]) {
        palette.addItem({ command, category: PALETTE_CATEGORY });
      }
    }

    if (restorer) {
      void restorer.restore(runsTracker, {
        command: CommandIDs.openRuns,
        args: panel => ({
          experimentId: panel.content.experimentId,
          name: panel.content.experimentName
        }),
        name: panel => String(panel.content.experimentId)
      });
      void restorer.restore(runTracker, {
        command: CommandIDs.openRun,
        args: panel => ({ runId: panel.content.runId }),
        name: panel => panel.content.runId
      });
      // A saved view comes back as its report; an unsaved one as its runs.
      void restorer.restore(compareTracker, {
        command: CommandIDs.openCompare,
        args: panel => {
          const reportId = panel.content.reportId;
          return reportId !== null ? { reportId } : { runIds: [...panel.content.runIds] };
        },
        name: panel => panel.content.reportId ?? panel.content.id
      });
    }
  }
};

export default plugin;
