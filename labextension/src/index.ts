/**
 * Workbench's JupyterLab plugin: the sidebar, the runs tables and run pages,
 * their commands, and restoring them with the layout.
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

import type { Widget } from '@lumino/widgets';

import { createExperiment, errorMessage } from './api';
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
}

const PALETTE_CATEGORY = 'Workbench';

type RunsPanel = MainAreaWidget<RunsTableWidget>;
type RunPanel = MainAreaWidget<RunPageWidget>;

function isExperimentId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
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
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const { commands, shell } = app;
    const runsTracker = new WidgetTracker<RunsPanel>({ namespace: 'workbench-runs' });
    const runTracker = new WidgetTracker<RunPanel>({ namespace: 'workbench-run' });

    const openRuns = (experimentId: number, name: string): RunsPanel => {
      const existing = runsTracker.find(
        panel => panel.content.experimentId === experimentId
      );
      if (existing) {
        shell.activateById(existing.id);
        return existing;
      }
      const content = new RunsTableWidget(experimentId, name, info => {
        void commands.execute(CommandIDs.openRun, { runId: info.run_id, name: info.name });
      });
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
      onCreate: askAndCreate
    });
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
    }
  }
};

export default plugin;
